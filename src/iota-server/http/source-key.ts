/** The key a client address is counted under by the rate limits and the wrong-credential throttle. */

/** The eight 16-bit groups of an IPv6 address (zone id dropped); undefined when `text` is not one. */
function ipv6Groups(text: string): number[] | undefined {
  const address = text.replace(/%.*$/, "");
  if (!address.includes(":")) return undefined;
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    const pieces = part.split(":");
    for (const [i, piece] of pieces.entries()) {
      // Hint: the last 32 bits may be written as dotted IPv4 (`::ffff:192.0.2.7`, `64:ff9b::198.51.100.1`).
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = ipv4Octets(piece);
        if (!v4) return undefined;
        groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) groups.push(Number.parseInt(piece, 16));
      else return undefined;
    }
    return groups;
  };
  const head = parse(halves[0] ?? "");
  const tail = halves.length === 2 ? parse(halves[1] ?? "") : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** The four octets of a dotted IPv4 address; undefined when `text` is not one. */
function ipv4Octets(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/**
 * The counting key of a client address: an IPv4 address as it is; an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.7`, in any spelling) as its IPv4 address; any other IPv6 address as its /64 (`2001:db8:1:2::/64`).
 * Hint: a single subscriber or host is routinely given a whole /64 and may use any of its 2^64 addresses, so
 * counting per address would give it as many budgets; one /64 is one budget. Text that is no address (`local`
 * in-process, a malformed forwarded hop) is its own key.
 */
export function sourceKey(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  const prefix = groups.slice(0, 4).map((g) => g.toString(16));
  // Hint: trailing zero groups are shortened, so every spelling of one /64 gives one key.
  while (prefix.length > 0 && prefix[prefix.length - 1] === "0") prefix.pop();
  return `${prefix.join(":")}::/64`;
}
