/** `iotactl configure`: pairs a server with its admin token and pinned CA in the user's config file (0600). */

import { parseFingerprint } from "../../core/fingerprint.ts";
import { bootstrapServerCa } from "../bootstrap.ts";
import type { Command, CommandContext } from "../command.ts";
import { DEFAULT_SERVER, readCaFile, resolveSettings } from "../config.ts";
import { readConfigFile, type ServerEntry, writeConfigFile } from "../config-file.ts";
import { usageError } from "../exit-codes.ts";
import { positionals, stringFlag } from "../flags.ts";
import { SETTINGS_HELP } from "../help.ts";
import { printJson } from "../output.ts";
import { readSecretFile, readSecretStdin } from "../secrets.ts";
import { checkPlainHttp, checkServerUrl } from "../server-url.ts";
import { describeTrust, showSettings } from "../settings-view.ts";

/** Every flag checked, before any file is read for a secret or any request is made. */
function checkedFlags(ctx: CommandContext) {
  positionals(ctx.args, []);
  const serverFlag = stringFlag(ctx.args, "server");
  const tokenFile = stringFlag(ctx.args, "token-file");
  const token = stringFlag(ctx.args, "token");
  const fingerprintFlag = stringFlag(ctx.args, "fingerprint");
  const caFile = stringFlag(ctx.args, "ca-file");
  if (token !== undefined && token !== "-")
    throw usageError(
      '--token only accepts "-" (read from stdin), so the token never appears in the process list; or use --token-file FILE',
    );
  if (token !== undefined && tokenFile !== undefined)
    throw usageError("give --token-file or --token -, not both");
  if (fingerprintFlag !== undefined && caFile !== undefined)
    throw usageError("give --fingerprint or --ca-file, not both");
  const fingerprint = fingerprintFlag === undefined ? undefined : parseFingerprint(fingerprintFlag);
  if (fingerprintFlag !== undefined && fingerprint === undefined)
    throw usageError(
      `--fingerprint must be the 32-byte SHA-256 fingerprint in hex as openssl or iota-server print it (AB:CD:...:EF, colons optional), got ${JSON.stringify(fingerprintFlag)}`,
    );
  const server = serverFlag === undefined ? undefined : checkServerUrl(serverFlag, "--server");
  return { server, tokenFile, tokenStdin: token === "-", fingerprint, caFile };
}

/** The `configure` command. */
export const configure: Command = {
  words: ["configure"],
  summary: "pair a server with its admin token and pinned CA",
  usage:
    "configure [--server URL] [--fingerprint HEX | --ca-file FILE] [--token-file FILE | --token -]",
  description: `Saves, for one server, its admin token and the CA its certificate must chain to, in
$XDG_CONFIG_HOME/iotactl/config.json (~/.config/iotactl/config.json when unset, mode 0600), and
makes it the current server. Each server keeps its own token: a token is only ever sent to the
server it was configured for. Values not given are kept; without --server, the current server
(or ${DEFAULT_SERVER}) is meant.

--fingerprint HEX pins the server's CA the way "step ca bootstrap" does: iotactl fetches the CA
(GET /v1/server-ca, over a connection not yet trusted, without the token), checks that its SHA-256
fingerprint is HEX (iota-server prints it at start; "openssl x509 -noout -fingerprint -sha256"
prints the same), then makes a second request that trusts only that CA, so a party relaying the
real CA without a certificate chained to it is caught. A mismatch is exit 7 and nothing is saved.
--ca-file FILE pins a CA you already hold, without a request. With neither, an https server is
verified against the system roots. A pinned CA is the only trust for its server.

The token is read from a file or from stdin ("--token -"), never from the command line, so it
does not show in the process list or shell history. Without flags, shows the settings in use and
where each comes from (never the token).

${SETTINGS_HELP}`,
  flags: [
    {
      name: "server",
      type: "string",
      value: "URL",
      help: "the IoTA server, e.g. https://iota.example.com:8440",
    },
    {
      name: "fingerprint",
      type: "string",
      value: "HEX",
      help: "pin the server CA whose SHA-256 fingerprint this is (AB:CD:..., as iota-server prints it)",
    },
    {
      name: "ca-file",
      type: "string",
      value: "FILE",
      help: "pin this CA certificate (PEM) for the server",
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
    "iotactl configure --server https://iota.example.com:8440 --fingerprint AB:CD:...:EF --token-file admin-token",
    "pass show iota/admin | iotactl configure --server https://iota.example.com:8440 --token -",
    "iotactl configure --server https://10.0.0.5:8440 --ca-file server-ca.pem --token-file admin-token",
    "iotactl configure          # show the settings in use",
  ],
  async run(ctx) {
    const flags = checkedFlags(ctx);
    if (
      flags.server === undefined &&
      flags.tokenFile === undefined &&
      !flags.tokenStdin &&
      flags.fingerprint === undefined &&
      flags.caFile === undefined
    ) {
      showSettings(ctx.io, resolveSettings(ctx.io), ctx.json);
      return 0;
    }
    const file = readConfigFile(ctx.io);
    const server = flags.server ?? file.current ?? DEFAULT_SERVER;
    checkPlainHttp(
      server,
      flags.server === undefined ? "the config file" : "--server",
      ctx.insecure,
    );
    if (
      (flags.fingerprint !== undefined || flags.caFile !== undefined) &&
      server.startsWith("http:")
    )
      throw usageError(
        `--fingerprint and --ca-file pin the CA of an https server; ${server} is plain http`,
      );
    let token: string | undefined;
    if (flags.tokenFile !== undefined)
      token = readSecretFile(ctx.io, flags.tokenFile, "--token-file");
    if (flags.tokenStdin) token = await readSecretStdin(ctx.io, "the admin token");
    let ca: string | undefined;
    if (flags.caFile !== undefined) ca = readCaFile(ctx.io, flags.caFile, "--ca-file");
    if (flags.fingerprint !== undefined)
      ca = await bootstrapServerCa(ctx.io, server, flags.fingerprint);

    const entry: ServerEntry = { ...file.servers[server] };
    if (token !== undefined) entry.token = token;
    if (ca !== undefined) entry.ca = ca;
    file.servers[server] = entry;
    file.current = server;
    const path = writeConfigFile(ctx.io, file);
    const saved = {
      server,
      token: entry.token ? "set" : "missing",
      trust: describeTrust(server, entry.ca),
    };
    if (ctx.json) printJson(ctx.io, { config: path, ...saved });
    ctx.console.info(
      `Wrote ${path} (mode 0600): current server ${server}; token ${saved.token}; trust: ${saved.trust}.`,
    );
    if (entry.token === undefined)
      ctx.console.warn(
        `no admin token is saved for ${server}; admin commands fail (exit 5) until you give --token-file FILE or --token -`,
      );
    if (ctx.io.env.IOTA_SERVER || ctx.io.env.IOTA_TOKEN || ctx.io.env.IOTA_CA_FILE)
      ctx.console.warn(
        "IOTA_SERVER / IOTA_TOKEN / IOTA_CA_FILE are set in the environment and take precedence over this file",
      );
    return 0;
  },
};
