/** `@peculiar/x509` set up once for every runtime IoTA runs on (Bun, Node.js 18+). */

import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// Hint: Node.js 18 has no global `crypto`; node:crypto's webcrypto is the same object Bun and Node 20 expose globally.
x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** The WebCrypto implementation IoTA uses everywhere. */
export const crypto: Crypto = webcrypto as unknown as Crypto;

export { x509 };
