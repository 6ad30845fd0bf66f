import { unitOf, columnUnitOf } from '../src/findings/figure-units.js';
import { formatByUnit, formatNumber } from '../src/model/figure-format.js';
import { SEVERITY_ORDER, type AnyFinding, type FigureValue } from '../src/model/finding.js';

export { formatDuration, formatInstant, formatNumber, formatRatio, formatShare } from '../src/model/figure-format.js';

/**
 * Figure formatting for the HTML and Markdown reports. The unit comes from the finding kind's
 * declared type (src/findings/figure-units.ts, generated with the JSON schema), never from the
 * figure's name: a reader sees "4.98 s" and "91.1%" instead of 4.978 and 0.911.
 */

const UNIT_WORDS = new Set(['seconds', 'ms', 'percent']);

/** Splits camelCase and drops the unit word the value now carries: `backendMedianSecondsAtKnee` → "backend median at knee". */
export function figureLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(' ');
  if (words.length === 1) return words[0]!;
  return words.filter((word) => !UNIT_WORDS.has(word)).join(' ');
}

/** A figure of a finding of `kind`, in its declared unit. */
export function formatFigure(kind: string, name: string, value: FigureValue): string {
  return formatByUnit(unitOf(kind, name), value);
}

/** A table cell of a finding of `kind`, in its column's declared unit. */
export function formatCell(kind: string, column: string, value: FigureValue): string {
  return formatByUnit(columnUnitOf(kind, column), value);
}

/** A finding's figures as name and value pairs, in the order its detector wrote them. */
export function figureEntries(finding: AnyFinding): [string, FigureValue][] {
  return Object.entries(finding.figures) as [string, FigureValue][];
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
