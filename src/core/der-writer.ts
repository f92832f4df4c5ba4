/**
 * A DER writer that fills one buffer from its end: a TLV's contents are written first and its header after
 * them, so no length has to be known in advance and nothing is copied twice.
 */

const NOT_ASCII = /[\u0080-\uffff]/;
const utf8 = new TextEncoder();

/** Writes DER back to front; {@link mark} and {@link wrap} turn what was written since a mark into one TLV. */
export class DerWriter {
  private buffer: Uint8Array<ArrayBuffer>;
  private at: number;

  constructor(capacity = 2048) {
    this.buffer = new Uint8Array(capacity);
    this.at = capacity;
  }

  /** Forgets what was written, keeping the buffer. */
  reset(): void {
    this.at = this.buffer.length;
  }

  /** The position to pass to {@link wrap}: everything written after this call is the TLV's contents. */
  mark(): number {
    return this.buffer.length - this.at;
  }

  /** Makes room for `size` more bytes in front of what was written. */
  private room(size: number): void {
    if (this.at >= size) return;
    const used = this.buffer.length - this.at;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, used + size + 64));
    grown.set(this.buffer.subarray(this.at), grown.length - used);
    this.buffer = grown;
    this.at = grown.length - used;
  }

  /** Writes `bytes` in front of what was written. */
  bytes(bytes: Uint8Array): this {
    this.room(bytes.length);
    this.at -= bytes.length;
    this.buffer.set(bytes, this.at);
    return this;
  }

  /** Writes one byte in front of what was written. */
  byte(value: number): this {
    this.room(1);
    this.buffer[--this.at] = value;
    return this;
  }

  /** Writes `text` as UTF-8 in front of what was written. */
  text(text: string): this {
    if (NOT_ASCII.test(text)) return this.bytes(utf8.encode(text));
    this.room(text.length);
    for (let i = text.length - 1; i >= 0; i--) this.buffer[--this.at] = text.charCodeAt(i);
    return this;
  }

  /** Writes `value` (0..99) as two ASCII digits in front of what was written. */
  twoDigits(value: number): this {
    this.room(2);
    this.buffer[--this.at] = 0x30 + (value % 10);
    this.buffer[--this.at] = 0x30 + Math.floor(value / 10);
    return this;
  }

  /** Puts the header of a TLV tagged `tag` in front of what was written since `mark`. */
  wrap(tag: number, mark: number): this {
    const length = this.buffer.length - this.at - mark;
    if (length < 0x80) return this.byte(length).byte(tag);
    let count = 0;
    for (let n = length; n > 0; n = Math.floor(n / 256)) {
      this.byte(n & 0xff);
      count++;
    }
    return this.byte(0x80 | count).byte(tag);
  }

  /** What was written, viewed in place: valid until the next write or {@link reset}. */
  view(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(this.at);
  }
}
