/** Rounds a figure for a report to `digits` decimals (findings carry readable numbers, not float noise). */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
