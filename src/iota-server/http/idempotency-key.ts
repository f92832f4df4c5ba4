/**
 * The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): a client's random key for one
 * creation, so that the same creation sent again after a lost answer is recognised instead of refused.
 */

import { IotaError } from "../../core/errors.ts";

export const IDEMPOTENCY_KEY = "idempotency-key";

/** 16 to 128 characters, enough for a UUID or 96 random bits in base64, without room for a secret's worth of text. */
const KEY = /^[A-Za-z0-9._~+/=:-]{16,128}$/;

/**
 * The header's key, undefined when absent; 400 naming the header when it is not one. The draft's form is a
 * structured-field string (`"..."`); the bare value is accepted too, as common clients send it.
 */
export function idempotencyKey(header: string | null | undefined): string | undefined {
  if (header === null || header === undefined) return undefined;
  const quoted = header.length >= 2 && header.startsWith('"') && header.endsWith('"');
  const key = quoted ? header.slice(1, -1) : header;
  if (KEY.test(key)) return key;
  throw new IotaError(
    "invalid",
    "Idempotency-Key must be 16 to 128 characters of letters, digits and ._~+/=:- (a random UUID, say)",
    { errors: [{ field: "Idempotency-Key", message: "is not a valid key" }] },
  );
}
