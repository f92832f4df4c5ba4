/** Help texts: the overview, a command group's list, and one command's usage with examples and exit codes. */

import { VERSION } from "../core/version.ts";
import type { Command } from "./command.ts";
import { EXIT_CODES_HELP } from "./exit-codes.ts";
import { GLOBAL_FLAGS, type Flag } from "./flags.ts";
import { DEFAULT_SERVER, LOCAL_CA_FILE, LOCAL_TOKEN_FILE } from "./config.ts";

/** Where settings come from, shown in the overview and in `configure --help`. */
export const SETTINGS_HELP = `Settings:
  The server: IOTA_SERVER, else the current server of the config file written by
  "iotactl configure" ($XDG_CONFIG_HOME/iotactl/config.json, ~/.config/... when unset),
  else ${DEFAULT_SERVER} (the local service "npm start" runs).
  The admin token: IOTA_TOKEN, else the token saved for THAT server, else (for
  ${DEFAULT_SERVER} only) ${LOCAL_TOKEN_FILE} in the working folder or the nearest
  folder above it that holds one (yours). A token is never sent to another
  server: IOTA_SERVER naming a server without a token of its own gets none unless
  IOTA_TOKEN is set too.
  The trust (https): IOTA_CA_FILE, else the CA pinned for that server, else (for
  ${DEFAULT_SERVER} only) ${LOCAL_CA_FILE} beside that token, else the system
  roots. A pinned CA is the only trust: no public CA can vouch for that server.
  Plain http:// is refused beyond loopback (localhost, 127.0.0.0/8, [::1]) unless --insecure.
  NO_COLOR (any value) turns off colors; colors and progress bars appear only on a terminal.
`;

function flagLines(flags: Flag[]): string {
  const rows = flags.map((f) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
    return [left, f.help] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`).join("\n");
}

/** The full help of one command. */
export function commandHelp(command: Command): string {
  return `Usage: iotactl ${command.usage}

${command.description}

Flags:
${flagLines([...command.flags, ...GLOBAL_FLAGS])}

Examples:
${command.examples.map((e) => `  ${e}`).join("\n")}

${EXIT_CODES_HELP}`;
}

function commandList(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(" ").length)) + 2;
  return commands.map((c) => `  ${c.words.join(" ").padEnd(width)}${c.summary}`).join("\n");
}

/** The overview shown by `iotactl --help`. */
export function overviewHelp(commands: Command[]): string {
  return `iotactl ${VERSION}: the IoTA developer CLI (groups, devices, provisioning, iotad configs)

Usage: iotactl <command> [flags] [arguments]     iotactl <command> --help for details

Commands:
${commandList(commands)}

Global flags:
${flagLines([...GLOBAL_FLAGS, { name: "version", short: "v", type: "boolean", help: "show the version" }])}

stdout carries only the result (a secret, a PEM, a listing, JSON with --json);
everything meant for people goes to stderr.

${SETTINGS_HELP}
Examples:
  iotactl configure --server https://iota.example.com:8440 --fingerprint AB:CD:...:EF --token-file ./admin-token
  iotactl add group room2-lights > prov_secret.txt
  iotactl add device -g room2-lights test-device-123
  iotactl add device -g room2-lights --from-file device_names.txt
  iotactl gen config -g room2-lights --from-file device_names.txt --secret-file prov_secret.txt --out configs

${EXIT_CODES_HELP}`;
}

/** The list of commands under a first word (`iotactl add --help`). */
export function groupHelp(word: string, commands: Command[]): string {
  return `Commands of "iotactl ${word}":
${commandList(commands)}

Run "iotactl ${word} <what> --help" for details.
`;
}
