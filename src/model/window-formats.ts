/**
 * Which report files a scan writes per window (`alf scan --format`, `alf merge --format`). The
 * HTML report draws every chart to a static SVG as well (vega in Node), ~60-80 ms a window; an
 * unattended scan that only ships or alerts on the JSON can skip it. Light: `--help` loads it.
 */
export const WINDOW_FORMATS = ['json', 'html'] as const;
export type WindowFormat = (typeof WINDOW_FORMATS)[number];

/** Both, as before the option existed. */
export const DEFAULT_WINDOW_FORMATS: readonly WindowFormat[] = WINDOW_FORMATS;

/** `json`, `html` or `json,html` (any order, no repeats) to the list in canonical order; null when it is not one of these. */
export function parseWindowFormats(text: string): WindowFormat[] | null {
  const named = text.split(',').map((part) => part.trim().toLowerCase());
  if (named.some((name) => !(WINDOW_FORMATS as readonly string[]).includes(name))) return null;
  if (new Set(named).size !== named.length) return null;
  return WINDOW_FORMATS.filter((format) => named.includes(format));
}
