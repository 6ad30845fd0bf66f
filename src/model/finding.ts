import type { SourceLocation } from './records.js';

export const Severity = {
  info: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
} as const;
export type Severity = keyof typeof Severity;

export const SEVERITY_ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(severity: Severity): number {
  return SEVERITY_ORDER.indexOf(severity);
}

export function isSeverity(value: string): value is Severity {
  return Object.hasOwn(Severity, value);
}

/** A source line cited by a finding. `text` is raw log content: escape it at render time. */
export interface Evidence extends SourceLocation {
  text: string;
  /** Why this line was picked, e.g. "client 4.668 s, APM 29.8 s". */
  note?: string;
}

/** A scalar or small table behind a finding. */
export type FigureValue = number | string | boolean | null;

export interface Finding {
  /** Stable id of the detector, e.g. `client-timeout-knee`. */
  kind: string;
  severity: Severity;
  title: string;
  /** Plain-language explanation: what happened and why it matters. */
  explanation: string;
  /** Concrete next step, when one is known. */
  nextStep?: string;
  /** Machine-readable figures (seconds, counts, shares...). */
  figures: Record<string, FigureValue>;
  /** Optional rows (per key, per status...) for tables. */
  table?: FindingTable;
  /** Chart data (rows of plain values), e.g. per-window usage for the budget chart. */
  series?: Record<string, Record<string, FigureValue>[]>;
  evidence: Evidence[];
}

export interface FindingTable {
  columns: string[];
  rows: FigureValue[][];
}
