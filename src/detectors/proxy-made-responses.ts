import type { Finding, Severity } from '../model/finding.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { upstreamMissing } from '../model/records.js';
import { routeOf } from '../model/route.js';
import { BoundedCounter } from './bounded-counter.js';
import { backendOutlived } from './client-timeout-knee.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from './evidence-sample.js';

/**
 * Responses the proxy made up: the proxy logged that no backend answered (upstream status
 * `-`). Each is classified:
 *   client-abort       the client hung up (499, ALB 460, HAProxy C*, Envoy DC), or the backend
 *                      (per APM) ran longer than the client waited, whatever status was logged
 *                      (except 502/503/504);
 *   proxy-error        502/503/504: the proxy could not reach or wait for the backend (even if
 *                      the backend ran on: the proxy, not the client, gave up);
 *   gateway-rejection  auth, rate limit, WAF, bad request (400/401/403/405/413/414/429/444/431/494);
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

/** Whether an upstream was involved at all: an address or an attempt was logged. */
function upstreamInvolved(record: ProxyRecord): boolean {
  return record.upstreamAddr !== null || record.upstreamAttempts > 0 || record.upstreamTimeMs !== null;
}

export function classifyProxyMade(request: JoinedRequest): ResponseClass {
  const proxy = request.proxy!;
  const status = proxy.status ?? 0;
  if (proxy.clientClosed) return 'client-abort';
  // A 502/503/504 is the proxy giving up, even when the backend (per APM) ran on: not the client.
  if (PROXY_ERROR_STATUSES.has(status)) return 'proxy-error';
  const clientMs = proxy.requestTimeMs;
  if (request.apm !== null && clientMs !== null && backendOutlived(clientMs, request.apm.durationMs)) return 'client-abort';
  // Joined, and the backend was still working when the proxy answered without it: the client left,
  // even if not by a clear margin (a 4.905 s 404 joined to a 5.100 s transaction, seen with a real
  // nginx post_action). Only for proxies that did send the request upstream.
  if (request.apm !== null && clientMs !== null && upstreamInvolved(proxy) && request.apm.durationMs >= clientMs) return 'client-abort';
  if (REJECTION_STATUSES.has(status)) return 'gateway-rejection';
  if (!upstreamInvolved(proxy)) return 'local';
  return 'unexplained';
}

interface ClassCounts {
  count: number;
  statuses: Map<number, number>;
  routes: BoundedCounter<{ count: number }>;
  userAgents: BoundedCounter<{ count: number }>;
  evidence: EvidenceSample;
}

const counter = (): BoundedCounter<{ count: number }> => new BoundedCounter(5_000, () => ({ count: 0 }));

function top(counts: BoundedCounter<{ count: number }>, n: number): [string, number][] {
  return [...counts].map(([key, value]): [string, number] => [key, value.count]).sort((a, b) => b[1] - a[1]).slice(0, n);
}

const SEVERITY: Record<ResponseClass, (share: number, count: number) => Severity> = {
  // Some honest 499s are normal (flaky mobile networks): alarming only when they are a real share.
  'client-abort': (share) => (share >= 0.01 ? 'high' : share >= 0.005 ? 'medium' : 'low'),
  'proxy-error': (share) => (share >= 0.01 ? 'high' : share >= 0.001 ? 'medium' : 'low'),
  'gateway-rejection': () => 'info',
  local: () => 'info',
  unexplained: (_share, count) => (count >= 10 ? 'high' : 'medium'),
};

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

export const proxyMadeResponses: Detector = {
  id: 'proxy-made-responses',
  title: 'Responses the proxy made up',
  start() {
    let proxyRecords = 0;
    let upstreamLoggedRecords = 0;
    const classes = new Map<ResponseClass, ClassCounts>(
      CLASSES.map((name) => [name, { count: 0, statuses: new Map(), routes: counter(), userAgents: counter(), evidence: new EvidenceSample(5) }]),
    );
    // Routes (templates) where the backend answered 2xx: a made-up 404 there is not a real 404.
    const answeredRoutes = new BoundedCounter<{ count: number }>(50_000, () => ({ count: 0 }));
    let abortedWithOtherStatus = 0;
    // Client times of unexplained responses (50 ms bins): at finish, those at the knee are likely aborts without an APM record.
    const unexplainedTimes = new Map<number, number>();

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        proxyRecords++;
        if (!proxy.upstreamLogged) return;
        upstreamLoggedRecords++;
        const route = routeOf(proxy) ?? '(no path)';
        if (!upstreamMissing(proxy)) {
          const upstream = proxy.upstreamStatus!;
          if (upstream >= 200 && upstream < 300) answeredRoutes.get(route).count++;
          return;
        }
        const responseClass = classifyProxyMade(request);
        const counts = classes.get(responseClass)!;
        counts.count++;
        const status = proxy.status ?? 0;
        counts.statuses.set(status, (counts.statuses.get(status) ?? 0) + 1);
        if (responseClass === 'client-abort' && !proxy.clientClosed) abortedWithOtherStatus++;
        if (responseClass === 'unexplained' && proxy.requestTimeMs !== null) {
          const bin = Math.floor(proxy.requestTimeMs / 50);
          unexplainedTimes.set(bin, (unexplainedTimes.get(bin) ?? 0) + 1);
        }
        counts.routes.get(route).count++;
        counts.userAgents.get(proxy.userAgent ?? '-').count++;
        const backend = request.apm ? `, backend (APM) ${(request.apm.durationMs / 1000).toFixed(3)} s` : '';
        counts.evidence.offer(proxy, request.apm ? request.apm.durationMs : 0,
          `status ${proxy.status ?? '-'}, upstream status -, client ${((proxy.requestTimeMs ?? 0) / 1000).toFixed(3)} s${backend}`);
      },

      finish(context: DetectorContext): Finding[] {
        if (upstreamLoggedRecords === 0) return [];
        const findings: Finding[] = [];
        const knee = context.earlier.find((finding) => finding.kind === 'client-timeout-knee');
        const kneeSeconds = typeof knee?.figures.timeoutSeconds === 'number' ? knee.figures.timeoutSeconds : null;
        let unexplainedAtKnee = 0;
        if (kneeSeconds !== null) {
          const center = Math.floor((kneeSeconds * 1000) / 50);
          for (const bin of [center - 1, center, center + 1]) unexplainedAtKnee += unexplainedTimes.get(bin) ?? 0;
        }
        for (const responseClass of CLASSES) {
          const counts = classes.get(responseClass)!;
          if (counts.count === 0 || responseClass === 'local') continue;
          const share = counts.count / upstreamLoggedRecords;
          const statuses = [...counts.statuses].sort((a, b) => b[1] - a[1]);
          const statusText = statuses.slice(0, 4).map(([status, n]) => `${status || '-'} × ${n}`).join(', ');
          const routeRows = top(counts.routes, 5);
          const routesWith2xx = routeRows.filter(([route]) => (answeredRoutes.peek(route)?.count ?? 0) > 0).length;
          let explanation =
            `${counts.count} responses (${(share * 100).toFixed(2)}% of requests) were made by the proxy without a backend answer ` +
            `(upstream status -), classified as ${responseClass}; statuses: ${statusText}.`;
          if (responseClass === 'client-abort' && abortedWithOtherStatus > 0) {
            explanation += ` ${abortedWithOtherStatus} of them were logged with a status other than 499 although the backend (per APM) was still working: the log's status is not what happened.`;
          }
          if (responseClass === 'unexplained' && routesWith2xx > 0) {
            explanation += ` They hit routes that otherwise return 2xx from the backend, so these statuses did not come from the application.`;
          }
          const allAtKnee = responseClass === 'unexplained' && unexplainedAtKnee === counts.count;
          if (responseClass === 'unexplained' && unexplainedAtKnee > 0) {
            explanation += ` ${unexplainedAtKnee} of them end at the client-timeout knee (${kneeSeconds!.toFixed(2)} s): most likely client aborts whose APM transaction is missing from the export.`;
          }
          findings.push({
            kind: 'proxy-made-responses',
            severity: allAtKnee ? 'low' : SEVERITY[responseClass](share, counts.count),
            title: `${counts.count} ${responseClass} responses made by the proxy without the backend`,
            explanation,
            nextStep: NEXT_STEP[responseClass],
            figures: {
              class: responseClass,
              count: counts.count,
              shareOfRequests: Math.round(share * 1e5) / 1e5,
              topStatus: statuses[0]?.[0] ?? null,
              loggedWithOtherStatus: responseClass === 'client-abort' ? abortedWithOtherStatus : null,
              atClientTimeoutKnee: responseClass === 'unexplained' ? unexplainedAtKnee : null,
              proxyRecords,
            },
            table: {
              columns: ['by', 'value', 'count'],
              rows: [
                ...statuses.slice(0, 10).map(([status, n]) => ['status', String(status || '-'), n]),
                ...routeRows.map(([route, n]) => ['route', route, n]),
                ...top(counts.userAgents, 5).map(([agent, n]) => ['userAgent', agent, n]),
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
