/**
 * A bounded timeline: values per fixed-width time bucket, at most `cap` buckets. When a log spans
 * more than that, the width doubles and neighbouring buckets merge, so a month of logs costs the
 * same memory as an hour (only the resolution drops). `merge` must add one bucket into another.
 */
export class TimeBuckets<V> {
  private buckets = new Map<number, V>();
  private originMs: number | null = null;
  // The bucket asked for last: logs are roughly in time order, so most calls repeat it.
  private lastIndex = -1;
  private lastValue: V | undefined;
  widthMs: number;

  constructor(
    initialWidthMs: number,
    private readonly cap: number,
    private readonly create: () => V,
    private readonly merge: (into: V, from: V) => void,
  ) {
    this.widthMs = initialWidthMs;
  }

  at(timeMs: number): V {
    if (this.originMs === null) this.originMs = Math.floor(timeMs / this.widthMs) * this.widthMs;
    // Records slightly before the origin (rough time order) go to the first bucket.
    let index = Math.max(0, Math.floor((timeMs - this.originMs) / this.widthMs));
    while (index >= this.cap) {
      this.widen();
      index = Math.max(0, Math.floor((timeMs - this.originMs) / this.widthMs));
    }
    if (index === this.lastIndex) return this.lastValue!;
    let value = this.buckets.get(index);
    if (value === undefined) this.buckets.set(index, (value = this.create()));
    this.lastIndex = index;
    this.lastValue = value;
    return value;
  }

  private widen(): void {
    this.lastIndex = -1;
    const merged = new Map<number, V>();
    for (const [index, value] of this.buckets) {
      const target = Math.floor(index / 2);
      const existing = merged.get(target);
      if (existing === undefined) merged.set(target, value);
      else this.merge(existing, value);
    }
    this.buckets = merged;
    this.widthMs *= 2;
  }

  /** Buckets in time order, with their start instant. */
  entries(): { startMs: number; value: V }[] {
    const origin = this.originMs ?? 0;
    return [...this.buckets]
      .sort((a, b) => a[0] - b[0])
      .map(([index, value]) => ({ startMs: origin + index * this.widthMs, value }));
  }

  get size(): number {
    return this.buckets.size;
  }
}
