import type { Severity } from './finding.js';

/**
 * The one severity rule (docs/severity.md). A finding's severity follows its impact, never the
 * detector's confidence or the size of a small sample:
 *
 *   excess  share of all requests affected, above what healthy traffic shows for that kind of
 *           event (client drops 2%, server errors 0.5%; a timeout pile-up or an invented status 0)
 *   cohort  share of the named client's, key's, route's or upstream's own requests affected
 *   lost    backend seconds lost: work whose answer nobody received, or time the proxy never
 *           accounted
 *
 *   high    excess >= 5%, or cohort >= 30% with at least 50 requests, or lost >= 1 h
 *   medium  excess >= 1%, or cohort >= 10% with at least 20 requests, or lost >= 10 min
 *   low     anything else that is worth a line
 *
 * Below MIN_REQUESTS affected requests nothing rises above low, whatever the shares say: 3 failures
 * in 11 requests are an anecdote. A finding about a cost rather than a failure (connections not
 * reused) is judged by the cohort it costs and the seconds it costs, not by its share of all
 * requests, and stops at medium.
 */

export const MIN_REQUESTS = 20;
const HIGH = { excess: 0.05, cohort: 0.3, cohortRequests: 50, lostSeconds: 3600 };
const MEDIUM = { excess: 0.01, cohort: 0.1, cohortRequests: 20, lostSeconds: 600 };

/** Shares of all requests that healthy traffic shows, by kind of event (docs/severity.md). */
export const HEALTHY_BACKGROUND = {
  /** Clients that hang up early: flaky mobile networks, users who navigate away. */
  clientDrops: 0.02,
  /** Transient 502/503/504: a restart, a blip. */
  serverErrors: 0.005,
  /** Nothing: a timeout wall, a status the backend never sent, an under-count. */
  none: 0,
} as const;

export interface Impact {
  /** Requests the finding is about: cut off, failed, made up, let through. */
  affected: number;
  /** All proxy requests of the run (the denominator of "excess"). */
  total: number;
  /** What healthy traffic shows of this kind of event, as a share of all requests. */
  background: number;
  /** Share of the named cohort's own requests that were affected, when the finding names one. */
  cohortShare?: number | null;
  /**
   * The cohort's own affected requests, where the cohort holds only some of `affected` (a burst's
   * errors among a log's): what the cohort rule's minimum of affected requests counts. Default: `affected`.
   */
  cohortAffected?: number;
  /** Backend seconds lost, when known. */
  lostSeconds?: number | null;
  /** A cost, not a failure: never above medium. */
  costOnly?: boolean;
}

export function severityOf(impact: Impact): Severity {
  if (impact.affected < MIN_REQUESTS) return 'low';
  const excess = impact.total > 0 && !impact.costOnly ? impact.affected / impact.total - impact.background : 0;
  const cohort = impact.cohortShare ?? 0;
  const lost = impact.lostSeconds ?? 0;
  const reaches = (level: typeof HIGH): boolean =>
    excess >= level.excess || (cohort >= level.cohort && (impact.cohortAffected ?? impact.affected) >= level.cohortRequests) || lost >= level.lostSeconds;
  const severity: Severity = reaches(HIGH) ? 'high' : reaches(MEDIUM) ? 'medium' : 'low';
  return impact.costOnly && severity === 'high' ? 'medium' : severity;
}
