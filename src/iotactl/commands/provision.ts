/** `iotactl provision`: makes a device key and CSR here, gets the certificate, writes key, cert and CA to a folder. */

import { join, resolve } from "node:path";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../core/csr.ts";
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
import { EXIT, CliError, usageError } from "../exit-codes.ts";
import { readSecretFile, readSecretStdin, singleLineSecret } from "../secrets.ts";
import { printJson } from "../output.ts";

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
from stdin. A folder already holding key.pem is refused (exit 4).`,
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
    const out = resolve(ctx.io.cwd, requiredFlag(ctx.args, "out", "(--out DIR)"));
    const keyPath = join(out, "key.pem");
    if (ctx.io.files.exists(keyPath))
      throw new CliError(
        EXIT.CONFLICT,
        `${keyPath} already exists; choose another --out folder or remove it first`,
      );
    const cred = await credential(ctx);
    const client = ctx.anonymous();
    // Hint: the folder is made first, so one that cannot be made stops it before a certificate is issued.
    const made = !ctx.io.files.exists(out);
    ctx.io.files.mkdir(out, 0o700);
    const keys = await generateDeviceKey();
    const body: ProvisionBody = { group, device, csr: await createCsrPem(keys, device), ...cred };
    const issued = await client.provision(body).catch((error: unknown) => {
      if (made) ctx.io.files.removeEmptyDir(out);
      throw error;
    });
    ctx.io.files.writeFile(keyPath, await exportPrivateKeyPem(keys.privateKey), 0o600);
    ctx.io.files.writeFile(join(out, "cert.pem"), issued.certificate, 0o644);
    ctx.io.files.writeFile(join(out, "ca.pem"), issued.ca, 0o644);
    if (ctx.json)
      printJson(ctx.io, {
        dir: out,
        key: keyPath,
        cert: join(out, "cert.pem"),
        ca: join(out, "ca.pem"),
        serial: issued.serial,
        notAfter: issued.notAfter,
        renewAt: issued.renewAt,
      });
    else ctx.io.stdout.write(`${out}\n`);
    ctx.console.info(
      `Provisioned ${group}/${device}: key.pem (0600), cert.pem and ca.pem in ${out}; certificate valid until ${issued.notAfter}.`,
    );
    return 0;
  },
};
