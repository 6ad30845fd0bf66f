import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUpstreamSeconds } from '../../parsers/fields/upstream-list.js';
import { parseDecimal } from '../../parsers/fields/numbers.js';

/** The reading before the one-attempt fast path: a list is anything holding "," or ":". */
function oracle(text: string): { totalMs: number | null; attempts: number } | null {
  if (text === '-' || text === '') return { totalMs: null, attempts: 0 };
  if (!/[,:]/.test(text)) {
    const value = parseDecimal(text);
    return Number.isNaN(value) ? null : { totalMs: Math.round(value * 1e6) / 1e3, attempts: 1 };
  }
  let total = 0;
  let seen = 0;
  let attempts = 0;
  for (const group of text.split(' : ')) {
    for (const raw of group.split(',')) {
      const element = raw.trim();
      attempts++;
      if (element === '-') continue;
      const value = parseDecimal(element);
      if (Number.isNaN(value)) return null;
      total += value;
      seen++;
    }
  }
  return { totalMs: seen === 0 ? null : Math.round(total * 1e6) / 1e3, attempts };
}

describe('nginx $upstream_*_time lists', () => {
  it('read one attempt, a list of servers and redirect groups, "-" elements, and refuse anything else', () => {
    expect(parseUpstreamSeconds('0.083')).toEqual({ totalMs: 83, attempts: 1 });
    expect(parseUpstreamSeconds('0.010, 0.020 : 0.030')).toEqual({ totalMs: 60, attempts: 3 });
    expect(parseUpstreamSeconds('-, 0.001')).toEqual({ totalMs: 1, attempts: 2 });
    expect(parseUpstreamSeconds('-')).toEqual({ totalMs: null, attempts: 0 });
    expect(parseUpstreamSeconds('0.0x1')).toBeNull();
    expect(parseUpstreamSeconds('0.01,')).toBeNull();
  });

  it('agree with the list-first reading on any text made of their characters', () => {
    const text = fc.array(fc.constantFrom('0', '1', '9', '.', '-', ',', ' ', ':', ' : ', ', ', 'x'), { maxLength: 14 }).map((parts) => parts.join(''));
    fc.assert(fc.property(text, (value) => {
      expect(parseUpstreamSeconds(value), JSON.stringify(value)).toEqual(oracle(value));
    }), { numRuns: 20_000 });
  });
});
