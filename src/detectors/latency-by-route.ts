import type { Count, FindingBase, Instant, Ratio, Seconds, Table, Text } from '../model/finding.js';
import { formatNumber } from '../model/figure-format.js';
import type { JoinedRequest } from '../model/records.js';
import { routeOf } from '../model/route.js';
import { ownString } from '../model/own-string.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { LogHistogram } from '../statistics/log-histogram.js';
import { TimeBuckets } from '../statistics/time-buckets.js';

/**
 * Latency per route: p50/p90/p99 of client-facing time per normalised route and status class,
 * the baseline other findings are read against ("29 s is ten times this route's p99"). Kept as
 * log-spaced histograms (mergeable, fixed size), never as samples. Over time, each busy route
 * keeps a coarse histogram per period; a change point is the split of that series where the
 * median before and after differ most, reported when the shift is large and both sides are
 * well populated (a deploy that made a route slower, a cache that went cold).
 */

const ROUTE_CAP = 2_000;
/** Routes that also get a timeline (the first ones seen; the busy ones are seen first). */
const TIMELINE_ROUTES = 200;
const PERIOD_MS = 60_000;
const PERIOD_CAP = 96;
const MIN_SIDE_REQUESTS = 100;
const MIN_SIDE_PERIODS = 3;
const MIN_SHIFT_FACTOR = 1.8;
/**
 * Least change of the median, ms: a step of a millisecond or two is a timer's resolution (HAProxy
 * and nginx log whole ms), not a change anyone feels. Real HAProxy logs (no7dw's haproxy.log, a
 * day of traffic) read "GET /jump got slower: p50 0.001 s → 0.002 s" in two-hour slices.
 */
const MIN_SHIFT_MS = 10;

interface RouteLatency {
  byClass: Map<string, LogHistogram>;
  all: LogHistogram;
  timeline: TimeBuckets<LogHistogram> | null;
  evidence: EvidenceSample;
}

export interface ChangePoint {
  index: number;
  before: number;
  after: number;
  factor: number;
}

/** The per-route baseline: p50/p90/p99 by route and status class. */
export interface LatencyBaselineFigures {
  routes: Count;
  overflowedRequests: Count;
}

export type LatencyColumns = ['route', 'statusClass', 'requests', 'p50Seconds', 'p90Seconds', 'p99Seconds'];
export type LatencyRow = [route: Text, statusClass: Text, requests: Count, p50Seconds: Seconds | null, p90Seconds: Seconds | null, p99Seconds: Seconds | null];

/** A route whose latency stepped up or down and stayed there. */
export interface LatencyShiftFigures {
  route: Text;
  changeAt: Instant;
  p50BeforeSeconds: Seconds;
  p50AfterSeconds: Seconds;
  factor: Ratio;
  periodMinutes: Count;
}

export interface LatencyFinding extends FindingBase<'latency-by-route', LatencyBaselineFigures | LatencyShiftFigures> {
  table?: Table<LatencyColumns, LatencyRow>;
}

/** Sum of log10(ms) over a sketch's requests (bin middles), for mean log latency. */
function logSum(sketch: LogHistogram): number {
  let sum = 0;
  for (let i = 1; i < sketch.counts.length; i++) sum += sketch.counts[i]! * ((i - 0.5) / sketch.perDecade);
  return sum;
}

/**
 * The single best split of a series of period sketches. The split is chosen by the size-weighted
 * difference of mean log latency before and after (a two-sample statistic, so ties between
 * splits are rare, unlike quantised medians); the shift is then reported as the ratio of the
 * medians of the merged sketches on each side. Exported for tests.
 */
export function findChangePoint(periods: readonly LogHistogram[]): ChangePoint | null {
  if (periods.length < 2 * MIN_SIDE_PERIODS) return null;
  const perDecade = periods[0]!.perDecade;
  const counts = periods.map((p) => p.total);
  const logs = periods.map(logSum);
  const totalCount = counts.reduce((a, b) => a + b, 0);
  const totalLog = logs.reduce((a, b) => a + b, 0);
  let best: { split: number; score: number } | null = null;
  let countBefore = 0;
  let logBefore = 0;
  for (let split = 1; split < periods.length; split++) {
    countBefore += counts[split - 1]!;
    logBefore += logs[split - 1]!;
    const countAfter = totalCount - countBefore;
    if (split < MIN_SIDE_PERIODS || periods.length - split < MIN_SIDE_PERIODS) continue;
    if (countBefore < MIN_SIDE_REQUESTS || countAfter < MIN_SIDE_REQUESTS) continue;
    const difference = Math.abs(logBefore / countBefore - (totalLog - logBefore) / countAfter);
    const score = difference * Math.sqrt((countBefore * countAfter) / totalCount);
    if (best === null || score > best.score) best = { split, score };
  }
  if (best === null) return null;
  const before = new LogHistogram(perDecade);
  const after = new LogHistogram(perDecade);
  periods.forEach((period, index) => (index < best.split ? before : after).merge(period));
  const p50Before = before.quantile(0.5)!;
  const p50After = after.quantile(0.5)!;
  const factor = Math.max(p50Before, p50After) / Math.max(0.5, Math.min(p50Before, p50After));
  return factor >= MIN_SHIFT_FACTOR && Math.abs(p50After - p50Before) >= MIN_SHIFT_MS ? { index: best.split, before: p50Before, after: p50After, factor } : null;
}

/** Class names made once, not a template string (a fresh string to hash) per request. */
const STATUS_CLASSES = Array.from({ length: 10 }, (_, digit) => `${digit}xx`);
const MAX_METHODS_PER_ROUTE = 16;

function statusClass(status: number | null): string {
  if (status === null) return 'none';
  return STATUS_CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`;
}

function seconds(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms) / 1000;
}

export const latencyByRoute: Detector<LatencyFinding> = {
  id: 'latency-by-route',
  title: 'Latency by route',
  kinds: ['latency-by-route'],
  chart: 'latency-distribution',
  start() {
    let timelines = 0;
    const routes = new BoundedCounter<RouteLatency>(ROUTE_CAP, () => ({
      byClass: new Map(),
      all: new LogHistogram(40),
      timeline: timelines++ < TIMELINE_ROUTES
        ? new TimeBuckets<LogHistogram>(PERIOD_MS, PERIOD_CAP, () => new LogHistogram(20), (a, b) => a.merge(b))
        : null,
      evidence: new EvidenceSample(3),
    }));

    // Each route's states by method, found with one lookup by the route (a canonical string whose
    // hash is cached) and a scan of its few methods. The "METHOD route" key is built once per pair
    // and only the routes table, with its cap, hands out states. Before: two nested Maps to find the
    // key, then the routes table, three lookups per request.
    const byRoute = new Map<string, { method: string; state: RouteLatency }[]>();
    function stateOf(method: string, route: string): RouteLatency {
      let methods = byRoute.get(route);
      if (methods === undefined) {
        if (byRoute.size >= 4 * ROUTE_CAP) byRoute.clear();
        byRoute.set(route, (methods = []));
      }
      for (let i = 0; i < methods.length; i++) if (methods[i]!.method === method) return methods[i]!.state;
      const state = routes.get(`${method} ${route}`);
      // Owned: a method cut from a line (an attacker's long one) would pin its read chunk. A route
      // with endless made-up methods stops being cached, so the scan stays short.
      if (methods.length < MAX_METHODS_PER_ROUTE) methods.push({ method: ownString(method), state });
      return state;
    }

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null || proxy.requestTimeMs === null || proxy.path === null) return;
        const state = stateOf(proxy.method ?? '-', routeOf(proxy)!);
        const cls = statusClass(proxy.status);
        let sketch = state.byClass.get(cls);
        if (!sketch) state.byClass.set(cls, (sketch = new LogHistogram(40)));
        sketch.add(proxy.requestTimeMs);
        state.all.add(proxy.requestTimeMs);
        state.timeline?.at(proxy.startMs).add(proxy.requestTimeMs);
        const clientMs = proxy.requestTimeMs;
        state.evidence.offer(proxy, clientMs, () => `client ${(clientMs / 1000).toFixed(3)} s, status ${proxy.status ?? '-'}`);
      },

      finish(_context: DetectorContext): LatencyFinding[] {
        if (routes.size === 0) return [];
        const findings: LatencyFinding[] = [];
        const ranked = [...routes].sort((a, b) => b[1].all.total - a[1].all.total);
        const rows: LatencyRow[] = [];
        for (const [route, state] of ranked.slice(0, 30)) {
          for (const [cls, sketch] of [...state.byClass].sort()) {
            rows.push([route, cls, sketch.total, seconds(sketch.quantile(0.5)), seconds(sketch.quantile(0.9)), seconds(sketch.quantile(0.99))]);
          }
        }
        const busiest = ranked[0]!;
        findings.push({
          kind: 'latency-by-route',
          severity: 'info',
          title: `Latency by route (${formatNumber(routes.size)} ${routes.size === 1 ? 'route' : 'routes'})`,
          explanation:
            'Client-facing time per route and status class, as p50/p90/p99 (seconds, within about 6%): the baseline to read the other findings against. ' +
            `The busiest route is ${busiest[0]} with p50 ${seconds(busiest[1].all.quantile(0.5))} s and p99 ${seconds(busiest[1].all.quantile(0.99))} s.` +
            (routes.overflowed > 0 ? ` More than ${ROUTE_CAP} routes: the rest are counted under "(other)".` : ''),
          figures: { routes: routes.size, overflowedRequests: routes.overflowed },
          table: { columns: ['route', 'statusClass', 'requests', 'p50Seconds', 'p90Seconds', 'p99Seconds'], rows },
          evidence: [],
        });
        for (const [route, state] of ranked) {
          if (!state.timeline) continue;
          const periods = state.timeline.entries();
          const change = findChangePoint(periods.map((p) => p.value));
          if (change === null) continue;
          const at = periods[change.index]!.startMs;
          const slower = change.after > change.before;
          findings.push({
            kind: 'latency-by-route',
            severity: 'low',
            title: `${route} got ${slower ? 'slower' : 'faster'} around ${new Date(at).toISOString()}: p50 ${seconds(change.before)} s → ${seconds(change.after)} s`,
            explanation:
              `The median client-facing time of ${route} changed by ${change.factor.toFixed(1)}× at about ${new Date(at).toISOString()} ` +
              `(from ${seconds(change.before)} s to ${seconds(change.after)} s) and stayed there: a step, not noise. ` +
              'Look for a deploy, a configuration or data change, or a dependency that changed at that time.',
            figures: {
              route,
              changeAt: new Date(at).toISOString(),
              p50BeforeSeconds: seconds(change.before)!,
              p50AfterSeconds: seconds(change.after)!,
              factor: Math.round(change.factor * 100) / 100,
              periodMinutes: state.timeline.widthMs / 60_000,
            },
            evidence: state.evidence.list(),
          });
          if (findings.length > 6) break;
        }
        return findings;
      },
    };
  },
};
