/** Rounds a figure for a report to `digits` decimals (findings carry readable numbers, not float noise). */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  // `+ 0` turns -0 into 0: JSON writes -0 as 0, so a report would otherwise show "-0" beside a JSON 0.
  return Math.round(value * scale) / scale + 0;
}
