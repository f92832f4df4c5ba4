/** Device tokens: proof that a device may provision, derived from its group's provisioning secret. */

import { createHmac, randomBytes } from "node:crypto";

/**
 * The device token of `<group>/<device>`:
 * `base64url(HMAC-SHA256(key = secret as UTF-8, msg = "<group>/<device>"))`, no padding.
 * A device holding only its token reveals nothing about its siblings or the group secret.
 */
export function deviceToken(secret: string, group: string, device: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`${group}/${device}`, "utf8")
    .digest("base64url");
}

/**
 * The group's secret check: `base64url(HMAC-SHA256(key = secret, msg = "secret-check:<group>"))`. It shows
 * whether a secret someone holds is the group's current one without the secret being sent or shown, and
 * it provisions nothing: its message holds no "/", so it is never a device token.
 */
export function secretCheck(secret: string, group: string): string {
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(`secret-check:${group}`, "utf8")
    .digest("base64url");
}

/** A new provisioning secret: 256 random bits, base64url (43 characters). */
export function newProvisioningSecret(): string {
  return randomBytes(32).toString("base64url");
}
