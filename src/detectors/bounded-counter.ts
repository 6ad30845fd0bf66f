/**
 * Counts by string key with a cap on distinct keys: past the cap, new keys fold into "(other)"
 * and the overflow is remembered, so memory stays bounded on a billion distinct URLs.
 */
export const OTHER = '(other)';

export class BoundedCounter<V> {
  private readonly entries = new Map<string, V>();
  overflowed = 0;

  constructor(
    private readonly cap: number,
    private readonly create: () => V,
  ) {}

  /**
   * The hit path is one Map lookup in a function small enough to inline into every detector's
   * observe(); the miss path (create, cap, fold) lives in insert(). 400k lookups of 4,000 client
   * IPs: 90-150 ms before, 56-98 ms after (perf, issue 8).
   */
  get(key: string): V {
    const value = this.entries.get(key);
    return value !== undefined ? value : this.insert(key);
  }

  private insert(key: string): V {
    let value: V | undefined;
    if (this.entries.size >= this.cap) {
      this.overflowed++;
      key = OTHER;
      value = this.entries.get(key);
      if (value !== undefined) return value;
    }
    value = this.create();
    this.entries.set(key, value);
    return value;
  }

  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries.entries();
  }

  get size(): number {
    return this.entries.size;
  }
}
