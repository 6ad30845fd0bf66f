import { SEVERITY_ORDER, type FigureValue } from '../src/model/finding.js';

/**
 * Number and figure formatting shared by the HTML and Markdown reports. Figures are named in
 * camelCase with a unit suffix (`timeoutSeconds`, `undercountShare`), so the name decides the
 * unit: a reader sees "4.98 s" and "91.1%" instead of 4.978 and 0.911. Output is plain text;
 * callers escape it for their medium.
 */

const UNIT_WORDS = new Set(['seconds', 'ms', 'percent']);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/** 1234567 → "1,234,567"; 4.978 → "4.98"; 31642.744 → "31,643". Locale-independent. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = Number.isInteger(value) || magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 0.01 ? 2 : 4;
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

/** 0.30905 → "30.9%"; tiny but non-zero shares keep a digit so they do not read as zero. */
export function formatShare(share: number): string {
  const percent = share * 100;
  if (percent !== 0 && Math.abs(percent) < 0.1) return `${percent.toFixed(2)}%`;
  return `${percent.toFixed(1)}%`;
}

/** "2017-03-14T09:03:04.394Z" → "2017-03-14 09:03:04 UTC". */
export function formatInstant(iso: string): string {
  return ISO_INSTANT.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : iso;
}

/** Splits camelCase and drops the unit word the value now carries: `backendMedianSecondsAtKnee` → "backend median at knee". */
export function figureLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' ');
  if (words.length === 1) return words[0]!;
  return words.filter((word) => !UNIT_WORDS.has(word)).join(' ');
}

/** A figure's value in the unit its name implies. */
export function formatFigure(name: string, value: FigureValue): string {
  if (value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return formatInstant(value);
  if (/Seconds(?:[A-Z]|$)/.test(name)) return `${formatNumber(value)} s`;
  if (/Ms(?:[A-Z]|$)/.test(name)) return `${formatNumber(value)} ms`;
  if (/Percent(?:[A-Z]|$)/.test(name)) return `${formatNumber(value)}%`;
  if (/(?:^share|Share(?:[A-Z]|$))/.test(name) && value >= 0 && value <= 1) return formatShare(value);
  return formatNumber(value);
}

/** Seconds as the shortest readable duration: 0.25 → "250 ms", 90 → "1.5 min", 7200 → "2 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${formatNumber(seconds * 1000)} ms`;
  if (seconds < 120) return `${formatNumber(seconds)} s`;
  if (seconds < 7200) return `${formatNumber(seconds / 60)} min`;
  return `${formatNumber(seconds / 3600)} h`;
}

/** A count with its noun: `plural(1, 'file')` → "1 file", `plural(1200, 'file')` → "1,200 files". */
export function plural(count: number, noun: string, nounPlural = `${noun}s`): string {
  return `${formatNumber(count)} ${count === 1 ? noun : nounPlural}`;
}

/** Severities from most to least severe, for every list of counts a person reads. */
const SEVERITIES_DESCENDING = [...SEVERITY_ORDER].reverse();

/**
 * Findings per severity, most severe first: "3 high, 4 low, 3 info" (or "none"). `paint` may
 * colour each part (the terminal); counts come as a record or from a list of findings.
 */
export function formatSeverityCounts(
  counts: Readonly<Partial<Record<string, number>>>,
  paint: (severity: string, text: string) => string = (_, text) => text,
): string {
  const parts = SEVERITIES_DESCENDING.filter((severity) => (counts[severity] ?? 0) > 0)
    .map((severity) => paint(severity, `${formatNumber(counts[severity]!)} ${severity}`));
  return parts.join(', ') || 'none';
}

export function countBySeverity(findings: readonly { severity: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const finding of findings) counts[finding.severity] = (counts[finding.severity] ?? 0) + 1;
  return counts;
}
