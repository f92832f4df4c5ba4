/** The `iotad` command line: declared commands, usage with exit codes, and parsing before anything is touched. */

import { parseArgs } from "node:util";
import { argumentProblem } from "../core/argument-problem.ts";
import { DEFAULT_AGENT_CONFIG_PATH } from "../core/agent-config.ts";
import { EXIT_STATUS_HELP } from "./exit-codes.ts";

/** The commands of iotad. */
export const COMMANDS = ["run", "status", "check-config", "provision", "renew", "version"] as const;
/** One command name. */
export type CommandName = (typeof COMMANDS)[number];

/** A parsed command line. */
export type Invocation =
  | { kind: "help" }
  | { kind: "command"; command: CommandName; config: string; json: boolean }
  | { kind: "error"; message: string };

/** The text of `iotad --help`: commands, options, signals, exit statuses, examples. */
export const USAGE = `Usage: iotad [command] [--config FILE] [--json]

The IoTA device agent: makes the device key, provisions the device certificate, renews it
inside its refresh window, serves a local status endpoint and announces readiness over MQTT.

Commands:
  run            the daemon (default): provision if needed, then renew on schedule until SIGTERM
  status         ask the running agent's status endpoint (--json for the raw JSON)
  check-config   validate the config file (and the files it names), then exit
  provision      provision once if no certificate is held, then exit
  renew          renew the certificate now, then exit
  version        print the version

Options:
  -c, --config FILE   config file (default ${DEFAULT_AGENT_CONFIG_PATH})
      --json          machine-readable output (status, provision, renew)
  -h, --help          show this help
  -v, --version       print the version

Signals (run): SIGTERM/SIGINT announce offline over MQTT and exit 0; SIGHUP renews now.

${EXIT_STATUS_HELP}
Examples:
  iotad --config /etc/iotad/config.json
  iotad check-config -c ./test-device-123.json
  iotad status --json
  kill -HUP "$(pidof iotad)"     # renew now
`;

/** The flags every command takes. */
const FLAGS = {
  config: { type: "string", short: "c" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** Parses argv (without the program name). */
export function parseCommandLine(argv: string[]): Invocation {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: FLAGS });
  } catch (error) {
    return { kind: "error", message: `${argumentProblem(error)}; see iotad --help` };
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (positionals.length > 1)
    return {
      kind: "error",
      message: `expected one command, got ${positionals.map((p) => JSON.stringify(p)).join(" ")}; see iotad --help`,
    };
  const name = values.version ? "version" : (positionals[0] ?? "run");
  if (name === "help") return { kind: "help" };
  if (!(COMMANDS as readonly string[]).includes(name)) {
    return {
      kind: "error",
      message: `unknown command ${JSON.stringify(name)}; commands are ${COMMANDS.join(", ")}`,
    };
  }
  if (values.config === "") return { kind: "error", message: "--config needs a file name" };
  return {
    kind: "command",
    command: name as CommandName,
    config: values.config ?? DEFAULT_AGENT_CONFIG_PATH,
    json: values.json === true,
  };
}
