/**
 * The device name pinned in the data folder once the device is provisioned: a device named by its
 * hardware keeps that name for life, even when the hardware value later changes (a swapped NIC).
 */

import { join } from "node:path";
import { isValidName } from "../core/names.ts";
import { type Disk, writeAtomic } from "./disk.ts";
import { say } from "./agent-messages.ts";
import { parseCertificate } from "./identity.ts";
import type { Logger } from "./logger.ts";
import type { AgentSettings, ReadText } from "./config.ts";

/** The pin file inside the data folder. */
export const PIN_FILE = "device.json";

/** What the pin file holds. */
export interface Pin {
  group: string;
  device: string;
  /** The source the name came from when it was pinned. */
  from: string;
}

/** The pin file's path in `dataDir`. */
export function pinPath(dataDir: string): string {
  return join(dataDir, PIN_FILE);
}

/**
 * The pinned name: the pin file's, else the name in a certificate already held (a device provisioned
 * before the pin was written, or a start cut short between the two). `undefined` before provisioning.
 * Hint: a data folder this process cannot read gives no pin; the agent then fails on the folder itself.
 */
export function readPinnedName(read: ReadText, dataDir: string): string | undefined {
  const pin = readText(read, pinPath(dataDir));
  if (pin !== undefined) {
    try {
      const device = (JSON.parse(pin) as { device?: unknown }).device;
      if (typeof device === "string" && isValidName(device)) return device;
    } catch {
      // A damaged pin file: the certificate below still names the device.
    }
  }
  const certPem = readText(read, join(dataDir, "cert.pem"));
  const cn = certPem === undefined ? undefined : commonName(certPem);
  return cn !== undefined && isValidName(cn) ? cn : undefined;
}

/** Writes the pin when it is missing or names another device; true when it wrote. */
export function writePin(disk: Disk, dataDir: string, pin: Pin): boolean {
  const path = pinPath(dataDir);
  const current = disk.read(path);
  try {
    if (current !== undefined && (JSON.parse(current) as Pin).device === pin.device) return false;
  } catch {
    // Damaged: written again below.
  }
  writeAtomic(disk, path, `${JSON.stringify(pin)}\n`, 0o644);
  return true;
}

/**
 * Once a certificate is held, pins the name of a device named by its hardware (nothing to do for a
 * literal name). A failure to write is logged; the next start, which holds the certificate, tries again.
 */
export function pinHeldName(settings: AgentSettings, disk: Disk, log: Logger): void {
  if (settings.naming === undefined) return;
  const path = pinPath(settings.dataDir);
  try {
    const pin = { group: settings.group, device: settings.device, from: settings.naming.from };
    if (writePin(disk, settings.dataDir, pin)) log.info(say.namePinned(settings.device, path));
    // Hint: /status shows the pin from now on, not only after the next start reads it back.
    settings.naming.pinned = settings.device;
  } catch (error) {
    log.warn(say.pinFailed(path, (error as Error).message));
  }
}

function commonName(certPem: string): string | undefined {
  return parseCertificate(certPem)?.subjectName.getField("CN")[0];
}

function readText(read: ReadText, path: string): string | undefined {
  try {
    return read(path);
  } catch {
    return undefined;
  }
}
