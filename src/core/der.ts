/** Just enough DER for the issuance hot path: writing TLVs, walking them strictly, times and ECDSA signatures. */

/** Thrown by the reader on anything that is not well-formed DER; callers turn it into their own error. */
export class DerError extends Error {}

/** AlgorithmIdentifier ecdsa-with-SHA256 (no parameters, RFC 5758), as certificates and CSRs carry it. */
export const ECDSA_SHA256_ALGORITHM = new Uint8Array(
  Buffer.from("300a06082a8648ce3d040302", "hex"),
);

/** ASN.1 tags the hot path writes or reads. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The DER length octets of `length`. */
function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** One TLV: `tag`, the DER length, then `parts` concatenated. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const head = lengthOctets(size);
  const out = new Uint8Array(1 + head.length + size);
  out[0] = tag;
  out.set(head, 1);
  let at = 1 + head.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `parts` concatenated. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A DER INTEGER of unsigned big-endian `magnitude` (leading zeros dropped, a zero added when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  return (body[0] ?? 0) & 0x80 ? tlv(TAG.INTEGER, Uint8Array.of(0), body) : tlv(TAG.INTEGER, body);
}

const ASCII = new TextEncoder();
const two = (n: number): string => String(n).padStart(2, "0");

/**
 * A certificate time (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050, whole seconds, `Z`.
 */
export function certificateTime(epochMs: number): Uint8Array {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050)
    return tlv(TAG.UTC_TIME, ASCII.encode(`${two(year % 100)}${rest}`));
  return tlv(TAG.GENERALIZED_TIME, ASCII.encode(`${String(year).padStart(4, "0")}${rest}`));
}

/** A TLV found by {@link readTlv}: its tag and where its header and contents sit in the buffer. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  body: number;
  /** Offset just past the contents. */
  end: number;
}

/** Reads the TLV at `offset`, which must end by `limit`; definite, minimal lengths only (DER). */
export function readTlv(der: Uint8Array, offset: number, limit = der.length): Tlv {
  const tag = der[offset];
  const first = der[offset + 1];
  if (tag === undefined || first === undefined || offset + 2 > limit)
    throw new DerError("truncated TLV header");
  if ((tag & 0x1f) === 0x1f) throw new DerError("multi-byte tags are not used here");
  let length = first;
  let body = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 3) throw new DerError("indefinite or oversized length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[body + i] ?? Number.NaN);
    body += count;
    if (!(length >= 0x80) || (count > 1 && der[offset + 2] === 0))
      throw new DerError("non-minimal length");
  }
  const end = body + length;
  if (!(end <= limit)) throw new DerError("TLV runs past its container");
  return { tag, start: offset, body, end };
}

/** Reads the TLV at `offset` and checks its tag. */
export function expectTlv(der: Uint8Array, offset: number, tag: number, limit = der.length): Tlv {
  const t = readTlv(der, offset, limit);
  if (t.tag !== tag)
    throw new DerError(`expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** Whether the contents of `t` equal `expected` byte for byte. */
export function contentsEqual(der: Uint8Array, t: Tlv, expected: Uint8Array): boolean {
  if (t.end - t.body !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (der[t.body + i] !== expected[i]) return false;
  return true;
}

/** An ECDSA signature in WebCrypto's fixed-width r||s form as the DER `Ecdsa-Sig-Value` X.509 carries. */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const half = signature.length / 2;
  return tlv(
    TAG.SEQUENCE,
    unsignedInteger(signature.subarray(0, half)),
    unsignedInteger(signature.subarray(half)),
  );
}

/** A DER `Ecdsa-Sig-Value` as fixed-width r||s of `size` bytes each; throws DerError when malformed or too wide. */
export function derToP1363(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const seq = expectTlv(der, 0, TAG.SEQUENCE);
  if (seq.end !== der.length) throw new DerError("trailing bytes after the signature");
  const out = new Uint8Array(size * 2);
  let at = seq.body;
  for (let i = 0; i < 2; i++) {
    const int = expectTlv(der, at, TAG.INTEGER, seq.end);
    let from = int.body;
    if (int.end - from > 1 && der[from] === 0) from++;
    const width = int.end - from;
    if (width < 1 || width > size || (der[int.body] ?? 0) & 0x80)
      throw new DerError("signature integer out of range");
    out.set(der.subarray(from, int.end), i * size + size - width);
    at = int.end;
  }
  if (at !== seq.end) throw new DerError("extra fields in the signature");
  return out;
}
