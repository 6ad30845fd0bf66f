import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseTraceId, traceIdFromAmznTraceId, traceIdFromTraceparent } from '../../parsers/fields/trace-context.js';

/** The regex-based version these functions replaced: the oracle for the property below. */
const HEX32 = /^[0-9a-f]{32}$/;
function referenceTraceparent(header: string): string | null {
  if (header.length < 55 || header.charCodeAt(2) !== 45) return null;
  if (header.slice(0, 2).toLowerCase() === 'ff') return null;
  const traceId = header.slice(3, 35).toLowerCase();
  return !HEX32.test(traceId) || traceId === '0'.repeat(32) ? null : traceId;
}
function referenceAmzn(header: string): string | null {
  const at = header.indexOf('Root=1-');
  if (at < 0) return null;
  const root = header.slice(at + 7, at + 7 + 33);
  const traceId = (root.slice(0, 8) + root.slice(9, 33)).toLowerCase();
  return HEX32.test(traceId) ? traceId : null;
}
function referenceNormalise(value: string): string | null {
  const lower = value.toLowerCase();
  if (HEX32.test(lower)) return lower === '0'.repeat(32) ? null : lower;
  if (value.startsWith('Root=') || value.includes('Root=1-')) return referenceAmzn(value);
  return referenceTraceparent(value);
}

describe('trace ids from propagation headers', () => {
  it('reads the W3C traceparent, refusing version ff and the all-zero id', () => {
    expect(traceIdFromTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdFromTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeNull();
    expect(traceIdFromTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeNull();
    expect(traceIdFromTraceparent('00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01')).toBeNull();
  });

  it('maps X-Amzn-Trace-Id Root=1-<8>-<24> to 32 hex, wherever Root sits in the header', () => {
    expect(traceIdFromAmznTraceId('Root=1-67878E83-2a74f8ab018a417c94c55391')).toBe('67878e832a74f8ab018a417c94c55391');
    expect(traceIdFromAmznTraceId('Self=1-67878e83-aaa;Root=1-67878e83-2a74f8ab018a417c94c55391;Sampled=1')).toBe('67878e832a74f8ab018a417c94c55391');
    expect(traceIdFromAmznTraceId('Root=1-67878e83-2a74f8ab018a417c94c5539')).toBeNull();
  });

  it('accepts a bare id in either case', () => {
    expect(normaliseTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normaliseTraceId('0'.repeat(32))).toBeNull();
    expect(normaliseTraceId('-')).toBeNull();
  });

  it('agrees with the regex version it replaced on any header (property)', () => {
    // Mostly well-formed headers (so the hex runs are long enough to matter), each possibly corrupted
    // at one position with a character near the edges of the hex ranges.
    const hex = fc.array(fc.constantFrom(...'0123456789abcdefABCDEF'), { minLength: 32, maxLength: 32 }).map((chars) => chars.join(''));
    const wellFormed = fc.oneof(
      hex,
      hex.map((id) => `00-${id}-00f067aa0ba902b7-01`),
      hex.map((id) => `ff-${id}-00f067aa0ba902b7-01`),
      hex.map((id) => `Root=1-${id.slice(0, 8)}-${id.slice(8, 32)}`),
      hex.map((id) => `Self=1-x;Root=1-${id.slice(0, 8)}-${id.slice(8, 32)};Sampled=1`),
    );
    const header = fc.tuple(wellFormed, fc.nat(80), fc.option(fc.constantFrom('\u0010', '\u0019', '/', ':', '@', 'G', '`', 'g', 'Ā', '-', ''), { nil: undefined }))
      .map(([text, at, replacement]) => (replacement === undefined || at >= text.length ? text : text.slice(0, at) + replacement + text.slice(at + 1)));
    fc.assert(fc.property(header, (value) => {
      expect(normaliseTraceId(value)).toBe(referenceNormalise(value));
      expect(traceIdFromAmznTraceId(value)).toBe(referenceAmzn(value));
      expect(traceIdFromTraceparent(value)).toBe(referenceTraceparent(value));
    }), { numRuns: 5000 });
  });
});
