/** Byte encodings used on the wire (base64url without padding, hex, UTF-8) and constant-time comparison. */

import { createHash, timingSafeEqual } from "node:crypto";

/** Encodes bytes as base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array | ArrayBuffer): string {
  return Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).toString(
    "base64url",
  );
}

/** Decodes base64url (padding optional); `undefined` when the text is not base64url. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "base64url"));
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array | ArrayBuffer): string {
  return Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).toString("hex");
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

/**
 * Compares two strings in time that depends only on their lengths, for secrets and tokens.
 * Hint: both are hashed first so that the comparison never leaks a prefix length.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const hash = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(hash(a), hash(b));
}
