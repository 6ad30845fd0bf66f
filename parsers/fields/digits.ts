/** Two ASCII digits at `at` as a number, NaN when either is not a digit. */
export function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return NaN;
  return a * 10 + b;
}

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
