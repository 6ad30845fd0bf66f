/**
 * Nanosecond epochs and durations to milliseconds without going through a lossy Number of the
 * nanosecond value (1736937121374012000 ns is beyond 2^53). The result is the double nearest to
 * the exact millisecond value: 1736937121374012000 ns gives 1736937121374.012.
 */

const DIGITS = /^\d{1,30}$/;

/** Decimal digits of a non-negative integer given as a digit string or a safe integer; null otherwise. */
export function integerDigits(value: unknown): string | null {
  if (typeof value === 'string') return DIGITS.test(value) ? value : null;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
    // Integers above 2^53 reaching here were already rounded by someone else; keep what is left.
    return BigInt(value).toString();
  }
  return null;
}

/** Nanoseconds (digit string) to milliseconds: whole ms from the leading digits, the rest as a fraction. */
export function nanosDigitsToMs(digits: string): number {
  if (digits.length <= 6) return Number(digits) / 1e6;
  return Number(digits.slice(0, -6)) + Number(digits.slice(-6)) / 1e6;
}

/** Nanoseconds given as digits or a number to ms; NaN when it is neither. */
export function nanosToMs(value: unknown): number {
  const digits = integerDigits(value);
  return digits === null ? NaN : nanosDigitsToMs(digits);
}

/** `end - start` in ms from two nanosecond values; NaN when either is bad or end < start. */
export function nanosSpanToMs(start: unknown, end: unknown): number {
  const startDigits = integerDigits(start);
  const endDigits = integerDigits(end);
  if (startDigits === null || endDigits === null) return NaN;
  const diff = BigInt(endDigits) - BigInt(startDigits);
  return diff < 0n ? NaN : nanosDigitsToMs(diff.toString());
}

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;

/** ISO 8601 instant with up to 9 fraction digits to epoch ns (exact), or null. */
export function isoToNanos(text: string): bigint | null {
  const match = ISO.exec(text);
  if (!match) return null;
  const zone = match[3]!;
  const whole = Date.parse(`${match[1]!}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (!Number.isFinite(whole) || whole < 0) return null;
  return BigInt(whole) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** ISO 8601 instant to epoch ms, keeping the sub-ms part; NaN when it does not parse. */
export function isoToMs(text: string): number {
  const nanos = isoToNanos(text);
  return nanos === null ? NaN : nanosDigitsToMs(nanos.toString());
}
