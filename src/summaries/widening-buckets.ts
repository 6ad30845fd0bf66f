/**
 * Time buckets on round widths (1 min, 5 min, 15 min, 1 h, 6 h, 1 day), aligned to the epoch so
 * charts get round tick marks. When a log would need more than `maxBuckets`, the width steps up
 * and buckets merge: a month of logs keeps the same bounded series as an hour.
 */
const WIDTHS_MS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000];

export class WideningBuckets<V> {
  private widthIndex = 0;
  private buckets = new Map<number, V>();
  // The bucket asked for last: logs are roughly in time order, so most requests fall in the same
  // bucket as the one before, and the Map (keyed by epoch ms, not a small integer) is skipped.
  private lastBucket = Number.NaN;
  private lastValue: V | undefined;

  constructor(
    private readonly maxBuckets: number,
    private readonly create: () => V,
    /** Adds the contents of `from` into `into` (both the same bucket after widening). */
    private readonly merge: (into: V, from: V) => void,
  ) {}

  at(timeMs: number): V {
    const width = WIDTHS_MS[this.widthIndex]!;
    const bucket = Math.floor(timeMs / width) * width;
    if (bucket === this.lastBucket) return this.lastValue!;
    let value = this.buckets.get(bucket);
    if (value === undefined) {
      if (this.buckets.size >= this.maxBuckets && this.widthIndex < WIDTHS_MS.length - 1) {
        this.widen();
        return this.at(timeMs);
      }
      this.buckets.set(bucket, (value = this.create()));
    }
    this.lastBucket = bucket;
    this.lastValue = value;
    return value;
  }

  private widen(): void {
    this.widthIndex++;
    this.lastBucket = Number.NaN;
    const width = WIDTHS_MS[this.widthIndex]!;
    const merged = new Map<number, V>();
    for (const [bucket, value] of this.buckets) {
      const target = Math.floor(bucket / width) * width;
      const into = merged.get(target);
      if (into === undefined) merged.set(target, value);
      else this.merge(into, value);
    }
    this.buckets = merged;
  }

  get bucketSeconds(): number {
    return WIDTHS_MS[this.widthIndex]! / 1000;
  }

  /** Buckets in time order, with their start instant (epoch ms). */
  entries(): [number, V][] {
    return [...this.buckets].sort((a, b) => a[0] - b[0]);
  }
}
