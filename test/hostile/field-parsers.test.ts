import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClfTime } from '../../parsers/fields/clf-time.js';
import { parseDecimal, parseUnsignedInt } from '../../parsers/fields/numbers.js';
import { parseIsoTimestamp } from '../../parsers/proxy-line-kit.js';

/** The shared field parsers: exact on every valid value, NaN (never a guess) on anything else. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function clf(ms: number, offsetMinutes: number, withMillis: boolean): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const abs = Math.abs(offsetMinutes);
  const fraction = withMillis ? `.${pad(d.getUTCMilliseconds(), 3)}` : '';
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction} ${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

describe('CLF time ($time_local, Apache %t)', () => {
  it('reads back every instant in every zone', () => {
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(9998, 11, 1) }), fc.integer({ min: -720, max: 840 }), fc.boolean(),
      (ms, offset, withMillis) => {
        const expected = withMillis ? ms : ms - (ms % 1000);
        expect(parseClfTime(clf(ms, offset, withMillis))).toBe(expected);
      },
    ), { numRuns: 1000 });
  });

  it('refuses impossible dates, zones and digits instead of rolling them over', () => {
    for (const text of [
      '31/Apr/2025:10:32:01 +0000', '29/Feb/2025:10:32:01 +0000', '30/Feb/2024:10:32:01 +0000', '00/Jan/2025:10:32:01 +0000',
      '15/Jan/2025:10:32:01.12x +0000', '15/Jan/2025:10:32:01 +0099', '15/Jan/2025:24:00:00 +0000', '15/Jan/2025:10:60:00 +0000',
      '15/jan/2025:10:32:01 +0000', '15/Jan/2025:10:32:01 0000', '15/Jan/2025:10:32:01 +00:00', '1e/Jan/2025:10:32:01 +0000',
    ]) expect(parseClfTime(text), text).toBeNaN();
    expect(parseClfTime('29/Feb/2024:10:32:01 +0000')).toBe(Date.UTC(2024, 1, 29, 10, 32, 1));
  });
});

describe('numbers', () => {
  it('accept plain decimals only: no exponents, hex, signs on integers, Infinity or NaN', () => {
    for (const text of ['1e309', '0x10', 'Infinity', 'NaN', '', ' 7', '7 ', '+5', '1.2.3', '١٢٣', '-', '.', '1_000']) {
      expect(parseDecimal(text), text).toBeNaN();
      expect(parseUnsignedInt(text), text).toBeNaN();
    }
    expect(parseUnsignedInt('-1')).toBeNaN();
    expect(parseUnsignedInt('9'.repeat(16))).toBeNaN();
    fc.assert(fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.nat(999), (whole, fraction) => {
      expect(parseDecimal(`${whole}.${pad(fraction, 3)}`)).toBe(Number(`${whole}.${pad(fraction, 3)}`));
      expect(parseUnsignedInt(String(whole))).toBe(whole);
    }));
  });

  it('reads every plain decimal exactly as Number() does, sign, leading zeros and long fractions included', () => {
    const decimal = fc.tuple(fc.boolean(), fc.stringMatching(/^[0-9]{0,12}$/), fc.option(fc.stringMatching(/^[0-9]{0,12}$/)))
      .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`)
      .filter((text) => /[0-9]/.test(text));
    fc.assert(fc.property(decimal, (text) => {
      expect(Object.is(parseDecimal(text), Number(text)), text).toBe(true);
    }), { numRuns: 5000 });
    for (const text of ['-0', '0.1', '.5', '5.', '0.30000000000000004', '9007199254740993', '123456789012.345678']) {
      expect(Object.is(parseDecimal(text), Number(text)), text).toBe(true);
    }
  });

  it('reads ISO timestamps as Date.parse does (ms kept, finer digits dropped), valid or not', () => {
    const reference = (text: string): number => {
      const zoneAt = text.endsWith('Z') ? text.length - 1 : text.length - 6;
      const fraction = text.charCodeAt(19) === 46 ? text.slice(20, Math.min(zoneAt, 23)).padEnd(3, '0') : '000';
      return Date.parse(`${text.slice(0, 19)}.${fraction}${text.slice(zoneAt)}`);
    };
    const iso = fc.record({
      ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/)),
      zone: fc.constantFrom('Z', '+01:00', '-05:30', '+00:00', '+23:59', '-12:45'),
    }).map(({ ms, fraction, zone }) => `${new Date(ms).toISOString().slice(0, 19)}${fraction === null ? '' : `.${fraction}`}${zone}`);
    const twoDigits = (max: number): fc.Arbitrary<string> => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    // Every field over and past its range: month 13, day 32, 24:00 and 24:01, minute 60, zone +24:00.
    const anyFields = fc.tuple(
      fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')), twoDigits(13), twoDigits(32),
      twoDigits(25), fc.constantFrom('00', '30', '59', '60'), fc.constantFrom('00', '30', '59', '60'),
      fc.constantFrom('', '.0', '.000', '.5', '.999999'),
      fc.constantFrom('Z', '+00:00', '-23:59', '+24:00', '+05:60', '+5:00'),
    ).map(([year, month, day, hour, minute, second, fraction, zone]) => `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}${zone}`);
    fc.assert(fc.property(fc.oneof(iso, anyFields), (text) => {
      expect(parseIsoTimestamp(text), text).toBe(reference(text));
    }), { numRuns: 20_000 });
    for (const text of ['0050-01-01T00:00:00Z', '2025-02-30T10:00:00Z', '2024-02-29T23:59:59.999Z', '2025-01-15T24:00:00Z', '2025-01-15T24:00:00.001Z']) {
      expect(parseIsoTimestamp(text), text).toBe(reference(text));
    }
    expect(parseIsoTimestamp('2025-01-15T10:32:31.904112Z')).toBe(Date.UTC(2025, 0, 15, 10, 32, 31, 904));
    expect(parseIsoTimestamp('2025-01-15T10:32:31.9Z')).toBe(Date.UTC(2025, 0, 15, 10, 32, 31, 900));
    expect(parseIsoTimestamp('2025-01-15T10:32:31.Z')).toBeNaN();
    expect(parseIsoTimestamp('2025-01-15T10:32:31.904112')).toBeNaN();
  });
});
