import type { Count, FindingBase, Instant, Seconds, Severity, Share, StatusCode, Table, Text } from '../model/finding.js';
import { formatNumber, formatShare } from '../model/figure-format.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { answeredWithoutBackend, upstreamMissing, upstreamTried } from '../model/records.js';
import { roundTo } from '../model/round.js';
import { routeOf } from '../model/route.js';
import { HEALTHY_BACKGROUND, severityOf, type Impact } from '../model/severity.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import { LongStringTally } from '../statistics/long-string-tally.js';
import { backendOutlived } from './client-timeout-knee.js';
import { seeWall, wallOwning } from './timeout-walls.js';
import { findingsOfKind, type Detector, type DetectorContext } from './detector.js';
import { traitsOf } from '../../parsers/registry.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';

/**
 * Responses the proxy made up: the proxy logged that no backend answered (upstream status
 * `-`). Each is classified:
 *   client-abort       the client hung up (499, ALB 460, HAProxy C*, Envoy DC), or the backend
 *                      (per APM) ran longer than the client waited, whatever status was logged
 *                      (except 502/503/504);
 *   proxy-error        502/503/504: the proxy could not reach or wait for the backend (even if
 *                      the backend ran on: the proxy, not the client, gave up);
 *   gateway-rejection  auth, rate limit, WAF, bad request (400/401/403/405/413/414/429/444/431/494;
 *                      nginx's limit_req 503, answered without trying a backend);
 *   local              no upstream was involved at all (static files, `return`, redirects);
 *   unexplained        anything else, e.g. a 404 with an upstream address on a route that
 *                      otherwise returns 2xx (the founding case: nginx post_action after a client abort).
 */

export const ResponseClass = {
  'client-abort': 'client-abort',
  'proxy-error': 'proxy-error',
  'gateway-rejection': 'gateway-rejection',
  local: 'local',
  unexplained: 'unexplained',
} as const;
export type ResponseClass = keyof typeof ResponseClass;

const CLASSES = Object.keys(ResponseClass) as ResponseClass[];
const REJECTION_STATUSES = new Set([400, 401, 403, 405, 413, 414, 429, 431, 444, 494]);
const PROXY_ERROR_STATUSES = new Set([502, 503, 504]);


/**
 * A 503 the proxy's own limiter answered: no backend was tried (the format logs attempts), and
 * in this software such a 503 is its rate or connection limit (nginx's limit_req and limit_conn).
 * A rejection, like a 429, not the proxy failing to reach a backend.
 */
export function answeredByOwnLimiter(record: ProxyRecord): boolean {
  return record.status === 503 && answeredWithoutBackend(record) && traitsOf(record.format)?.limiterAnswers503 === true;
}

export function classifyProxyMade(request: JoinedRequest): ResponseClass {
  const proxy = request.proxy!;
  const status = proxy.status ?? 0;
  if (proxy.clientClosed) return 'client-abort';
  if (answeredByOwnLimiter(proxy)) return 'gateway-rejection';
  // A 502/503/504 is the proxy giving up, even when the backend (per APM) ran on: not the client.
  if (PROXY_ERROR_STATUSES.has(status)) return 'proxy-error';
  const clientMs = proxy.requestTimeMs;
  if (request.apm !== null && clientMs !== null && backendOutlived(clientMs, request.apm.durationMs)) return 'client-abort';
  // Joined, and the backend was still working when the proxy answered without it: the client left,
  // even if not by a clear margin (a 4.905 s 404 joined to a 5.100 s transaction, seen with a real
  // nginx post_action). Only for proxies that did send the request upstream.
  if (request.apm !== null && clientMs !== null && upstreamTried(proxy) && request.apm.durationMs >= clientMs) return 'client-abort';
  if (REJECTION_STATUSES.has(status)) return 'gateway-rejection';
  if (!upstreamTried(proxy)) return 'local';
  return 'unexplained';
}

interface ClassCounts {
  count: number;
  /** Of them, those whose client waited at least EARLY_HANG_UP_MS: only those count as impact. */
  afterWaiting: number;
  statuses: Map<number, number>;
  routes: BoundedCounter<{ count: number }>;
  userAgents: BoundedCounter<{ count: number }>;
  evidence: EvidenceSample;
  /** Backend (APM) ms worked after the proxy had answered without it. */
  backendMsAfter: number;
  firstMs: number;
  /** Of them, client aborts in logs without upstream fields (their status is all they say). */
  unlogged: number;
}

/**
 * A client that hangs up within half a second (a user who navigates away, a flaky mobile network)
 * cost the backend next to nothing: such hang-ups are background however many there are, and only
 * the ones after a real wait count as impact (docs/severity.md).
 */
const EARLY_HANG_UP_MS = 500;

const counter = (): BoundedCounter<{ count: number }> => new BoundedCounter(5_000, () => ({ count: 0 }));

function top(counts: BoundedCounter<{ count: number }>, n: number): [string, number][] {
  return [...counts].map(([key, value]): [string, number] => [key, value.count]).sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** What healthy traffic shows of each class (docs/severity.md); rejections and static answers are no failure at all. */
const BACKGROUND: Record<ResponseClass, number | null> = {
  'client-abort': HEALTHY_BACKGROUND.clientDrops,
  'proxy-error': HEALTHY_BACKGROUND.serverErrors,
  'gateway-rejection': null,
  local: null,
  unexplained: HEALTHY_BACKGROUND.none,
};

export interface ProxyMadeFigures {
  class: ResponseClass;
  /** Responses of this class the proxy made without a backend answer. */
  count: Count;
  /** `count` among all requests (TCP sessions aside), of logs with upstream fields or without. */
  shareOfRequests: Share;
  /** Every response the proxy made without a backend answer, of every class but static/local ones. */
  madeByProxy: Count;
  madeByProxyShare: Share;
  topStatus: StatusCode | null;
  /** The route with the most of them. */
  topRoute: Text | null;
  /** Client aborts logged with another status than 499 while the backend (per APM) still worked. */
  loggedWithOtherStatus: Count | null;
  /** Unexplained responses that end at a client-timeout knee. */
  atClientTimeoutKnee: Count | null;
  /** Backend seconds worked after the proxy had answered without it (APM). */
  backendSecondsAfterAnswer: Seconds | null;
  firstAt: Instant | null;
  proxyRecords: Count;
}

export type ProxyMadeColumns = ['by', 'value', 'count'];
export type ProxyMadeRow = [by: 'status' | 'route' | 'userAgent', value: Text, count: Count];

export interface ProxyMadeFinding extends FindingBase<'proxy-made-responses', ProxyMadeFigures> {
  table: Table<ProxyMadeColumns, ProxyMadeRow>;
}

const NEXT_STEP: Record<ResponseClass, string> = {
  'client-abort':
    'Clients hang up before the backend answers. Check the client-timeout knee finding; with nginx, ' +
    '`proxy_ignore_client_abort on;` makes the log (and any accounting) carry the backend\'s real status and time.',
  'proxy-error': 'See the upstream-trouble findings: which upstream, since when, connect failures or timeouts.',
  'gateway-rejection': 'Expected when auth, WAF or rate limits reject traffic; check the top clients if the volume is unusual.',
  local: 'Responses nginx served itself (static files, `return`, redirects); usually harmless.',
  unexplained:
    'A status the backend never sent, for routes that normally work. With nginx, look for `post_action`, `error_page` or ' +
    '`X-Accel-Redirect` handling of aborted requests: their status replaces the real one in the log.',
};

export const proxyMadeResponses: Detector<ProxyMadeFinding> = {
  id: 'proxy-made-responses',
  title: 'Responses the proxy made up',
  kinds: ['proxy-made-responses'],
  chart: 'request-timeline',
  headline: { 'proxy-made-responses': 'shareOfRequests' },
  verdict(findings, cite) {
    const first = findings[0]!;
    const classes = findings.map((finding) =>
      `${cite(finding, 'count')} ${finding.figures.class}${finding.figures.topStatus !== null ? `, mostly ${finding.figures.topStatus}` : ''}`);
    return `The proxy answered ${cite(first, 'madeByProxy')} requests (${cite(first, 'madeByProxyShare')} of all) without a backend response: ${classes.join('; ')}.`;
  },
  start() {
    let proxyRecords = 0;
    /** Requests of logs that say who answered, and of those that do not all but their TCP sessions: the base of every share. */
    let considered = 0;
    const classes = new Map<ResponseClass, ClassCounts>(
      CLASSES.map((name) => [name, {
        count: 0, afterWaiting: 0, statuses: new Map(), routes: counter(), userAgents: counter(), evidence: new EvidenceSample(5), backendMsAfter: 0, firstMs: Infinity, unlogged: 0,
      }]),
    );
    // Routes (templates) where the backend answered 2xx: a made-up 404 there is not a real 404.
    const answeredRoutes = new BoundedCounter<{ count: number }>(50_000, () => ({ count: 0 }));
    let abortedWithOtherStatus = 0;
    // Requests of logs without upstream fields by user agent: the cohort their client aborts are judged in.
    const unloggedByAgent = new LongStringTally(5_000);
    // Client times of unexplained responses (50 ms bins): at finish, those at the knee are likely aborts without an APM record.
    const unexplainedTimes = new Map<number, number>();

    /** Counts a response the proxy made without a backend answer, in its class. */
    function countMade(request: JoinedRequest, proxy: ProxyRecord, responseClass: ResponseClass, route: string): void {
      const counts = classes.get(responseClass)!;
      counts.count++;
      if ((proxy.requestTimeMs ?? Infinity) >= EARLY_HANG_UP_MS) counts.afterWaiting++;
      const status = proxy.status ?? 0;
      counts.statuses.set(status, (counts.statuses.get(status) ?? 0) + 1);
      if (responseClass === 'client-abort' && !proxy.clientClosed) abortedWithOtherStatus++;
      if (responseClass === 'unexplained' && proxy.requestTimeMs !== null) {
        const bin = Math.floor(proxy.requestTimeMs / 50);
        unexplainedTimes.set(bin, (unexplainedTimes.get(bin) ?? 0) + 1);
      }
      counts.routes.get(route).count++;
      counts.userAgents.get(proxy.userAgent ?? '-').count++;
      if (proxy.endMs < counts.firstMs) counts.firstMs = proxy.endMs;
      if (!proxy.upstreamLogged) counts.unlogged++;
      // A log without the client's time (combined) cannot say how long the backend worked on after it.
      if (request.apm !== null && (proxy.upstreamLogged || proxy.requestTimeMs !== null)) {
        counts.backendMsAfter += Math.max(0, request.apm.durationMs - (proxy.requestTimeMs ?? 0));
      }
      const backend = request.apm ? `, backend (APM) ${(request.apm.durationMs / 1000).toFixed(3)} s` : '';
      const upstream = proxy.upstreamLogged ? 'upstream status -' : 'no upstream logged';
      const client = proxy.requestTimeMs === null ? '' : `, client ${(proxy.requestTimeMs / 1000).toFixed(3)} s`;
      counts.evidence.offer(proxy, request.apm ? request.apm.durationMs : 0, `status ${proxy.status ?? '-'}, ${upstream}${client}${backend}`);
    }

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        proxyRecords++;
        const route = routeOf(proxy) ?? '(no path)';
        if (!proxy.upstreamLogged) {
          // A log without upstream fields (nginx's and Apache's combined) cannot say who answered a
          // request, but a client abort (nginx's 499) is the proxy's own status whatever the backend
          // did: a real nginx's default log with 11% of its requests abandoned at a client timeout
          // raised nothing. Its other requests count among all, as in a log that says.
          if (proxy.status === null) return;
          considered++;
          unloggedByAgent.add(proxy.userAgent ?? '-');
          if (proxy.clientClosed) countMade(request, proxy, 'client-abort', route);
          return;
        }
        considered++;
        if (!upstreamMissing(proxy)) {
          const upstream = proxy.upstreamStatus!;
          if (upstream >= 200 && upstream < 300) answeredRoutes.get(route).count++;
          return;
        }
        countMade(request, proxy, classifyProxyMade(request), route);
      },

      finish(context: DetectorContext): ProxyMadeFinding[] {
        if (considered === 0) return [];
        const findings: ProxyMadeFinding[] = [];
        const kneeTimes = findingsOfKind(context.earlier, 'client-timeout-knee').map((knee) => knee.figures.timeoutSeconds);
        let unexplainedAtKnee = 0;
        for (const kneeSeconds of kneeTimes) {
          const center = Math.floor((kneeSeconds * 1000) / 50);
          for (const bin of [center - 1, center, center + 1]) unexplainedAtKnee += unexplainedTimes.get(bin) ?? 0;
        }
        const madeByProxy = CLASSES.filter((name) => name !== 'local').reduce((sum, name) => sum + classes.get(name)!.count, 0);
        for (const responseClass of CLASSES) {
          const counts = classes.get(responseClass)!;
          if (counts.count === 0 || responseClass === 'local') continue;
          const share = counts.count / considered;
          const statuses = [...counts.statuses].sort((a, b) => b[1] - a[1]);
          const statusText = statuses.slice(0, 4).map(([status, n]) => `${status || '-'} × ${n}`).join(', ');
          const routeRows = top(counts.routes, 5);
          const routesWith2xx = routeRows.filter(([route]) => (answeredRoutes.peek(route)?.count ?? 0) > 0).length;
          let explanation =
            `${formatNumber(counts.count)} ${counts.count === 1 ? 'response' : 'responses'} (${formatShare(Math.round(share * 1e5) / 1e5)} of requests) were made by the proxy without a backend answer ` +
            (counts.unlogged === counts.count
              ? '(the log has no upstream fields; the status says the client hung up)'
              : `(upstream status -${counts.unlogged > 0 ? `; ${formatNumber(counts.unlogged)} of them client hang-ups in a log without upstream fields` : ''})`) +
            `, classified as ${responseClass}; statuses: ${statusText}` +
            (routeRows.length > 0 ? `; most for ${routeRows[0]![0]} (${routeRows[0]![1]}).` : '.');
          if (responseClass === 'client-abort' && counts.afterWaiting < counts.count) {
            explanation += ` ${counts.count - counts.afterWaiting} of them hung up within ${EARLY_HANG_UP_MS / 1000} s: background that costs the backend next to nothing.`;
          }
          if (responseClass === 'client-abort' && abortedWithOtherStatus > 0) {
            explanation += ` ${abortedWithOtherStatus} of them were logged with a status other than 499 although the backend (per APM) was still working: the log's status is not what happened.`;
          }
          if (responseClass === 'unexplained' && routesWith2xx > 0) {
            explanation += ` They hit routes that otherwise return 2xx from the backend, so these statuses did not come from the application.`;
          }
          if (responseClass === 'unexplained' && unexplainedAtKnee > 0) {
            explanation += ` ${unexplainedAtKnee} of them end at a client-timeout knee (${kneeTimes.map((t) => `${t.toFixed(2)} s`).join(', ')}): most likely client aborts whose APM transaction is missing from the export.`;
          }
          // Unknown, not 0, where no response of the class has the client's time (a combined log).
          const backendSecondsAfter = context.hasApm && counts.unlogged < counts.count ? counts.backendMsAfter / 1000 : null;
          // The proxy's own 502/504s at a timeout wall on their route are that wall's requests, told
          // with its setting there: a real HAProxy's 54 `timeout server` 504s led the verdict as
          // "54 proxy-error responses" (high) beside the high wall that names the setting.
          const wall = responseClass === 'proxy-error' ? wallOwning(context.earlier, routeRows[0]?.[0] ?? null, counts.count) : undefined;
          // Without the client's time an early hang-up (a user who navigates away) cannot be told from
          // one after a wait, so the share of all requests is no measure (a healthy log with 3% of its
          // requests 499 read as medium); a cohort is: one client's calls cut off again and again.
          const topAgent = counts.unlogged === counts.count ? top(counts.userAgents, 1)[0] : undefined;
          const agentShare = topAgent === undefined ? null : topAgent[1] / Math.max(1, unloggedByAgent.count(topAgent[0]));
          if (topAgent !== undefined && agentShare !== null) {
            explanation += ` Most came from ${topAgent[0]}: ${formatNumber(topAgent[1])} of its ${formatNumber(unloggedByAgent.count(topAgent[0]))} requests (${formatShare(roundTo(agentShare, 3))}).`;
          }
          if (wall !== undefined) {
            explanation += ` ${Math.min(counts.count, wall.gatewayTimeouts + wall.upstreamResets) === counts.count ? 'All' : 'Most'} of them are the requests of the timeout wall at ${formatNumber(wall.wallSeconds)} s on ${wall.route} (see it).`;
          }
          const background = BACKGROUND[responseClass];
          const impact: Impact = {
            affected: responseClass === 'client-abort' ? counts.afterWaiting : counts.count,
            total: considered, background: background ?? 0, lostSeconds: backendSecondsAfter,
          };
          // Rejections are the gateway doing its job, not a failure.
          const own: Severity = background === null ? 'info'
            : topAgent !== undefined ? severityOf({ affected: counts.count, total: 0, background: 0, cohortShare: agentShare })
              : severityOf(impact);
          // The wall finding owns these requests and their severity.
          const severity: Severity = wall !== undefined && own !== 'info' ? 'low' : own;
          findings.push({
            kind: 'proxy-made-responses',
            severity,
            title: `${formatNumber(counts.count)} ${responseClass} ${counts.count === 1 ? 'response' : 'responses'} made by the proxy without the backend`,
            explanation,
            nextStep: wall !== undefined ? seeWall(wall) : NEXT_STEP[responseClass],
            figures: {
              class: responseClass,
              count: counts.count,
              shareOfRequests: Math.round(share * 1e5) / 1e5,
              madeByProxy,
              madeByProxyShare: roundTo(madeByProxy / considered, 4),
              topStatus: statuses[0]?.[0] ?? null,
              topRoute: routeRows[0]?.[0] ?? null,
              loggedWithOtherStatus: responseClass === 'client-abort' ? abortedWithOtherStatus : null,
              atClientTimeoutKnee: responseClass === 'unexplained' ? unexplainedAtKnee : null,
              backendSecondsAfterAnswer: backendSecondsAfter === null ? null : roundTo(backendSecondsAfter, 1),
              firstAt: Number.isFinite(counts.firstMs) ? new Date(counts.firstMs).toISOString() : null,
              proxyRecords,
            },
            table: {
              columns: ['by', 'value', 'count'],
              rows: [
                ...statuses.slice(0, 10).map(([status, n]): ProxyMadeRow => ['status', String(status || '-'), n]),
                ...routeRows.map(([route, n]): ProxyMadeRow => ['route', route, n]),
                ...top(counts.userAgents, 5).map(([agent, n]): ProxyMadeRow => ['userAgent', agent, n]),
              ],
            },
            evidence: counts.evidence.list(),
          });
        }
        return findings;
      },
    };
  },
};
