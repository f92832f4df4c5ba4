/**
 * Sealing secrets at rest: CA keys and group secrets are stored encrypted (AES-256-GCM) under a
 * master key that lives outside the database (a 0600 file in the data folder, or the environment),
 * so a copy of the database alone reveals neither.
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
/** Opened values {@link Sealer.openCached} remembers; the oldest is forgotten first. */
const MAX_CACHED = 1024;

/** A sealed value this master key cannot open: it was sealed under another key (or changed). */
export class SealedUnderAnotherKey extends Error {
  constructor() {
    super("the value was sealed under another master key, or changed");
    this.name = "SealedUnderAnotherKey";
  }
}

/** Encrypts and decrypts short secrets with one 256-bit master key. */
export class Sealer {
  private readonly key: Buffer;
  private readonly opened = new Map<string, string>();

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new Error("the master key must be 32 bytes");
    this.key = Buffer.from(masterKey);
  }

  /** `v1.<iv>.<ciphertext+tag>` in base64url; `context` is bound as associated data. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([
      cipher.update(plaintext, "utf8"),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${VERSION}.${iv.toString("base64url")}.${body.toString("base64url")}`;
  }

  /** The plaintext of {@link seal}; throws when the text was sealed under another key or context. */
  open(sealed: string, context: string): string {
    const [version, ivText, bodyText] = sealed.split(".");
    if (version !== VERSION || !ivText || !bodyText)
      throw new Error("sealed value has an unknown format");
    const body = Buffer.from(bodyText, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(ivText, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - 16));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - 16)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new SealedUnderAnotherKey();
    }
  }

  /**
   * {@link open}, remembering the plaintext by context and sealed text, for values opened on every request
   * (group secrets). A new secret is new sealed text (fresh IV), so a rotation is never answered from memory.
   */
  openCached(sealed: string, context: string): string {
    const key = `${context}\n${sealed}`;
    let plaintext = this.opened.get(key);
    if (plaintext === undefined) {
      plaintext = this.open(sealed, context);
      if (this.opened.size >= MAX_CACHED)
        this.opened.delete(this.opened.keys().next().value as string);
      this.opened.set(key, plaintext);
    }
    return plaintext;
  }
}

/** A new random master key. */
export function newMasterKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
