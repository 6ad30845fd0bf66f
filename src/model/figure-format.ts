import type { FigureValue, Unit } from './finding.js';
import { roundTo } from './round.js';

/**
 * How a figure reads in prose and tables, by its unit: "4.98 s", "31.1%", "3.3×". One module for
 * the verdict (built with the findings) and every renderer, so a figure reads the same everywhere.
 * Output is plain text; callers escape it for their medium. Locale-independent.
 */

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/**
 * One formatter per number of decimals, made once: `toLocaleString` with options builds an
 * Intl.NumberFormat on every call, 20-40 µs, and reports format thousands of figures
 * (`alf merge` of the bench's 24 windows: formatNumber 133 ms self, `node --cpu-prof`).
 */
const NUMBER_FORMATS = new Map<number, Intl.NumberFormat>(
  [0, 1, 2, 4].map((digits) => [digits, new Intl.NumberFormat('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits })]),
);

/** 1234567 → "1,234,567"; 4.978 → "4.98"; 31642.744 → "31,643". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = Number.isInteger(value) || magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 0.01 ? 2 : 4;
  return NUMBER_FORMATS.get(digits)!.format(value);
}

/**
 * A value a finding's figure keeps to `digits` decimals (`roundTo`), as the reports print that
 * figure: prose that cites a figure formats it with this (or formatShare of the rounded share), so
 * the sentence and the figure read the same (6.305 is "6.31" in both, not "6.30" from toFixed).
 */
export function formatRounded(value: number, digits: number): string {
  return formatNumber(roundTo(value, digits));
}

/**
 * 0.30905 → "30.9%"; tiny but non-zero shares keep a digit so they do not read as zero. Halves
 * round up: a share kept to 4 decimals (0.0215, of 43 in 1,999) is 2.1499… per cent in binary, and
 * toFixed read it "2.1%" beside "2.2%" for the same 43 kept to 5 decimals (a real HAProxy log).
 */
export function formatShare(share: number): string {
  const percent = share * 100;
  if (percent !== 0 && Math.abs(percent) < 0.1) return `${halfUp(percent, 2)}%`;
  return `${halfUp(percent, 1)}%`;
}

/** `value` to `digits` decimals, a half (as far as binary lets it be one) away from zero. */
function halfUp(value: number, digits: number): string {
  const scale = 10 ** digits;
  const scaled = Math.abs(value) * scale;
  return (Math.sign(value) * Math.round(scaled * (1 + 1e-12)) / scale).toFixed(digits);
}

/** 11.24 → "11×", 3.26 → "3.3×", 1.04 → "1.04×". */
export function formatRatio(ratio: number): string {
  const digits = ratio >= 10 ? 0 : ratio >= 2 ? 1 : 2;
  return `${ratio.toFixed(digits)}×`;
}

/** "2017-03-14T09:03:04.394Z" → "2017-03-14 09:03:04 UTC". */
export function formatInstant(iso: string): string {
  return ISO_INSTANT.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso;
}

/** Seconds as the shortest readable duration: 0.25 → "250 ms", 90 → "1.5 min", 7200 → "2 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${formatNumber(seconds * 1000)} ms`;
  if (seconds < 120) return `${formatNumber(seconds)} s`;
  if (seconds < 7200) return `${formatNumber(seconds / 60)} min`;
  return `${formatNumber(seconds / 3600)} h`;
}

/** A figure's value in its unit; "–" for a figure that does not apply. */
export function formatByUnit(unit: Unit, value: FigureValue): string {
  if (value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return unit === 'instant' ? formatInstant(value) : value;
  switch (unit) {
    case 'seconds': return `${formatNumber(value)} s`;
    case 'milliseconds': return `${formatNumber(value)} ms`;
    case 'share': return formatShare(value);
    case 'ratio': return formatRatio(value);
    case 'status': return String(value);
    default: return formatNumber(value);
  }
}
