import { unitOf, columnUnitOf } from '../src/findings/figure-units.js';
import { formatByUnit } from '../src/model/figure-format.js';
import type { AnyFinding, FigureValue } from '../src/model/finding.js';

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
