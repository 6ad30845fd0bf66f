import { ownString } from '../model/own-string.js';
import { BoundedCounter } from './bounded-counter.js';

/** Values longer than this skip the length buckets (user agents are ~100-200 characters). */
const MAX_BUCKETED_LENGTH = 1024;
/** Values kept per length; more of one length are counted in the capped Map behind. */
const PER_LENGTH = 4;

/**
 * Exact counts by a long, repeated per-record string (a user agent) without hashing every
 * record's fresh copy of it. A Map lookup hashes the whole value, ~110 characters, on every
 * record; here the value's length picks a bucket of at most PER_LENGTH values, compared by
 * content (most recently counted first), and only values that do not fit their bucket go to a
 * capped Map. Why: counting every request of an nginx `combined` log by user agent (what proxy
 * responses judge client aborts by) cost 0.12 s of 2.70 s CPU on the bench's 1 M high-cardinality
 * lines (`alf analyze`, 7 alternating runs each, medians 2.70 against 2.58 s without the count).
 *
 * Buckets hold owned copies (ownString) and never give up a value, so each value is counted in
 * one place only: its bucket or the Map. Memory is bounded: MAX_BUCKETED_LENGTH × PER_LENGTH
 * values, plus the Map's cap (past it, new values count under "(other)", reported as a cap hit).
 * Values chosen to fill the buckets (many of one length) only send the rest to the Map, the cost
 * every value had before.
 */
export class LongStringTally {
  private readonly buckets: ({ value: string; count: number }[] | undefined)[] = new Array(MAX_BUCKETED_LENGTH + 1);
  private readonly rest: BoundedCounter<{ count: number }>;

  constructor(cap: number) {
    this.rest = new BoundedCounter(cap, () => ({ count: 0 }));
  }

  add(value: string): void {
    const length = value.length;
    if (length > MAX_BUCKETED_LENGTH) {
      this.rest.get(value).count++;
      return;
    }
    let bucket = this.buckets[length];
    if (bucket === undefined) this.buckets[length] = bucket = [];
    for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i]!;
      if (entry.value !== value) continue;
      entry.count++;
      // The value counted last is looked at first: a log's records come in runs of one client.
      if (i > 0) {
        bucket[i] = bucket[0]!;
        bucket[0] = entry;
      }
      return;
    }
    if (bucket.length < PER_LENGTH) bucket.push({ value: ownString(value), count: 1 });
    else this.rest.get(value).count++;
  }

  /** How many times `value` was added (0 if never; values past the Map's cap count under "(other)"). */
  count(value: string): number {
    const entry = value.length <= MAX_BUCKETED_LENGTH ? this.buckets[value.length]?.find((e) => e.value === value) : undefined;
    return entry?.count ?? this.rest.peek(value)?.count ?? 0;
  }
}
