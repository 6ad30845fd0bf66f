import type { Count, FindingBase, Flag, Milliseconds, Seconds, Share, Text } from '../model/finding.js';
import { roundTo } from '../model/round.js';
import { answeredWithoutBackend, type JoinedRequest } from '../model/records.js';
import { routeOf, routeOfPath } from '../model/route.js';
import type { Severity } from '../model/finding.js';
import { isTemplate, normalisePath, routeFromName, templatePattern } from '../join/keys.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { TimeBuckets } from '../statistics/time-buckets.js';
import { ownString } from '../model/own-string.js';

/**
 * A failed or weak join, said first. Everything alf says about the backend's side (true worker
 * time per key, backend time at a client timeout, what the backend kept doing after the proxy gave
 * up) stands on proxy records joined to APM transactions. When an APM export was given and less
 * than half of either side joined, a quiet note in the join's statistics let a run read as "no
 * problem" (issue 20: a New Relic CSV without `request.method` joined 0 of ~600 transactions, and
 * the report showed the proxy's times as the true ones). This finding names the likely reason and
 * what to pass, and the verdict opens with it.
 *
 * Reasons, checked in this order:
 *   no-shared-field        no APM transaction carries a path or route template (or no proxy record a path);
 *   clock-beyond-max-skew  the two logs cover the same span shifted by more than --max-skew (a clock
 *                          or time zone set wrong, by whole hours mostly);
 *   other-time-range       the two logs do not overlap in time at all;
 *   partial-time-range     they overlap, the requests inside the overlap joined, and the rest were
 *                          logged where the other log has nothing (the last hour exported beside a
 *                          day of proxy logs): low, since nothing failed;
 *   different-hosts        most proxy requests go to routes the export never mentions, and to hosts
 *                          it never saw (another service behind the same proxy);
 *   different-paths        most proxy requests go to routes the export never mentions (another
 *                          service, a prefix the proxy strips or adds);
 *   ambiguous              candidates were there but too alike to tell apart (whole-second stamps,
 *                          busy URLs, nothing else shared): low, the logs agree (medium below 10%);
 *   unexplained            none of the above.
 */

export type ApmJoinReason = 'no-shared-field' | 'clock-beyond-max-skew' | 'other-time-range' | 'partial-time-range' | 'different-hosts' | 'different-paths' | 'ambiguous' | 'unexplained';

export interface ApmJoinFigures {
  /**
   * Proxy requests that could join: all but those the proxy logged it answered alone (static files,
   * redirects, its limiter), and, where the log cannot say, those on routes the export never has.
   */
  proxyRecords: Count;
  /** APM transactions with a path or route template: those that could join. */
  joinableApmRecords: Count;
  joinedPairs: Count;
  proxyJoinedShare: Share;
  apmJoinedShare: Share;
  /** Why the join likely failed (see src/detectors/apm-join.ts). */
  reason: ApmJoinReason;
  /** Share of proxy requests whose route the APM export also has; null when either side has none. */
  proxyRoutesInApm: Share | null;
  /** Share of proxy requests with a host (Host header, server name) the APM export also has; null when either side has none. */
  proxyHostsInApm: Share | null;
  /** The proxy's and the export's commonest hosts, to see which service each side is. */
  proxyHosts: Text | null;
  apmHosts: Text | null;
  /** First APM start minus first proxy start, s: how far apart the two logs begin. */
  startsApartSeconds: Seconds | null;
  /** Whether the two logs' spans overlap (within --max-skew). */
  timeRangesOverlap: Flag | null;
  /** Share of proxy requests that started within the export's time range (± --max-skew, to the minute); null without both spans. */
  proxyInApmRange: Share | null;
  /** Share of APM transactions that started within the proxy log's time range, likewise. */
  apmInProxyRange: Share | null;
  maxSkewSeconds: Seconds;
  /** Clock offset the join used (APM minus proxy), ms. */
  offsetMs: Milliseconds | null;
  /** Best pairs refused for low confidence. */
  lowConfidencePairs: Count;
  /** What to pass or change, in one line. */
  remedy: Text;
}

export type ApmJoinFinding = FindingBase<'apm-join-weak', ApmJoinFigures>;

/** Below this share of either side joined, the join is weak. */
const WEAK_SHARE = 0.5;
/** Below this share, it failed. */
const FAILED_SHARE = 0.1;
/** At least this share of the side left more unpaired refused as too alike: the join is ambiguous. */
const AMBIGUOUS_SHARE = 0.5;
/** Distinct routes kept per side; past it, new routes are not counted (the share is then a floor). */
const ROUTE_CAP = 20_000;
const HOUR_MS = 3_600_000;

interface Span {
  first: number;
  last: number;
}

function widen(span: Span | null, time: number): Span {
  if (span === null) return { first: time, last: time };
  if (time < span.first) span.first = time;
  if (time > span.last) span.last = time;
  return span;
}

/** A route as both sides can name it: the `*` pattern of its template. */
function proxyRoute(request: JoinedRequest): string | null {
  const route = request.proxy === null ? null : routeOf(request.proxy);
  return route === null ? null : templatePattern(route);
}

export const apmJoin: Detector<ApmJoinFinding> = {
  id: 'apm-join',
  title: 'Join of proxy records to APM transactions',
  kinds: ['apm-join-weak'],
  leadsVerdict: true,
  verdict(findings, cite) {
    const finding = findings[0];
    if (finding === undefined) return null;
    return `${finding.figures.joinedPairs === 0 ? 'The APM export did not join the proxy log' : 'The APM export joined the proxy log poorly'}: ` +
      `${cite(finding, 'proxyJoinedShare')} of ${cite(finding, 'proxyRecords')} proxy requests and ${cite(finding, 'apmJoinedShare')} of ` +
      `${cite(finding, 'joinableApmRecords')} APM transactions paired. ${REASON_TEXT[finding.figures.reason]} ${cite(finding, 'remedy')} ` +
      'Until then the backend\'s side of the findings below is unknown for unjoined requests; the proxy\'s times do not stand in for it.';
  },
  start(settings) {
    let proxies = 0;
    let proxiesWithPath = 0;
    let joinable = 0;
    let apmSeen = 0;
    let joined = 0;
    let proxySpan: Span | null = null;
    let apmSpan: Span | null = null;
    const proxyRoutes = new Map<string, number>();
    /**
     * Unjoined requests of a log that cannot say whether the backend saw them (Apache's combined,
     * nginx's: no upstream field), by route. Those on routes the export never has are most likely
     * the proxy's own answers (static files, redirects, denials): a real Apache httpd edge read as
     * "joined poorly: 36% of proxy requests" for a join of 57% of the API's, its files and
     * redirects counted as requests that failed to join.
     */
    const unsaidRoutes = new Map<string, number>();
    const apmRoutes = new Set<string>();
    const proxyHosts = new Map<string, number>();
    const apmHosts = new Map<string, number>();
    const unjoinedProxy = new EvidenceSample(3);
    const unjoinedApm = new EvidenceSample(2);
    // When each side's records started, to the minute (wider on long logs): how much of each lies in the other's range.
    const proxyTimes = startTimes();
    const apmTimes = startTimes();

    return {
      observe(request: JoinedRequest) {
        if (!settings.hasApm) return;
        const proxy = request.proxy;
        const apm = request.apm;
        // A request the proxy answered alone (a static file, a redirect, a limiter's 503) has no
        // transaction to join: counting it made a healthy edge that serves its own assets look
        // like a weak join.
        if (proxy !== null && (apm !== null || !answeredWithoutBackend(proxy))) {
          proxies++;
          proxySpan = widen(proxySpan, proxy.startMs);
          proxyTimes.at(proxy.startMs).count++;
          const route = proxyRoute(request);
          if (route !== null) {
            proxiesWithPath++;
            if (proxyRoutes.has(route) || proxyRoutes.size < ROUTE_CAP) proxyRoutes.set(route, (proxyRoutes.get(route) ?? 0) + 1);
            if (!proxy.upstreamLogged && apm === null && (unsaidRoutes.has(route) || unsaidRoutes.size < ROUTE_CAP)) unsaidRoutes.set(route, (unsaidRoutes.get(route) ?? 0) + 1);
          }
          if (proxy.host !== null) countCapped(proxyHosts, hostName(proxy.host));
          if (apm === null) unjoinedProxy.offer(proxy, 0, 'no APM transaction joined');
        }
        if (apm !== null) {
          apmSeen++;
          apmSpan = widen(apmSpan, apm.startMs);
          apmTimes.at(apm.startMs).count++;
          // A transaction can join when it names a path or a route (its name); its route's pattern
          // from the route memo, as the proxy's: templating every transaction's path cost ~140 ms of
          // the bench's joined run, and normalising its path three times (the key, the template, the
          // route) another ~100 ms: this observe 510 -> 413 ms inclusive on the 500 k high-cardinality
          // joined run (`node --cpu-prof`, one run each; the findings and the join are identical).
          if (apm.path !== null) {
            joinable++;
            if (apmRoutes.size < ROUTE_CAP) {
              const path = normalisePath(apm.path);
              apmRoutes.add(templatePattern(isTemplate(path) ? path : routeOfPath(path)));
            }
          } else {
            const route = routeFromName(apm.name);
            if (route !== null) {
              joinable++;
              if (apmRoutes.size < ROUTE_CAP) apmRoutes.add(templatePattern(route.template));
            }
          }
          if (apm.host !== null) countCapped(apmHosts, hostName(apm.host));
          if (proxy === null) unjoinedApm.offer(apm, 0, 'no proxy record joined');
        }
        if (proxy !== null && apm !== null) joined++;
      },

      finish(context: DetectorContext): ApmJoinFinding[] {
        // No transaction at all reached the detector: a slice (`--where status=5xx`) kept requests
        // whose backend never answered and no transaction of its own, since a status clause can
        // only be judged on a proxy record. There is no join to judge, not a failed one: on
        // samples/incident that slice read as "the APM export did not join … no shared field", high.
        if (!context.hasApm || proxies === 0 || apmSeen === 0) return [];
        let unsaidOffApm = 0;
        for (const [route, count] of unsaidRoutes) if (!apmRoutes.has(route)) unsaidOffApm += count;
        const joinableProxies = proxies - unsaidOffApm;
        const proxyShare = joinableProxies === 0 ? 0 : joined / joinableProxies;
        const apmShare = joinable === 0 ? 0 : joined / joinable;
        if (proxyShare >= WEAK_SHARE && apmShare >= WEAK_SHARE) return [];
        const maxSkewMs = context.join.maxSkewMs;
        let inApm = 0;
        for (const [route, count] of proxyRoutes) if (apmRoutes.has(route)) inApm += count;
        const counted = [...proxyRoutes.values()].reduce((a, b) => a + b, 0);
        const routesShare = counted === 0 || apmRoutes.size === 0 ? null : inApm / counted;
        let hostsInApm = 0;
        let hostsCounted = 0;
        for (const [host, count] of proxyHosts) {
          hostsCounted += count;
          if (apmHosts.has(host)) hostsInApm += count;
        }
        const hostsShare = hostsCounted === 0 || apmHosts.size === 0 ? null : hostsInApm / hostsCounted;
        const p = proxySpan as Span | null;
        const a = apmSpan as Span | null;
        const startsApartMs = p !== null && a !== null ? a.first - p.first : null;
        const overlap = p !== null && a !== null ? a.first - maxSkewMs <= p.last && a.last + maxSkewMs >= p.first : null;
        const spansAlike = p !== null && a !== null && Math.abs((a.last - a.first) - (p.last - p.first)) <= Math.max(60_000, 0.2 * (p.last - p.first));
        const proxyInApm = a === null ? null : shareWithin(proxyTimes, a, maxSkewMs);
        const apmInProxy = p === null ? null : shareWithin(apmTimes, p, maxSkewMs);
        // Most of the side that joined poorly lies outside the other's range, and inside it pairs formed.
        const partial = (proxyShare < WEAK_SHARE && proxyInApm !== null && proxyInApm < PARTIAL_RANGE && joined >= WEAK_SHARE * proxyInApm * joinableProxies) ||
          (apmShare < WEAK_SHARE && apmInProxy !== null && apmInProxy < PARTIAL_RANGE && joined >= WEAK_SHARE * apmInProxy * joinable);
        let reason: ApmJoinReason;
        if (joinable === 0 || proxiesWithPath === 0) reason = 'no-shared-field';
        else if (startsApartMs !== null && Math.abs(startsApartMs) > maxSkewMs && spansAlike && Math.abs(startsApartMs) <= 26 * HOUR_MS) reason = 'clock-beyond-max-skew';
        else if (overlap === false) reason = 'other-time-range';
        else if (partial) reason = 'partial-time-range';
        // Hosts only where the routes differ too: a New Relic export's `host` may be the agent's own
        // machine name, which no Host header carries, so differing hosts alone prove nothing.
        else if (routesShare !== null && routesShare < WEAK_SHARE && hostsShare !== null && hostsShare < WEAK_SHARE) reason = 'different-hosts';
        else if (routesShare !== null && routesShare < WEAK_SHARE) reason = 'different-paths';
        // Most of what stayed apart had a best partner refused as too alike to others (bursts of one
        // call in one second): the two logs agree, they only cannot say which look-alike is which.
        else if (context.join.lowConfidence >= AMBIGUOUS_SHARE * Math.max(joinable - joined, joinableProxies - joined)) reason = 'ambiguous';
        else reason = 'unexplained';
        const failed = Math.min(proxyShare, apmShare) < FAILED_SHARE;
        const severity: Severity = reason === 'partial-time-range' ? 'low' : reason === 'ambiguous' ? (failed ? 'medium' : 'low') : failed ? 'high' : 'medium';
        const common = p !== null && a !== null ? { from: Math.max(p.first, a.first), to: Math.min(p.last, a.last) } : null;
        const percent = (share: number) => `${Math.round(share * 100)}%`;
        return [{
          kind: 'apm-join-weak',
          severity,
          title: reason === 'partial-time-range'
            ? `The APM export and the proxy log cover different time ranges: ${percent(proxyShare)} of proxy requests and ${percent(apmShare)} of APM transactions paired`
            : `${joined === 0 ? 'The APM export did not join' : 'The APM export joined poorly'}: ` +
              `${percent(proxyShare)} of proxy requests and ${percent(apmShare)} of APM transactions paired`,
          explanation:
            `Of ${joinableProxies} proxy requests and ${joinable} APM transactions with a path or route, ${joined} were paired. ${REASON_TEXT[reason]} ` +
            'Backend times (true worker time per key, backend time at a client timeout) come from joined pairs only: for the requests ' +
            'left unjoined they are unknown, and alf does not stand the proxy\'s own times in for them.' +
            (routesShare !== null ? ` ${percent(routesShare)} of proxy requests go to a route the export also has.` : '') +
            (hostsShare !== null ? ` ${percent(hostsShare)} of proxy requests go to a host the export also has (proxy: ${commonest(proxyHosts)}; export: ${commonest(apmHosts)}).` : '') +
            (startsApartMs !== null ? ` The APM export begins ${describeShift(startsApartMs)} the proxy log.` : '') +
            (proxyInApm !== null && apmInProxy !== null && (proxyInApm < 1 || apmInProxy < 1)
              ? ` ${percent(proxyInApm)} of proxy requests started within the export's time range, and ${percent(apmInProxy)} of APM transactions within the proxy log's.` : ''),
          nextStep: remedyFor(reason, startsApartMs, maxSkewMs, common),
          figures: {
            proxyRecords: joinableProxies,
            joinableApmRecords: joinable,
            joinedPairs: joined,
            proxyJoinedShare: roundTo(proxyShare, 4),
            apmJoinedShare: roundTo(apmShare, 4),
            reason,
            proxyRoutesInApm: routesShare === null ? null : roundTo(routesShare, 4),
            proxyHostsInApm: hostsShare === null ? null : roundTo(hostsShare, 4),
            proxyHosts: commonest(proxyHosts),
            apmHosts: commonest(apmHosts),
            startsApartSeconds: startsApartMs === null ? null : roundTo(startsApartMs / 1000, 3),
            timeRangesOverlap: overlap,
            proxyInApmRange: proxyInApm === null ? null : roundTo(proxyInApm, 4),
            apmInProxyRange: apmInProxy === null ? null : roundTo(apmInProxy, 4),
            maxSkewSeconds: maxSkewMs / 1000,
            offsetMs: context.join.offsetMs,
            lowConfidencePairs: context.join.lowConfidence,
            remedy: remedyFor(reason, startsApartMs, maxSkewMs, common),
          },
          evidence: [...unjoinedProxy.list(), ...unjoinedApm.list()],
        }];
      },
    };
  },
};

const REASON_TEXT: Record<ApmJoinReason, string> = {
  'no-shared-field': 'The likely reason: the two sides share no field to join on (the export has no request.uri, http.route or route-carrying transaction name, or the proxy log has no path).',
  'clock-beyond-max-skew': 'The likely reason: the two logs cover the same span with their clocks further apart than --max-skew (a clock or time zone set wrong).',
  'other-time-range': 'The likely reason: the export covers another time range than the proxy log.',
  'partial-time-range': 'The reason: the two logs cover different time ranges. Where both have records, the requests joined; the rest were logged where the other log has none.',
  'different-hosts': 'The likely reason: the export is of another service: most proxy requests go to hosts and routes the export does not have.',
  'different-paths': 'The likely reason: most proxy requests go to routes the export does not have (another service or host behind the proxy, or a path prefix the proxy adds or strips).',
  ambiguous: 'The likely reason: candidates were found, but too alike to tell apart (whole-second timestamps on busy URLs with nothing else in common).',
  unexplained: 'The two logs overlap in time and routes, yet few pairs fit in time and duration.',
};

function describeShift(ms: number): string {
  const seconds = Math.abs(ms) / 1000;
  const amount = seconds >= 7200 ? `${(seconds / 3600).toFixed(1)} h` : seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
  return ms === 0 ? 'at the same time as' : `${amount} ${ms > 0 ? 'after' : 'before'}`;
}

function remedyFor(reason: ApmJoinReason, startsApartMs: number | null, maxSkewMs: number, common: { from: number; to: number } | null): string {
  switch (reason) {
    case 'partial-time-range':
      return common === null || common.to <= common.from
        ? 'Export the APM transactions for the proxy log\'s whole time range, or slice both to the range they share.'
        : `Slice to the range both logs cover (--since ${minuteIso(common.from)} --until ${minuteIso(common.to + 60_000)}), or export the APM transactions for the proxy log's whole time range.`;
    case 'no-shared-field':
      return 'Export the transactions with request.uri (New Relic) or url.path / http.route (OpenTelemetry), or give --route-template for routes whose names carry no template.';
    case 'clock-beyond-max-skew': {
      const seconds = startsApartMs === null ? 0 : Math.round(startsApartMs / 1000);
      return `Pass --clock-offset ${seconds}s (the APM clock minus the proxy clock), or --max-skew ${Math.max(Math.abs(seconds) + 60, Math.round(maxSkewMs / 1000))}s to search that far.`;
    }
    case 'other-time-range':
      return 'Export the APM transactions for the proxy log\'s time range (or pass the proxy logs of the export\'s range).';
    case 'different-hosts':
      return 'Pass the APM export of the service behind the proxy\'s hosts (or the proxy log of the export\'s host); the two hosts are named above.';
    case 'different-paths':
      return 'Pass the APM export of the service behind this proxy, or give --route-template for the routes as the APM names them.';
    case 'ambiguous':
      return 'Log a request id both sides see (X-Request-Id in the proxy log and the APM attributes), or log $msec instead of whole-second times.';
    case 'unexplained':
      return 'Check that the export and the proxy log come from the same service and period; --joined pairs.csv shows which requests did pair.';
  }
}

/** Above this share of one side within the other's range, a weak join is not put down to the ranges. */
const PARTIAL_RANGE = 0.8;
/** Minute buckets kept per side (a day), then wider ones. */
const TIMELINE_BUCKETS = 1_440;

function startTimes(): TimeBuckets<{ count: number }> {
  return new TimeBuckets(60_000, TIMELINE_BUCKETS, () => ({ count: 0 }), (into, from) => { into.count += from.count; });
}

/** Share of the counted starts that fall within `span` widened by `slackMs` (whole buckets: to the bucket's width). */
function shareWithin(times: TimeBuckets<{ count: number }>, span: Span, slackMs: number): number | null {
  let inside = 0;
  let total = 0;
  for (const { startMs, value } of times.entries()) {
    total += value.count;
    if (startMs + times.widthMs > span.first - slackMs && startMs <= span.last + slackMs) inside += value.count;
  }
  return total === 0 ? null : inside / total;
}

/** An instant to the minute, as --since and --until read it (UTC). */
function minuteIso(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** Host names compared without case or port (`API.example.com:443` is `api.example.com`). */
function hostName(host: string): string {
  let name = hostNames.get(host);
  if (name === undefined) {
    const lower = host.toLowerCase();
    const colon = lower.lastIndexOf(':');
    name = colon > 0 && lower.indexOf(':') === colon && /^\d+$/.test(lower.slice(colon + 1)) ? lower.slice(0, colon) : lower;
    if (hostNames.size >= HOST_CAP) hostNames.clear();
    hostNames.set(ownString(host), ownString(name));
  }
  return name;
}

/** Names of the hosts seen last: a log's requests go to a few hosts, asked of every record on both sides. */
const hostNames = new Map<string, string>();

/** Distinct hosts kept per side; a proxy in front of more hosts than this is counted by its first ones. */
const HOST_CAP = 1_000;

function countCapped(counts: Map<string, number>, key: string): void {
  const count = counts.get(key);
  if (count !== undefined) counts.set(key, count + 1);
  else if (counts.size < HOST_CAP) counts.set(key, 1);
}

/** The three commonest hosts, most requests first; null when none. */
function commonest(counts: ReadonlyMap<string, number>): string | null {
  if (counts.size === 0) return null;
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([host]) => host).join(', ');
}
