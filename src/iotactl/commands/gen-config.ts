/** `iotactl gen config`: one iotad configuration per device, holding its device token and never the group secret. */

import { join, resolve } from "node:path";
import type { AgentConfigInput } from "../../core/agent-config.ts";
import { deviceToken } from "../../core/token.ts";
import type { Command, CommandContext } from "../command.ts";
import { FROM_FILE_FLAG, GROUP_FLAG, checkName, groupFlag, stringFlag } from "../flags.ts";
import { CliError, EXIT, usageError } from "../exit-codes.ts";
import { dedupe, readNameList, repeatedWarning } from "../names-input.ts";
import { readSecretFile, readSecretStdin } from "../secrets.ts";
import { counted, printJson } from "../output.ts";
import { stopOnInterrupt } from "../io.ts";
import { fileFailure } from "../file-errors.ts";
import { goldenFlags, writeGolden } from "../golden-config.ts";
import { checkConfig, configTemplate } from "../gen-config-template.ts";
import { checkDeviceNames, checkGroupSecret } from "../gen-config-check.ts";
import type { NamedText } from "../write-many.ts";

/** Progress is redrawn after this many files, not after each of 100,000. */
const PROGRESS_EVERY = 500;

const OFFLINE_RISK =
  '--offline: nothing was checked with the server; a wrong group, a secret that is not the group\'s current one, or a device never created shows only when the devices first boot (401 "The device token is not valid", or 404)';

/** The secret from --secret-file or stdin, and how messages name it (never by its value). */
async function readSecret(
  ctx: CommandContext,
  file: string | undefined,
): Promise<{ secret: string; source: string }> {
  if (file !== undefined)
    return {
      secret: readSecretFile(ctx.io, file, "--secret-file"),
      source: `--secret-file ${file}`,
    };
  return {
    secret: await readSecretStdin(ctx.io, "the provisioning secret"),
    source: "the secret read from stdin",
  };
}

/** The `gen config` command. */
export const genConfig: Command = {
  words: ["gen", "config"],
  summary:
    "write one iotad config per device (device token, no group secret), or one golden config for all",
  usage:
    "gen config -g GROUP (NAME... | --from-file FILE | --golden --device-from SOURCE [--prefix P]) (--secret-file F | --secret -) [--offline] [--out DIR | FILE.json]",
  description: `Writes DIR/<device>.json (mode 0600) for every device: an iotad configuration holding the
server URL, group, device and its device token. The token is derived from the group's
provisioning secret here, offline; the secret itself is never written, so a device taken apart
reveals nothing about its siblings. Copy each file to /etc/iotad/config.json on its device.
The secret comes from --secret-file (e.g. prov_secret.txt, as docs/mass-provisioning.md writes it) or stdin (--secret -).

Before it writes anything, it checks with the server iotactl is configured for: the group exists
(else exit 3), the secret is the group's current one (else exit 5, as for provision; compared through the group's
secret check, the secret itself is never sent), and every device can provision: created in advance
(enrollment "registered"), or in a group enrolling "any" named by its pattern or created (else exit 3,
naming how many are missing and the first few). Devices already provisioned or revoked are a warning.
No server configured, or none reachable: exit 6. --offline skips every check (an air-gapped factory
PC); then a mistake shows only when the devices first boot.

For an https server, each config gets "serverCa", the only CA the device trusts for the server
(and its MQTT broker unless --mqtt-ca): --server-ca FILE when given, else the CA pinned for the
server iotactl talks to (iotactl configure --fingerprint), when --server-url is that same server.
For another https URL without --server-ca, devices use their system roots (a warning says so).
A plain http:// server beyond loopback is refused unless --insecure, which writes
"insecureHttp": true into each config.

--golden writes ONE config for a whole production run (--out FILE.json): each device names
itself from its hardware, "device": { "from": SOURCE, "prefix": P } with SOURCE file:PATH
(e.g. file:/etc/machine-id), mac:IFACE or dmi:product_serial, and provisions with the group's
secret, which the file therefore holds. What a copy of it allows depends on the group's
enrollment (iotactl add group / set group --enrollment); iotactl warns on stderr.`,
  flags: [
    GROUP_FLAG,
    FROM_FILE_FLAG,
    {
      name: "golden",
      type: "boolean",
      help: "one config for every device of an image, named by its hardware (--device-from); holds the group secret",
    },
    {
      name: "device-from",
      type: "string",
      value: "SOURCE",
      help: "with --golden: file:PATH, mac:IFACE or dmi:product_serial (or another DMI id)",
    },
    {
      name: "prefix",
      type: "string",
      value: "P",
      help: "with --golden: put before every hardware name (e.g. dev-)",
    },
    {
      name: "secret-file",
      type: "string",
      value: "FILE",
      help: "the group's provisioning secret (e.g. prov_secret.txt)",
    },
    {
      name: "secret",
      type: "string",
      value: "-",
      help: 'read the provisioning secret from stdin (only "-" is accepted)',
    },
    {
      name: "offline",
      type: "boolean",
      help: "write without asking the server (air-gapped): the group, the secret and the names go unchecked",
    },
    {
      name: "out",
      short: "o",
      type: "string",
      value: "DIR",
      help: "where to write <device>.json (default: the current folder; created 0700); with --golden, the file",
    },
    {
      name: "server-url",
      type: "string",
      value: "URL",
      help: "the server URL the devices use (default: the one iotactl uses)",
    },
    {
      name: "server-ca",
      type: "string",
      value: "FILE",
      help: "the CA (PEM) devices pin for --server-url (default: the CA pinned for iotactl's server, when it is the same server)",
    },
    {
      name: "mqtt-url",
      type: "string",
      value: "URL",
      help: "MQTT broker for readiness messages (mqtts://host:8883)",
    },
    {
      name: "mqtt-ca",
      type: "string",
      value: "FILE",
      help: "the broker's server CA (PEM), embedded in each config",
    },
    {
      name: "status-listen",
      type: "string",
      value: "HOST:PORT",
      help: "iotad's status endpoint (default 127.0.0.1:7780)",
    },
    {
      name: "data-dir",
      type: "string",
      value: "DIR",
      help: "where iotad keeps key and certificate (default /var/lib/iotad)",
    },
  ],
  examples: [
    "iotactl gen config -g room2-lights --from-file device_names.txt --secret-file prov_secret.txt --out configs",
    "iotactl gen config -g room2-lights test-device-1 test-device-2 --secret - --out configs < prov_secret.txt",
    "iotactl gen config -g room2-lights -f device_names.txt --secret-file prov_secret.txt \\\n      --server-url https://iota.example.com --mqtt-url mqtts://broker.example.com:8883 --mqtt-ca broker-ca.pem",
    "iotactl gen config -g room2-lights -f device_names.txt --secret-file prov_secret.txt --offline  # air-gapped: nothing checked",
    "iotactl gen config -g line-7 --golden --device-from file:/etc/machine-id --prefix dev- \\\n      --secret-file prov_secret.txt --out golden.json",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const golden = ctx.args.values.golden === true ? goldenFlags(ctx) : undefined;
    if (golden === undefined)
      for (const flag of ["device-from", "prefix"])
        if (stringFlag(ctx.args, flag) !== undefined)
          throw usageError(`--${flag} goes with --golden`);
    const file = stringFlag(ctx.args, "from-file");
    const secretFile = stringFlag(ctx.args, "secret-file");
    const secretFlag = stringFlag(ctx.args, "secret");
    if (file !== undefined && ctx.args.positionals.length > 0)
      throw usageError("give device names or --from-file, not both");
    if (file === undefined && ctx.args.positionals.length === 0 && golden === undefined)
      throw usageError("give device names, --from-file FILE, or --golden --device-from SOURCE");
    if (secretFlag !== undefined && secretFlag !== "-") {
      throw usageError(
        '--secret only accepts "-" (read from stdin), so the secret never appears in the process list; or use --secret-file FILE',
      );
    }
    if ((secretFile === undefined) === (secretFlag === undefined))
      throw usageError("give exactly one of --secret-file FILE and --secret -");
    if (file === "-" && secretFlag === "-")
      throw usageError("--from-file - and --secret - cannot both read stdin; put one in a file");
    const out = resolve(ctx.io.cwd, stringFlag(ctx.args, "out") ?? ".");
    const offline = ctx.args.values.offline === true;
    const base = configTemplate(ctx, group);
    if (golden !== undefined) {
      checkConfig({ ...base, device: { from: golden.from, prefix: golden.prefix }, secret: "x" });
      const { secret, source } = await readSecret(ctx, secretFile);
      // Hint: the group's enrollment decides what the secret in the image allows; the warning says which.
      const view = offline ? undefined : (await checkGroupSecret(ctx, group, secret, source)).view;
      return writeGolden(ctx, golden, base, secret, group, view);
    }
    checkConfig({ ...base, device: "x", token: "x" });
    const listed = file === undefined ? ctx.args.positionals : await readNameList(ctx.io, file);
    const { names, duplicates, repeated } = dedupe(listed);
    if (names.length === 0) throw usageError(`${file} holds no device names`);
    for (const name of names) checkName(name, `device name (${file ?? "argument"})`);
    if (duplicates > 0) ctx.console.warn(repeatedWarning(duplicates, repeated));
    const { secret, source } = await readSecret(ctx, secretFile);
    if (offline) ctx.console.warn(OFFLINE_RISK);
    else {
      const { view, client } = await checkGroupSecret(ctx, group, secret, source);
      await checkDeviceNames(ctx, client, view, names);
    }
    try {
      ctx.io.files.mkdir(out, 0o700);
    } catch (error) {
      throw fileFailure(error, `cannot write iotad configs to ${out}`);
    }
    const interrupt = stopOnInterrupt(ctx.io);
    // Hint: a stop ends the list here; the configs in flight are finished whole and the folder synced.
    function* configs(): Generator<NamedText> {
      for (const device of names) {
        if (interrupt.stopped()) return;
        const config: AgentConfigInput = {
          ...base,
          device,
          token: deviceToken(secret, group, device),
        };
        yield { name: `${device}.json`, data: `${JSON.stringify(config, null, 2)}\n` };
      }
    }
    const total = names.length;
    let written = 0;
    ctx.console.progress(0, total);
    const count = await ctx.io.files
      .writeFiles(out, configs(), 0o600, (done) => {
        written = done;
        if (done % PROGRESS_EVERY === 0 || done === total) ctx.console.progress(done, total);
      })
      .catch((error: unknown) => {
        // Hint: like a Ctrl-C, a full disk midway leaves whole configs only; the same command finishes the job.
        throw fileFailure(
          error,
          `cannot write iotad configs to ${out}`,
          `${written} of ${total} written, each whole; once the cause is fixed, run the same command again to write them all`,
        );
      })
      .finally(interrupt.release);
    ctx.console.endProgress();
    if (count < total)
      throw new CliError(
        EXIT.INTERRUPTED,
        `interrupted: ${counted(count, "iotad config")} of ${total} written to ${out}, each whole; run the same command again to write them all`,
      );
    if (ctx.json) printJson(ctx.io, { dir: out, files: names.map((n) => join(out, `${n}.json`)) });
    else ctx.io.stdout.write(`${out}\n`);
    ctx.console.info(
      `Wrote ${counted(count, "iotad config")} to ${out}; copy each <device>.json to /etc/iotad/config.json on its device.`,
    );
    return 0;
  },
};
