/**
 * Strict number parsing for log fields. `Number()` accepts '', '0x10', ' 1 ', 'Infinity';
 * parseFloat accepts '1abc'. Logs are attacker-controlled, so only plain decimals pass.
 */

/** Parses `[-]digits[.digits]`; anything else (including exponents, hex, NaN, empty) gives NaN. */
export function parseDecimal(text: string): number {
  const length = text.length;
  if (length === 0 || length > 32) return NaN;
  let index = 0;
  if (text.charCodeAt(0) === 45 /* - */) index = 1;
  let digits = 0;
  let dots = 0;
  for (let i = index; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
    else if (code === 46 /* . */ && dots === 0) dots++;
    else return NaN;
  }
  if (digits === 0) return NaN;
  return +text;
}

/** Parses a non-negative integer of at most 15 digits; anything else gives NaN. */
export function parseUnsignedInt(text: string): number {
  const length = text.length;
  if (length === 0 || length > 15) return NaN;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return NaN;
    value = value * 10 + code;
  }
  return value;
}

/** Seconds with ms precision ("0.084") to whole milliseconds, without float noise. */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}
