/** A small seeded PRNG for fuzz and fault tests: the seed is printed, so any failure can be replayed with FUZZ_SEED. */

/** A deterministic random source with the helpers the generators need. */
export interface Prng {
  /** The seed this source started from. */
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [min, max] (both included). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

/** sfc32 seeded through splitmix32: fast, 32-bit state words, good enough statistics for test inputs. */
export function createPrng(seed: number): Prng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[int(0, items.length - 1)] as T;
    },
  };
}

/** The seed from `FUZZ_SEED` (decimal or 0x hex), else a fresh one; printed either way so a failure can be replayed. */
export function seedFromEnv(label: string): Prng {
  const given = process.env.FUZZ_SEED;
  const seed =
    given !== undefined && given !== "" ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`${label}: FUZZ_SEED=${seed} (set it to replay this run)`);
  return createPrng(seed);
}

/** A count from the environment variable `name`, else `fallback` (e.g. FUZZ_CASES, FAULT_TRIALS). */
export function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Counts outcomes by label and prints them sorted, one per line. */
export class Histogram {
  private readonly counts = new Map<string, number>();

  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  /** The histogram as text lines, largest first. */
  format(): string {
    return [...this.counts.entries()]
      .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
      .map(([label, count]) => `${String(count).padStart(7)}  ${label}`)
      .join("\n");
  }
}
