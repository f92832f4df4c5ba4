/** PEM armour: splitting bundles, decoding blocks, and the CRL header OpenSSL reads. */

import { x509 } from "./x509.ts";

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN` and the dashes (`CERTIFICATE`, `X509 CRL`). */
  label: string;
  /** The DER bytes. */
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

/** Every PEM block in `text`, in order; an empty list when there is none. */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const body = (match[2] ?? "").replace(/\s+/g, "");
    blocks.push({ label: match[1] ?? "", der: new Uint8Array(Buffer.from(body, "base64")) });
  }
  return blocks;
}

/** PEM text of DER bytes under `label`, 64 characters a line, ending in a newline. */
export function encodePem(der: ArrayBuffer | Uint8Array, label: string): string {
  return `${x509.PemConverter.encode(der instanceof Uint8Array ? toArrayBuffer(der) : der, label)}\n`;
}

/** An ArrayBuffer holding exactly the bytes of `view`. */
export function toArrayBuffer(view: Uint8Array): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}
