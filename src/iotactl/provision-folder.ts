/**
 * The folder `iotactl provision` fills: the private key stored before anything is sent, so a folder that
 * cannot hold it stops the command before a certificate is issued; the certificate and CA after.
 */

import { join } from "node:path";
import { exportPrivateKeyPem, generateDeviceKey, importPrivateKeyPem } from "../core/csr.ts";
import type { IssuedCertificate } from "../core/wire.ts";
import { CliError, EXIT, usageError } from "./exit-codes.ts";
import { fileFailure, writeProblem } from "./file-errors.ts";
import { fileProblem, type Io } from "./io.ts";

/** The files of one provisioned device. */
export interface ProvisionPaths {
  dir: string;
  key: string;
  cert: string;
  ca: string;
  /** Names the device a key without its certificate was made for (`GROUP/DEVICE`), until the certificate is stored. */
  pending: string;
}

/** The paths `provision --out DIR` writes. */
export function provisionPaths(dir: string): ProvisionPaths {
  return {
    dir,
    key: join(dir, "key.pem"),
    cert: join(dir, "cert.pem"),
    ca: join(dir, "ca.pem"),
    pending: join(dir, "key.pending-for"),
  };
}

/** The device key, stored in the folder before the CSR is sent. */
export interface StoredKey {
  keys: CryptoKeyPair;
  /** The key was found in the folder (a run before could not store the certificate), not made now. */
  kept: boolean;
  /** Removes what this run made (the key and an empty folder), for a request the server refused. */
  discard(): void;
}

/**
 * The device key in `paths.key`: the one a run before for the same device left there without a certificate
 * (the device may already be provisioned with it), or a new one written there now (0600, the folder 0700
 * when made). Any other key in the folder is a conflict: a finished folder, another device's pending key, or
 * a key iotactl did not make is never used nor overwritten.
 */
export async function storeKey(io: Io, paths: ProvisionPaths, id: string): Promise<StoredKey> {
  if (io.files.exists(paths.key)) {
    const madeFor = io.files.exists(paths.cert) ? undefined : pendingFor(io, paths);
    if (madeFor !== id)
      throw new CliError(
        EXIT.CONFLICT,
        `${paths.key} already exists${madeFor ? ` (made for ${madeFor}, which is waiting for its certificate there)` : ""}; choose another --out folder or remove it first`,
      );
    return { keys: await readKey(io, paths.key), kept: true, discard: () => {} };
  }
  const made = !io.files.exists(paths.dir);
  const discard = () => {
    quietly(() => io.files.remove(paths.key));
    quietly(() => io.files.remove(paths.pending));
    if (made) io.files.removeEmptyDir(paths.dir);
  };
  const keys = await generateDeviceKey();
  try {
    io.files.mkdir(paths.dir, 0o700);
    // Hint: the name first, so a key in the folder without it was never this command's pending key.
    io.files.writeFile(paths.pending, `${id}\n`, 0o600);
    io.files.writeFile(paths.key, await exportPrivateKeyPem(keys.privateKey), 0o600);
  } catch (error) {
    quietly(() => io.files.remove(paths.pending));
    if (made) io.files.removeEmptyDir(paths.dir);
    throw fileFailure(
      error,
      `cannot write the device key ${paths.key}`,
      "nothing was sent to the server",
    );
  }
  return { keys, kept: false, discard };
}

/** The device a pending key was made for, or undefined when the folder does not say. */
function pendingFor(io: Io, paths: ProvisionPaths): string | undefined {
  if (!io.files.exists(paths.pending)) return undefined;
  try {
    return io.files.readText(paths.pending).trim();
  } catch {
    return undefined;
  }
}

/** A key a run before stored; one iotactl cannot use is bad input, named. */
async function readKey(io: Io, path: string): Promise<CryptoKeyPair> {
  let pem: string;
  try {
    pem = io.files.readText(path);
  } catch (error) {
    throw usageError(`cannot read ${path}: ${fileProblem(error)}`);
  }
  try {
    return await importPrivateKeyPem(pem);
  } catch {
    throw usageError(
      `${path} is not an ECDSA P-256 private key (PKCS#8 PEM); choose another --out folder or remove it first`,
    );
  }
}

/**
 * Writes the certificate and the CA next to the key. Hint: the device is provisioned by now; a file that
 * cannot be written says so, and that the same command again (with the key kept) gets the same certificate.
 */
export function storeIssued(
  io: Io,
  paths: ProvisionPaths,
  issued: IssuedCertificate,
  group: string,
  device: string,
): void {
  for (const [path, text] of [
    [paths.cert, issued.certificate],
    [paths.ca, issued.ca],
  ] as const) {
    try {
      io.files.writeFile(path, text, 0o644);
    } catch (error) {
      throw new CliError(
        EXIT.FAILURE,
        `device ${group}/${device} is provisioned, but ${path} could not be written: ${writeProblem(error)}; its key is kept in ${paths.key}: once the cause is fixed, run the same command again, which sends that key and gets the certificate the server issued (or, to start over with a new key: iotactl reset device -g ${group} ${device} --forget-key)`,
      );
    }
  }
  // Hint: the device's files are all there; a name left behind would only be a stale note beside them.
  quietly(() => io.files.remove(paths.pending));
}

/** Runs a clean-up whose own failure must not replace the error or the result at hand. */
function quietly(cleanUp: () => void): void {
  try {
    cleanUp();
  } catch {
    // Left as it is: the files that matter say what happened.
  }
}
