/** A small Prometheus text exposition (format 0.0.4): counters, histograms and gauges with fixed label names. */

/** Label values by label name. */
export type Labels = Record<string, string>;

/** A label value as the text format writes it: backslash, quote and newline escaped. */
const escapeValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** `{a="1",b="2"}`, or nothing without labels. */
function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return "";
  return `{${names.map((n, i) => `${n}="${escapeValue(values[i] ?? "")}"`).join(",")}}`;
}

/** A number as the text format writes it. */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** The `# HELP` and `# TYPE` lines of a metric family. */
function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
}

/** One series per combination of label values, kept in insertion order. */
class Series<T> {
  private readonly byKey = new Map<string, { values: string[]; data: T }>();

  constructor(
    readonly labelNames: readonly string[],
    private readonly create: () => T,
  ) {}

  get(labels: Labels): T {
    const values = this.labelNames.map((n) => labels[n] ?? "");
    const key = values.join("\u0000");
    let entry = this.byKey.get(key);
    if (!entry) {
      entry = { values, data: this.create() };
      this.byKey.set(key, entry);
    }
    return entry.data;
  }

  entries(): { values: string[]; data: T }[] {
    return [...this.byKey.values()];
  }
}

/** A monotonically increasing count. */
export class Counter {
  private readonly series: Series<{ value: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[] = [],
  ) {
    this.series = new Series(labelNames, () => ({ value: 0 }));
  }

  /** Adds `n` (default 1) to the series of `labels`, creating it at 0 first. */
  inc(labels: Labels = {}, n = 1): void {
    this.series.get(labels).value += n;
  }

  render(): string {
    let text = header(this.name, this.help, "counter");
    for (const { values, data } of this.series.entries())
      text += `${this.name}${formatLabels(this.series.labelNames, values)} ${formatNumber(data.value)}\n`;
    return text;
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram {
  private readonly series: Series<{ buckets: number[]; sum: number; count: number }>;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    this.series = new Series(labelNames, () => ({
      buckets: new Array<number>(bounds.length).fill(0),
      sum: 0,
      count: 0,
    }));
  }

  observe(labels: Labels, value: number): void {
    const s = this.series.get(labels);
    for (let i = 0; i < this.bounds.length; i++)
      if (value <= (this.bounds[i] ?? 0)) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let text = header(this.name, this.help, "histogram");
    const names = this.series.labelNames;
    for (const { values, data } of this.series.entries()) {
      this.bounds.forEach((bound, i) => {
        const labels = formatLabels([...names, "le"], [...values, formatNumber(bound)]);
        text += `${this.name}_bucket${labels} ${data.buckets[i] ?? 0}\n`;
      });
      text += `${this.name}_bucket${formatLabels([...names, "le"], [...values, "+Inf"])} ${data.count}\n`;
      text += `${this.name}_sum${formatLabels(names, values)} ${formatNumber(data.sum)}\n`;
      text += `${this.name}_count${formatLabels(names, values)} ${data.count}\n`;
    }
    return text;
  }
}

/** A gauge family read at scrape time: one sample per label combination given. */
export function gauge(
  name: string,
  help: string,
  labelNames: readonly string[],
  samples: { labels: Labels; value: number }[],
): string {
  let text = header(name, help, "gauge");
  for (const { labels, value } of samples)
    text += `${name}${formatLabels(
      labelNames,
      labelNames.map((n) => labels[n] ?? ""),
    )} ${formatNumber(value)}\n`;
  return text;
}
