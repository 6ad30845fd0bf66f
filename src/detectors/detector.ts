import type { Budget } from '../model/budget.js';
import type { AnyFinding, ChartId } from '../model/finding.js';
import type { JoinedRequest } from '../model/records.js';
import type { FileStats } from '../model/file-stats.js';
import type { JoinStats } from '../join/join-stats.js';
import type { Finding } from './registry.js';

/**
 * Every detector has this shape: `start` makes its state (mergeable summaries, bounded by keys and
 * routes, not by input length), `observe` sees each joined request once, in rough time order,
 * and `finish` turns the summaries into findings. Detectors run in registry order, and `finish`
 * may read the findings of detectors before it (the knee tells the no-upstream classifier where
 * client timeouts sit), typed by kind.
 *
 * A detector also says how its findings are told: the report chart that shows them, and the
 * verdict's sentence about them (src/findings/verdict.ts puts the sentences together).
 */
export interface Detector<F extends AnyFinding = Finding> {
  readonly id: string;
  readonly title: string;
  /** The kinds of finding it makes. */
  readonly kinds: readonly F['kind'][];
  /**
   * Its sentence opens the verdict whatever the severities: a failed join undermines every
   * backend figure after it (src/detectors/apm-join.ts).
   */
  readonly leadsVerdict?: boolean;
  /** The report chart that tells its findings' story, if one does. */
  readonly chart?: ChartId;
  /**
   * The figure that says how big a finding of each kind is (the terminal prints it beside the
   * title); a kind without one shows its first number not already in the title.
   */
  readonly headline?: { readonly [K in F['kind']]?: keyof Extract<F, { kind: K }>['figures'] & string };
  /**
   * The verdict's sentence about this detector's findings that reached `medium` (ranked, most
   * severe first), or null to leave them to the findings list. Every number in it comes through
   * `cite`, so the verdict shows the findings' own values and the JSON lists what it cites.
   */
  verdict?(findings: readonly F[], cite: Citer<F>, context: VerdictContext): string | null;
  start(settings: DetectorSettings): RunningDetector<F>;
}

export interface RunningDetector<F extends AnyFinding = Finding> {
  observe(request: JoinedRequest): void;
  /**
   * A request the run's slice (`--where`, `--since`/`--until`) leaves out, in its place among the
   * observed ones: context for a detector that judges a client's sequence of requests, never
   * counted in a finding. Only detectors that need it take it.
   */
  observeOutside?(request: JoinedRequest): void;
  finish(context: DetectorContext): F[];
}

export interface DetectorSettings {
  budget: Budget | null;
  /** Whether any APM input was given: detectors then speak of facts, not estimates. */
  hasApm: boolean;
}

export interface DetectorContext extends DetectorSettings {
  files: readonly FileStats[];
  join: JoinStats;
  /** Findings of detectors that finished earlier in this run. */
  earlier: readonly Finding[];
}

export interface VerdictContext {
  /** The time range the logs cover, ISO 8601 UTC. */
  timeRange: { from: string; to: string } | null;
}

/**
 * Cites a figure of a finding in a verdict sentence: returns the value as the reports show it
 * (in the figure's unit) and records which figure it was.
 */
export interface Citer<F extends AnyFinding> {
  <G extends F>(finding: G, figure: keyof G['figures'] & string): string;
}

/**
 * Whether something first seen at `firstAt` began well into the logs (after their first 5%), so a
 * verdict may say "since" without claiming an onset it cannot see.
 */
export function beganLate(firstAt: string | null, context: VerdictContext): boolean {
  if (firstAt === null || context.timeRange === null) return false;
  const from = Date.parse(context.timeRange.from);
  const span = Date.parse(context.timeRange.to) - from;
  return span > 0 && Date.parse(firstAt) - from > 0.05 * span;
}

/** The findings of one kind among `findings`, typed. */
export function findingsOfKind<K extends Finding['kind']>(findings: readonly Finding[], kind: K): Extract<Finding, { kind: K }>[] {
  return findings.filter((finding): finding is Extract<Finding, { kind: K }> => finding.kind === kind);
}
