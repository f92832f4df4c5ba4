/**
 * Where iotactl finds its server, admin token and trust: the environment, then the config file, then
 * the local `npm start` service. A token is only ever paired with the server it was configured for.
 */

import { dirname, join, relative, resolve } from "node:path";
import { EXIT, CliError, usageError } from "./exit-codes.ts";
import { configPath, readConfigFile } from "./config-file.ts";
import { fileProblem, type Io } from "./io.ts";
import { singleLineSecret } from "./secrets.ts";
import { checkServerUrl } from "./server-url.ts";

/** The server `npm start` runs, and the only one the local token and CA files below belong to. */
export const DEFAULT_SERVER = "https://127.0.0.1:8440";
/** The admin token file of the local `npm start` service, relative to the working folder. */
export const LOCAL_TOKEN_FILE = ".iota/admin-token";
/** The server CA of the local `npm start` service, relative to the working folder. */
export const LOCAL_CA_FILE = ".iota/server-ca.pem";

/** The resolved settings and where each came from (for messages that never show the token). */
export interface Settings {
  /** The server, canonical (see checkServerUrl). */
  server: string;
  serverSource: string;
  token: string | undefined;
  tokenSource: string;
  /** The pinned CA (PEM) the server's certificate must chain to; `undefined`: the system roots. */
  ca: string | undefined;
  caSource: string;
}

/** Resolves the settings; see {@link SETTINGS_HELP} in help.ts for the order. */
export function resolveSettings(io: Io): Settings {
  const file = readConfigFile(io);
  const path = configPath(io);
  let server: string;
  let serverSource: string;
  if (io.env.IOTA_SERVER) {
    serverSource = "IOTA_SERVER";
    server = checkServerUrl(io.env.IOTA_SERVER, "IOTA_SERVER");
  } else if (file.current !== undefined) [server, serverSource] = [file.current, path];
  else [server, serverSource] = [DEFAULT_SERVER, "default"];

  const entry = file.servers[server] ?? {};
  const local = server === DEFAULT_SERVER;
  let token: string | undefined;
  let tokenSource = "none";
  // Hint: IOTA_TOKEN pairs with whatever server is in use (the user sets both); a stored token only with its own.
  // Hint: looked for only when neither the environment nor the config file gives a token or a CA.
  let found: { folder: string | undefined } | undefined;
  const localFolder = () => {
    found ??= { folder: local ? localServiceFolder(io) : undefined };
    return found.folder;
  };
  if (io.env.IOTA_TOKEN)
    [token, tokenSource] = [singleLineSecret(io.env.IOTA_TOKEN, "IOTA_TOKEN"), "IOTA_TOKEN"];
  else if (entry.token)
    [token, tokenSource] = [singleLineSecret(entry.token, `the token in ${path}`), path];
  else {
    const file = readLocal(io, localFolder(), LOCAL_TOKEN_FILE);
    token = file?.text.trim();
    if (token) tokenSource = file?.source ?? LOCAL_TOKEN_FILE;
  }

  let ca: string | undefined;
  let caSource = "none";
  if (io.env.IOTA_CA_FILE) {
    ca = readCaFile(io, io.env.IOTA_CA_FILE, "IOTA_CA_FILE");
    caSource = `IOTA_CA_FILE (${io.env.IOTA_CA_FILE})`;
  } else if (entry.ca) [ca, caSource] = [entry.ca, path];
  else {
    const file = readLocal(io, localFolder(), LOCAL_CA_FILE);
    if (file !== undefined) [ca, caSource] = [file.text, file.source];
  }
  return { server, serverSource, token: token || undefined, tokenSource, ca, caSource };
}

/**
 * The folder holding the local service's `.iota` (its admin token or server CA): the working folder, or the nearest
 * one above it, as git finds `.git`, so iotactl run from a subfolder of where `npm start` runs finds the service.
 * Above the working folder, only a `.iota` of the user running iotactl counts (another user could plant one there).
 */
function localServiceFolder(io: Io): string | undefined {
  const holds = (folder: string) =>
    io.files.exists(join(folder, LOCAL_TOKEN_FILE)) || io.files.exists(join(folder, LOCAL_CA_FILE));
  const start = resolve(io.cwd);
  if (holds(start)) return start;
  for (let folder = dirname(start); ; folder = dirname(folder)) {
    if (holds(folder) && io.files.isMine(join(folder, ".iota"))) return folder;
    if (dirname(folder) === folder) return undefined;
  }
}

/** A file of the local service's data folder and how to name it, `undefined` when it does not exist. */
function readLocal(
  io: Io,
  folder: string | undefined,
  file: string,
): { text: string; source: string } | undefined {
  if (folder === undefined) return undefined;
  const path = join(folder, file);
  if (!io.files.exists(path)) return undefined;
  const source = relative(resolve(io.cwd), path);
  try {
    return { text: io.files.readText(path), source };
  } catch (error) {
    throw usageError(`cannot read ${source}: ${fileProblem(error)}`);
  }
}

/** A CA certificate file (PEM); a usage error naming `what` when unreadable or not a certificate. */
export function readCaFile(io: Io, path: string, what: string): string {
  let text: string;
  try {
    text = io.files.readText(resolve(io.cwd, path));
  } catch (error) {
    throw usageError(`${what} ${path}: ${fileProblem(error)}`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----"))
    throw usageError(`${what} ${path} holds no PEM certificate`);
  return text;
}

/** The admin token, or an auth error (exit 5) saying how to provide one for this server. */
export function requireToken(settings: Settings): string {
  if (settings.token) return settings.token;
  const configureHint = `iotactl configure --server ${settings.server} --token-file FILE`;
  if (settings.serverSource === "IOTA_SERVER")
    throw new CliError(
      EXIT.AUTH,
      `no admin token for ${settings.server} (from IOTA_SERVER): a token is only sent to the server it was configured for; set IOTA_TOKEN as well, or run "${configureHint}"`,
    );
  if (settings.serverSource === "default")
    throw new CliError(
      EXIT.AUTH,
      `no admin token: run "iotactl configure --server URL --token-file FILE", set IOTA_SERVER and IOTA_TOKEN, or run in or below the folder holding ${LOCAL_TOKEN_FILE} (the local service at ${DEFAULT_SERVER})`,
    );
  throw new CliError(
    EXIT.AUTH,
    `no admin token for ${settings.server}: run "${configureHint}", or set IOTA_TOKEN`,
  );
}
