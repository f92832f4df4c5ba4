/** The device certificate profile: lifetimes, clock-skew allowance, serials and the identity URI. */

import { randomBytes } from "node:crypto";

/** Default certificate lifetime of a group: 30 days. */
export const DEFAULT_VALIDITY_SECONDS = 30 * 86400;
/** Shortest lifetime a group may ask for (for tests and demos): 1 minute. */
export const MIN_VALIDITY_SECONDS = 60;
/** Longest lifetime a group may ask for: 398 days, the public-web ceiling. */
export const MAX_VALIDITY_SECONDS = 398 * 86400;
/** Default time after expiry during which an expired certificate may still renew: 7 days. */
export const DEFAULT_GRACE_SECONDS = 7 * 86400;
/** Longest allowed renew-after-expiry grace: 365 days. */
export const MAX_GRACE_SECONDS = 365 * 86400;

/**
 * How far `notBefore` is set back so devices with a slightly slow clock accept a new certificate:
 * one minute, or a tenth of the lifetime for very short ones.
 */
export function backdateSeconds(validitySeconds: number): number {
  return Math.min(60, Math.floor(validitySeconds / 10));
}

/**
 * How far before its moment of issue a certificate of this profile starts, told from its span alone
 * (`lifetimeMs` = notAfter - notBefore, the backdate included): never less than {@link backdateSeconds}
 * set, and less than a second more. Hint: the span is V + min(60, floor(V / 10)) seconds for a validity of
 * V seconds, so a 60 s backdate goes with spans of 660 s and more, and below that span / 11 is within a
 * second above floor(V / 10).
 */
export function backdateOfSpan(lifetimeMs: number): number {
  return Math.max(0, Math.min(60_000, lifetimeMs / 11));
}

/** A fresh 128-bit positive serial number as 32 hex digits. */
export function newSerial(): string {
  const bytes = randomBytes(16);
  // Hint: a DER INTEGER with the top bit set is negative; clear it and keep the first byte non-zero so the length is fixed.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString("hex");
}

/** The identity of a device inside IoTA. */
export interface DeviceIdentity {
  tenant: string;
  group: string;
  device: string;
}

/** The SAN URI naming a device: `iota://<tenant>/<group>/<device>`. */
export function identityUri(id: DeviceIdentity): string {
  return `iota://${id.tenant}/${id.group}/${id.device}`;
}

/** The identity named by a SAN URI, or `undefined` when the URI is not an IoTA device URI. */
export function parseIdentityUri(uri: string): DeviceIdentity | undefined {
  const match = /^iota:\/\/([a-z0-9-]+)\/([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(uri);
  if (!match) return undefined;
  return { tenant: match[1] ?? "", group: match[2] ?? "", device: match[3] ?? "" };
}
