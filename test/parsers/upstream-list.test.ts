import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lastUpstreamElement, parseLastUpstreamStatus, parseUpstreamSeconds } from '../../parsers/fields/upstream-list.js';
import { parseDecimal, parseUnsignedInt } from '../../parsers/fields/numbers.js';

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

/** The last element as read before the single-element fast paths. */
function lastOracle(text: string): string | null {
  if (text === '-' || text === '') return null;
  const comma = text.lastIndexOf(', ');
  const colon = text.lastIndexOf(' : ');
  const cut = Math.max(comma + 2 * Number(comma >= 0), colon + 3 * Number(colon >= 0));
  const last = cut > 0 ? text.slice(cut) : text;
  return last === '-' ? null : last;
}

function statusOracle(text: string): number | null | undefined {
  if (text === '-' || text === '') return null;
  const last = /[,:]/.test(text) ? lastOracle(text) ?? '-' : text;
  if (last === '-') return null;
  const value = parseUnsignedInt(last);
  return Number.isNaN(value) ? undefined : value;
}

describe('nginx $upstream_* lists', () => {
  it('read one attempt, a list of servers and redirect groups, "-" elements, and refuse anything else', () => {
    expect(parseUpstreamSeconds('0.083')).toEqual({ totalMs: 83, attempts: 1 });
    expect(parseUpstreamSeconds('0.010, 0.020 : 0.030')).toEqual({ totalMs: 60, attempts: 3 });
    expect(parseUpstreamSeconds('-, 0.001')).toEqual({ totalMs: 1, attempts: 2 });
    expect(parseUpstreamSeconds('-')).toEqual({ totalMs: null, attempts: 0 });
    expect(parseUpstreamSeconds('0.0x1')).toBeNull();
    expect(parseUpstreamSeconds('0.01,')).toBeNull();
  });

  it('keep the last status and address of a list', () => {
    expect(parseLastUpstreamStatus('502, 200 : 504')).toBe(504);
    expect(parseLastUpstreamStatus('200')).toBe(200);
    expect(parseLastUpstreamStatus('502, -')).toBeNull();
    expect(parseLastUpstreamStatus('20x')).toBeUndefined();
    expect(lastUpstreamElement('10.0.3.16:8080, 10.0.3.17:8080 : 10.0.4.9:8080')).toBe('10.0.4.9:8080');
    expect(lastUpstreamElement('10.0.3.16:8080')).toBe('10.0.3.16:8080');
    expect(lastUpstreamElement('unix:/run/app.sock')).toBe('unix:/run/app.sock');
  });

  it('agree with the list-first reading on any text made of their characters', () => {
    const text = fc.array(fc.constantFrom('0', '1', '9', '.', '-', ',', ' ', ':', ' : ', ', ', 'x'), { maxLength: 14 }).map((parts) => parts.join(''));
    fc.assert(fc.property(text, (value) => {
      const shown = JSON.stringify(value);
      expect(parseUpstreamSeconds(value), shown).toEqual(oracle(value));
      expect(parseLastUpstreamStatus(value), shown).toBe(statusOracle(value));
      expect(lastUpstreamElement(value), shown).toBe(lastOracle(value));
    }), { numRuns: 20_000 });
  });
});
