/** `iotactl provision`: makes a device key and CSR here, gets the certificate, writes key, cert and CA to a folder. */

import { resolve } from "node:path";
import { createCsrPem } from "../../core/csr.ts";
import type { ProvisionBody } from "../../core/wire.ts";
import type { Command, CommandContext } from "../command.ts";
import {
  GROUP_FLAG,
  checkName,
  groupFlag,
  positionals,
  requiredFlag,
  stringFlag,
} from "../flags.ts";
import { EXIT, CliError, isCliError, usageError } from "../exit-codes.ts";
import { readSecretFile, readSecretStdin, singleLineSecret } from "../secrets.ts";
import { printJson } from "../output.ts";
import { provisionPaths, storeIssued, storeKey, type StoredKey } from "../provision-folder.ts";

/** The credential flags: exactly one is needed; a value of "-" reads stdin. */
async function credential(ctx: CommandContext): Promise<{ token: string } | { secret: string }> {
  const token = stringFlag(ctx.args, "token");
  const secret = stringFlag(ctx.args, "secret");
  const secretFile = stringFlag(ctx.args, "secret-file");
  const given = [token, secret, secretFile].filter((x) => x !== undefined).length;
  if (given !== 1)
    throw usageError("give exactly one of --token T, --secret S or --secret-file FILE");
  if (token !== undefined)
    return {
      token:
        token === "-"
          ? await readSecretStdin(ctx.io, "the device token")
          : singleLineSecret(token, "--token"),
    };
  if (secret !== undefined)
    return {
      secret:
        secret === "-"
          ? await readSecretStdin(ctx.io, "the provisioning secret")
          : singleLineSecret(secret, "--secret"),
    };
  return { secret: readSecretFile(ctx.io, secretFile ?? "", "--secret-file") };
}

/** The `provision` command. */
export const provision: Command = {
  words: ["provision"],
  summary: "provision a device from this host: key, CSR, certificate into a folder",
  usage: "provision -g <group> <device> (--token T | --secret S | --secret-file F) --out DIR",
  description: `Provisions a device without iotad: generates an ECDSA P-256 key and a CSR on this host,
sends the CSR with the device token or the group's provisioning secret, and writes
DIR/key.pem (0600), DIR/cert.pem and DIR/ca.pem (DIR is created 0700). Prints the folder on stdout.
Prefer iotad on the device: this flow means moving a private key to the device, and the
certificate it writes is not renewed by anything. A value of "-" reads the token or secret
from stdin. key.pem is written before anything is sent, so a folder that cannot hold it (no
permission, a full disk) stops the command with nothing issued. A folder already holding key.pem
is refused (exit 4), but for the key a run for the same device left without its certificate (it could
not write it, or got no answer from the server; key.pending-for names the device): the same command
again is finished with that key and gets the certificate the server issued for it.`,
  flags: [
    GROUP_FLAG,
    {
      name: "token",
      type: "string",
      value: "TOKEN",
      help: "the device token (see iotactl gen config), or - for stdin",
    },
    {
      name: "secret",
      type: "string",
      value: "SECRET",
      help: "the group's provisioning secret, or - for stdin",
    },
    {
      name: "secret-file",
      type: "string",
      value: "FILE",
      help: "a file holding the provisioning secret (e.g. prov_secret.txt)",
    },
    {
      name: "out",
      short: "o",
      type: "string",
      value: "DIR",
      help: "where to write key.pem, cert.pem and ca.pem",
    },
  ],
  examples: [
    "iotactl provision -g room2-lights test-device-123 --secret-file prov_secret.txt --out ./test-device-123",
    "iotactl provision -g room2-lights test-device-123 --secret - --out /mnt/device/etc/iota < prov_secret.txt",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    const device = checkName(name, "device name");
    const paths = provisionPaths(resolve(ctx.io.cwd, requiredFlag(ctx.args, "out", "(--out DIR)")));
    const cred = await credential(ctx);
    const client = ctx.anonymous();
    // Hint: the key is stored before the CSR is sent, so a folder that cannot hold it (EACCES, ENOSPC)
    // stops the command while nothing is issued, instead of leaving a provisioned device without its key.
    const stored = await storeKey(ctx.io, paths, `${group}/${device}`);
    const body: ProvisionBody = {
      group,
      device,
      csr: await createCsrPem(stored.keys, device),
      ...cred,
    };
    const issued = await client.provision(body).catch((error: unknown) => {
      throw unissued(error, stored, paths.key);
    });
    storeIssued(ctx.io, paths, issued, group, device);
    if (ctx.json)
      printJson(ctx.io, {
        dir: paths.dir,
        key: paths.key,
        cert: paths.cert,
        ca: paths.ca,
        serial: issued.serial,
        notAfter: issued.notAfter,
        renewAt: issued.renewAt,
      });
    else ctx.io.stdout.write(`${paths.dir}\n`);
    ctx.console.info(
      `Provisioned ${group}/${device}: key.pem (0600), cert.pem and ca.pem in ${paths.dir}; certificate valid until ${issued.notAfter}.`,
    );
    return 0;
  },
};

/**
 * A provision request that got no certificate. A refusal by the server issued nothing: the key made for it
 * goes. Without an answer the server may have issued one, so the key stays for the same command again.
 */
function unissued(error: unknown, stored: StoredKey, keyPath: string): unknown {
  if (stored.kept) return error;
  if (isCliError(error) && error.exitCode === EXIT.UNREACHABLE)
    return new CliError(
      error.exitCode,
      `${error.message}; the device key is kept in ${keyPath}: run the same command again, which sends that key`,
    );
  stored.discard();
  return error;
}
