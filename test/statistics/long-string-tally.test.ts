import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LongStringTally } from '../../src/statistics/long-string-tally.js';

/** Counts as a plain Map would: the specification the tally must match exactly. */
function mapCounts(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** A fresh copy of the same text, as a parser cuts a new one out of every line. */
const fresh = (value: string): string => `x${value}`.slice(1);

describe('LongStringTally', () => {
  it('counts every value exactly as a Map would, whatever lengths they share', () => {
    // Few lengths and many values: buckets fill up and the rest go to the Map behind them.
    const agent = fc.oneof(
      fc.string({ minLength: 20, maxLength: 20 }),
      fc.constantFrom('curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.0.0', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/121.0.0.0'),
      fc.string({ minLength: 1100, maxLength: 1100 }).map((s) => s),
    );
    fc.assert(fc.property(fc.array(agent, { maxLength: 300 }), (values) => {
      const tally = new LongStringTally(10_000);
      for (const value of values) tally.add(fresh(value));
      for (const [value, count] of mapCounts(values)) expect(tally.count(fresh(value))).toBe(count);
      expect(tally.count('never added')).toBe(0);
    }), { numRuns: 200 });
  });

  it('keeps counting a value whose text holds a lone surrogate (a JSON log may escape one)', () => {
    const tally = new LongStringTally(10);
    const agent = 'ReportBot/1.0 \ud800 (nightly export)';
    for (let i = 0; i < 7; i++) tally.add(fresh(agent));
    expect(tally.count(agent)).toBe(7);
  });

  it('folds values past its cap into "(other)", as other capped tables do', () => {
    const tally = new LongStringTally(2);
    // Five values of one length: four fill the bucket, the fifth and sixth go to the capped Map.
    const values = ['agent-0000000001', 'agent-0000000002', 'agent-0000000003', 'agent-0000000004', 'agent-0000000005', 'agent-0000000006', 'agent-0000000007'];
    for (const value of values) tally.add(value);
    expect(values.slice(0, 6).map((v) => tally.count(v))).toEqual([1, 1, 1, 1, 1, 1]);
    expect(tally.count('agent-0000000007')).toBe(0);
    expect(tally.count('(other)')).toBe(1);
  });
});
