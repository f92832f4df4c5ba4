/**
 * Whose certificate the data folder holds: the device its SAN URI (`iota://TENANT/GROUP/DEVICE`, else its CN)
 * names, compared with the device the config names. A folder left by another device must never be taken for
 * this one: the broker and the service would refuse it forever while the agent reported itself ready.
 */

import { join } from "node:path";
import { parseIdentityUri } from "../core/profile.ts";
import { x509 } from "../core/x509.ts";
import { say } from "./agent-messages.ts";
import type { ReadText } from "./config.ts";
import { parseCertificate } from "./identity.ts";

/** The device the config names (`tenant` only when the config gives one). */
export interface ConfiguredDevice {
  tenant?: string;
  group: string;
  device: string;
}

/** The device a certificate names: its SAN URI's, else only the device name from its CN. */
export function certificateOwner(
  cert: x509.X509Certificate,
): { tenant?: string; group?: string; device: string } | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  for (const name of san?.names.items ?? []) {
    if (name.type !== "url") continue;
    const id = parseIdentityUri(name.value);
    if (id) return id;
  }
  const cn = cert.subjectName.getField("CN")[0];
  return cn === undefined ? undefined : { device: cn };
}

/**
 * Why `cert` (kept in `dataDir`) is not the configured device's, in an operator's words naming both devices
 * and the fix; `undefined` when it is, or when the certificate names no device at all (nothing to compare).
 */
export function otherDeviceProblem(
  cert: x509.X509Certificate,
  configured: ConfiguredDevice,
  dataDir: string,
): string | undefined {
  const owner = certificateOwner(cert);
  if (owner === undefined) return undefined;
  const differs =
    owner.device !== configured.device ||
    (owner.group !== undefined && owner.group !== configured.group) ||
    (owner.tenant !== undefined &&
      configured.tenant !== undefined &&
      owner.tenant !== configured.tenant);
  if (!differs) return undefined;
  const held = [owner.tenant, owner.group, owner.device].filter((p) => p !== undefined).join("/");
  const wanted = `${configured.tenant === undefined ? "" : `${configured.tenant}/`}${configured.group}/${configured.device}`;
  return say.otherDevice(dataDir, held, cert.serialNumber.toLowerCase(), wanted);
}

/**
 * The same check on the data folder's `cert.pem` as `iotad check-config` makes it, without touching
 * anything; `undefined` when there is no readable certificate (the agent deals with that) or it is this device's.
 */
export function dataFolderOwnerProblem(
  read: ReadText,
  dataDir: string,
  configured: ConfiguredDevice,
): string | undefined {
  let pem: string;
  try {
    pem = read(join(dataDir, "cert.pem"));
  } catch {
    return undefined;
  }
  const cert = parseCertificate(pem);
  return cert === undefined ? undefined : otherDeviceProblem(cert, configured, dataDir);
}
