import { describe, expect, it } from 'vitest';
import { WideningBuckets } from '../../src/summaries/widening-buckets.js';

const counter = (): WideningBuckets<{ n: number }> => new WideningBuckets(10, () => ({ n: 0 }), (into, from) => { into.n += from.n; });

describe('widening time buckets', () => {
  it('keeps one-minute buckets aligned to the minute while few are needed', () => {
    const buckets = counter();
    buckets.at(Date.UTC(2025, 0, 15, 10, 0, 30)).n++;
    buckets.at(Date.UTC(2025, 0, 15, 10, 0, 59)).n++;
    buckets.at(Date.UTC(2025, 0, 15, 10, 1, 0)).n++;
    expect(buckets.bucketSeconds).toBe(60);
    expect(buckets.entries().map(([start, value]) => [new Date(start).toISOString(), value.n])).toEqual([
      ['2025-01-15T10:00:00.000Z', 2], ['2025-01-15T10:01:00.000Z', 1],
    ]);
  });

  it('steps up to round wider buckets past the cap, merging counts so none are lost', () => {
    const buckets = counter();
    const start = Date.UTC(2025, 0, 15, 0, 0, 0);
    for (let minute = 0; minute < 600; minute++) buckets.at(start + minute * 60_000).n++;
    expect(buckets.entries().length).toBeLessThanOrEqual(10);
    expect(buckets.bucketSeconds).toBe(3600);
    expect(buckets.entries().reduce((sum, [, value]) => sum + value.n, 0)).toBe(600);
    for (const [bucketStart] of buckets.entries()) expect(bucketStart % 3_600_000).toBe(0);
  });
});
