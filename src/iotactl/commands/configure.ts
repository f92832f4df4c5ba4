/** `iotactl configure`: saves the server URL and admin token in the user's config file (0600). */

import { dirname } from "node:path";
import type { Command } from "../command.ts";
import { positionals, stringFlag } from "../flags.ts";
import { usageError } from "../exit-codes.ts";
import {
  checkServerUrl,
  configPath,
  readConfigFile,
  resolveSettings,
  type ConfigFile,
} from "../config.ts";
import { SETTINGS_HELP } from "../help.ts";
import { readSecretFile, readSecretStdin } from "../secrets.ts";
import { printJson } from "../output.ts";

/** The `configure` command. */
export const configure: Command = {
  words: ["configure"],
  summary: "save the server URL and admin token",
  usage: "configure [--server URL] [--token-file FILE | --token -]",
  description: `Saves the server URL and admin token to $XDG_CONFIG_HOME/iotactl/config.json
(~/.config/iotactl/config.json when unset), mode 0600; values not given are kept.
The token is read from a file or from stdin ("--token -"), never from the command line,
so it does not show in the process list or shell history.
Without flags, shows the settings in use and where each comes from (never the token).

${SETTINGS_HELP}`,
  flags: [
    {
      name: "server",
      type: "string",
      value: "URL",
      help: "the IoTA server, e.g. https://iota.example.com",
    },
    {
      name: "token-file",
      type: "string",
      value: "FILE",
      help: "a file holding the admin token (e.g. .iota/admin-token)",
    },
    {
      name: "token",
      type: "string",
      value: "-",
      help: 'read the admin token from stdin (only "-" is accepted)',
    },
  ],
  examples: [
    "iotactl configure --server http://127.0.0.1:8440 --token-file .iota/admin-token",
    "pass show iota/admin | iotactl configure --server https://iota.example.com --token -",
    "iotactl configure          # show the settings in use",
  ],
  async run(ctx) {
    positionals(ctx.args, []);
    const server = stringFlag(ctx.args, "server");
    const tokenFile = stringFlag(ctx.args, "token-file");
    const token = stringFlag(ctx.args, "token");
    if (token !== undefined && token !== "-") {
      throw usageError(
        '--token only accepts "-" (read from stdin), so the token never appears in the process list; or use --token-file FILE',
      );
    }
    if (token !== undefined && tokenFile !== undefined)
      throw usageError("give --token-file or --token -, not both");
    const path = configPath(ctx.io);
    if (server === undefined && token === undefined && tokenFile === undefined) {
      const s = resolveSettings(ctx.io);
      const shown = {
        config: path,
        server: s.server,
        serverFrom: s.serverSource,
        token: s.token ? "set" : "missing",
        tokenFrom: s.tokenSource,
      };
      if (ctx.json) printJson(ctx.io, shown);
      else
        ctx.io.stdout.write(
          `config file: ${path}\nserver:      ${s.server}  (from ${s.serverSource})\ntoken:       ${shown.token}  (from ${s.tokenSource})\n`,
        );
      return 0;
    }
    const next: ConfigFile = { ...readConfigFile(ctx.io) };
    if (server !== undefined) next.server = checkServerUrl(server, "--server");
    if (tokenFile !== undefined) next.token = readSecretFile(ctx.io, tokenFile, "--token-file");
    if (token === "-") next.token = await readSecretStdin(ctx.io, "the admin token");
    ctx.io.files.mkdir(dirname(path), 0o700);
    ctx.io.files.writeFile(path, `${JSON.stringify(next, null, 2)}\n`, 0o600);
    if (ctx.json)
      printJson(ctx.io, {
        config: path,
        server: next.server ?? null,
        token: next.token ? "set" : "missing",
      });
    ctx.console.info(`Wrote ${path} (mode 0600).`);
    if (ctx.io.env.IOTA_SERVER || ctx.io.env.IOTA_TOKEN)
      ctx.console.warn(
        "IOTA_SERVER / IOTA_TOKEN are set in the environment and take precedence over this file",
      );
    return 0;
  },
};
