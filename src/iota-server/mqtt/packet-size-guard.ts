/**
 * MQTT packet sizes read from the stream before the broker's parser buffers them: a client announcing a
 * packet larger than the limit is cut off at its fixed header, never after sending the whole body.
 */

/** The largest MQTT packet the embedded broker takes by default: status messages are well under 4 KiB. */
export const DEFAULT_MAX_PACKET_BYTES = 64 * 1024;

/**
 * Follows MQTT framing (a type byte, a remaining length of 1-4 bytes of 7 bits each, then that many bytes)
 * across the chunks a connection delivers. Hint: it only counts; the broker's own parser still reads every byte.
 */
export class PacketSizeGuard {
  /** Bytes of the current packet's body still to come; -1 while reading a fixed header. */
  private remaining = -1;
  private length = 0;
  private lengthBytes = 0;
  private inHeader = false;

  constructor(private readonly maxBytes: number = DEFAULT_MAX_PACKET_BYTES) {}

  /** Reads `chunk`; the announced size of the first packet over the limit, or undefined while all fit. */
  check(chunk: Uint8Array): number | undefined {
    for (let at = 0; at < chunk.length; ) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - at);
        this.remaining -= skip;
        at += skip;
        continue;
      }
      if (!this.inHeader) {
        // Hint: the type and flags byte; the remaining length follows.
        this.inHeader = true;
        this.length = 0;
        this.lengthBytes = 0;
        at++;
        continue;
      }
      const byte = chunk[at++] ?? 0;
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
      this.lengthBytes++;
      if (byte & 0x80 && this.lengthBytes < 4) continue;
      // Hint: a fourth length byte with its continuation bit set is malformed; the broker's parser refuses it.
      this.inHeader = false;
      if (this.length > this.maxBytes) return this.length;
      this.remaining = this.length;
    }
    return undefined;
  }
}
