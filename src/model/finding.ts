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

/*
 * Units. A figure's type names its unit; the JSON schema (docs/findings.schema.json, generated from
 * these types) refers to the unit by name, and src/findings/figure-units.ts (generated with it)
 * tells the renderers, so no renderer guesses a unit from a figure's name.
 */

/** A duration in seconds. */
export type Seconds = number;
/** A duration in milliseconds. */
export type Milliseconds = number;
/** How many: requests, keys, windows, lines. */
export type Count = number;
/** A part of a whole, from 0 to 1 (0.25 is a quarter). */
export type Share = number;
/** How many times one quantity is another (2 is twice as much). */
export type Ratio = number;
/** An HTTP status code (404), or another code a log writes as a number. */
export type StatusCode = number;
/** A plain number without a unit (a regression slope). */
export type Scalar = number;
/**
 * An instant, ISO 8601 in UTC.
 * @format date-time
 */
export type Instant = string;
/** Text: a name, an address, a key; may be log content, so escape it where it is shown. */
export type Text = string;
/** Yes or no. */
export type Flag = boolean;

/** The units above by name, as src/findings/figure-units.ts lists them for each figure. */
export type Unit = 'seconds' | 'milliseconds' | 'count' | 'share' | 'ratio' | 'status' | 'scalar' | 'instant' | 'text' | 'flag';

/** A figure's value, whatever its unit; null where a figure does not apply or is unknown. */
export type FigureValue = number | string | boolean | null;

/** Rows (per key, per status...) with named columns; each finding kind types its own. */
export interface Table<Columns extends readonly string[], Row extends readonly FigureValue[]> {
  columns: Columns;
  rows: Row[];
}

/** The report charts a detector can point its findings to (reports/charts/registry.ts lists them). */
export type { ChartId } from './chart-ids.generated.js';

/**
 * What every finding has; each detector declares its own kinds (src/detectors/registry.ts lists them
 * as the `Finding` union), with typed figures.
 */
export interface FindingBase<Kind extends string, Figures extends object> {
  /** Stable id of the finding's kind, e.g. `client-timeout-knee`. */
  kind: Kind;
  severity: Severity;
  title: string;
  /** Plain-language explanation: what happened and why it matters. */
  explanation: string;
  /** Concrete next step, when one is known. */
  nextStep?: string;
  /** Machine-readable figures, each in the unit its type names. */
  figures: Figures;
  evidence: Evidence[];
}

/** Any finding, for code that handles every kind alike (ranking, counting, rendering evidence). */
export type AnyFinding = FindingBase<string, object> & {
  table?: Table<readonly string[], readonly FigureValue[]>;
};
