import type { Count, FindingBase, Instant, Milliseconds, Seconds, Severity, Share, Table, Text } from '../model/finding.js';
import { formatNumber, formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { ownString } from '../model/own-string.js';
import { routeOf } from '../model/route.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import type { Detector, DetectorContext } from './detector.js';
import { seeWall, wallOwning } from './timeout-walls.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { TimeBuckets } from '../statistics/time-buckets.js';
import { traitsOf } from '../../parsers/registry.js';
import { answeredByOwnLimiter } from './proxy-made-responses.js';

/**
 * Upstream trouble: 502/503/504, connect failures, timeouts and resets, per upstream address and
 * over time. The question the AWS and Tyk write-ups ask is rate, not count: errors that are rare
 * and scattered are transient network trouble; errors that are frequent, or that fill a stretch
 * of minutes, are an outage or a misconfiguration. Connect-time spikes and resets from the
 * target point at the backend (or the network in front of it) rather than the application.
 *
 * Signals, per request:
 *   error    client status 502/503/504, or an upstream 502/503/504;
 *   connect  the backend was never reached: Envoy UF, HAProxy SC, or nginx 502 with no connect
 *            time logged (Envoy's UH, NC and URX are errors by their status alone);
 *   timeout  504, Envoy UT, HAProxy sH/sD (server-side timeout);
 *   reset    Envoy UC/UR/UPE, HAProxy other S* states, nginx 502 after a logged connect time
 *            (the server accepted the connection, then closed or reset it).
 *
 * Only an upstream the log names gets a finding of its own. Errors of requests the log names no
 * upstream for (a `combined` log, CloudFront, a gateway that answered itself) are one finding over
 * all requests, attributed to the routes and clients that saw them: the share is of every request,
 * never of the errors themselves.
 */

/** Statuses a rate limit answers with: nginx limit_req's default 503, and 429. */
const REJECTION_STATUSES: ReadonlySet<number> = new Set([429, 503]);
const UPSTREAM_CAP = 2_000;
const BUCKET_MS = 60_000;
const BUCKET_CAP = 720;
const BURST_ERROR_RATE = 0.2;
const BURST_MIN_ERRORS = 5;
const SUSTAINED_RATE = 0.01;
/**
 * Errors "frequent and continuous" needs at least: three errors in three minutes of a quiet
 * two-hour slice (a real HAProxy log, 1.12% of 268 requests) are no misconfiguration.
 */
const SUSTAINED_MIN_ERRORS = 10;

interface Bucket {
  requests: number;
  errors: number;
  connectSumMs: number;
  connectCount: number;
  /** When its first and last error were logged: a long log's periods are hours wide. */
  firstErrorMs: number;
  lastErrorMs: number;
}

function countError(bucket: Bucket, atMs: number): void {
  bucket.errors++;
  if (atMs < bucket.firstErrorMs) bucket.firstErrorMs = atMs;
  if (atMs > bucket.lastErrorMs) bucket.lastErrorMs = atMs;
}

interface UpstreamState {
  requests: number;
  errors: number;
  connectFailures: number;
  maybeNeverConnected: number;
  timeouts: number;
  resets: number;
  statuses: Map<number, number>;
  timeline: TimeBuckets<Bucket>;
  evidence: EvidenceSample;
  /**
   * Errors by route and by client (API key, else address): who saw them. A client's `requests`
   * are estimated from its first error on (a sample, see CLIENT_SAMPLE), for the requests the log
   * names no upstream for: enough to tell errors that fell on one client from errors on everyone.
   */
  routes: BoundedCounter<{ n: number }>;
  clients: BoundedCounter<{ n: number; requests: number }>;
  /** When the first and the last error were logged. */
  firstErrorMs: number;
  lastErrorMs: number;
  /**
   * Without an upstream, the route is the cohort a burst is measured in: a timeline per route that
   * has failed without an upstream (from its first error on, for the first ROUTE_TIMELINES routes),
   * so one route that fails for minutes is a burst even when the others dilute it. Null for named
   * upstreams.
   */
  routeTimelines: Map<string, TimeBuckets<Bucket>> | null;
}

const ROUTE_TIMELINES = 50;

function newTimeline(): TimeBuckets<Bucket> {
  return new TimeBuckets<Bucket>(BUCKET_MS, BUCKET_CAP, () => ({ requests: 0, errors: 0, connectSumMs: 0, connectCount: 0, firstErrorMs: Infinity, lastErrorMs: -Infinity }), (a, b) => {
    a.requests += b.requests; a.errors += b.errors; a.connectSumMs += b.connectSumMs; a.connectCount += b.connectCount;
    a.firstErrorMs = Math.min(a.firstErrorMs, b.firstErrorMs); a.lastErrorMs = Math.max(a.lastErrorMs, b.lastErrorMs);
  });
}

interface Burst {
  periods: number;
  fromMs: number | null;
  errors: number;
  requests: number;
  /** Its first and last error. */
  firstErrorMs: number;
  lastErrorMs: number;
}

/** The longest run of adjacent periods that are mostly errors: an outage, not a blip. */
function longestBurst(timeline: TimeBuckets<Bucket>): Burst {
  let run = 0;
  let runFrom: number | null = null;
  let runErrors = 0;
  let runRequests = 0;
  let runFirstError = Infinity;
  let best: Burst = { periods: 0, fromMs: null, errors: 0, requests: 0, firstErrorMs: Infinity, lastErrorMs: -Infinity };
  let previousStart = -Infinity;
  for (const { startMs, value } of timeline.entries()) {
    const bursting = value.errors >= BURST_MIN_ERRORS && value.errors / value.requests >= BURST_ERROR_RATE;
    const adjacent = startMs - previousStart <= timeline.widthMs;
    previousStart = startMs;
    if (!bursting) {
      run = 0;
      continue;
    }
    if (run === 0 || !adjacent) { run = 0; runErrors = 0; runRequests = 0; runFrom = startMs; runFirstError = value.firstErrorMs; }
    run++;
    runErrors += value.errors;
    runRequests += value.requests;
    if (run > best.periods) best = { periods: run, fromMs: runFrom, errors: runErrors, requests: runRequests, firstErrorMs: runFirstError, lastErrorMs: value.lastErrorMs };
  }
  return best;
}

export type TroublePattern = 'burst' | 'sustained' | 'transient' | 'few-mostly-failing' | 'connect-spikes' | 'one-client';

/**
 * Errors the log names no upstream for, nearly all of one client's requests while it sent a
 * small part of the traffic: that client was turned away (a rate limit: nginx's `limit_req`
 * answers 503 unless told otherwise, and a plain `combined` log cannot say nginx answered alone)
 * or made requests only it makes. A backend in trouble fails everyone.
 */
const ONE_CLIENT_ERROR_SHARE = 0.8;
const ONE_CLIENT_TRAFFIC_SHARE = 0.5;
/**
 * And others were answered meanwhile: at least this many requests of other clients in the periods
 * with errors, most of them not failing. A backend that was down for everyone active looks the
 * same at a quiet hour, when one client was all the traffic: a real HAProxy with no server left
 * (`<NOSRV>`, `SC--`, "backend … has no server available!") answered the only visitor 32 503s,
 * every request of their period, and that read as the client turned away by a rate limit.
 */
const ONE_CLIENT_OTHERS_SERVED = 10;
const CLIENT_SAMPLE = 8;

export interface UpstreamTroubleFigures {
  /** The upstream's address as logged; null for errors of requests the log names no upstream for. */
  upstream: Text | null;
  pattern: TroublePattern;
  /** Requests to that upstream (or, without one, every request of the run). */
  requests: Count;
  errors: Count;
  errorRate: Share;
  shareOfAllRequests: Share;
  /** The route and client with the most errors. */
  topRoute: Text | null;
  topClient: Text | null;
  connectFailures: Count;
  timeouts: Count;
  resets: Count;
  burstMinutes: Count;
  burstStart: Instant | null;
  burstErrors: Count;
  /** Errors among the requests of the burst's periods. */
  burstErrorRate: Share | null;
  periodsWithErrors: Count;
  periods: Count;
  periodMinutes: Count;
  connectSpikePeriods: Count;
  connectBaselineMs: Milliseconds;
  /** Errors that are the requests of a timeout wall on the same route, reported there; null when none is. */
  wallErrors: Count | null;
  /** That wall's value, s. */
  wallSeconds: Seconds | null;
}

export type UpstreamTroubleColumns = ['periodStart', 'requests', 'errors', 'errorRate'];
export type UpstreamTroubleRow = [periodStart: Instant, requests: Count, errors: Count, errorRate: Share];

export interface UpstreamTroubleFinding extends FindingBase<'upstream-trouble', UpstreamTroubleFigures> {
  table: Table<UpstreamTroubleColumns, UpstreamTroubleRow>;
}

const ERROR_WHO_CAP = 1_000;


function newState(byRoute = false): UpstreamState {
  return {
    requests: 0, errors: 0, connectFailures: 0, maybeNeverConnected: 0, timeouts: 0, resets: 0, statuses: new Map(), firstErrorMs: Infinity, lastErrorMs: -Infinity,
    timeline: newTimeline(),
    evidence: new EvidenceSample(5),
    routes: new BoundedCounter(ERROR_WHO_CAP, () => ({ n: 0 })),
    clients: new BoundedCounter(ERROR_WHO_CAP, () => ({ n: 0, requests: 0 })),
    routeTimelines: byRoute ? new Map() : null,
  };
}

/** The entry with the most, the first of equals. */
/**
 * Frequent errors (above the sustained rate) this much in one period came at once, as a burst:
 * scattered ones are spread over periods.
 */
const CONCENTRATED_SHARE = 0.8;

/** The period with the most errors, as a burst of one period; null when none erred. */
function busiestPeriod(timeline: TimeBuckets<Bucket>): Burst | null {
  let best: Burst | null = null;
  for (const { startMs, value } of timeline.entries()) {
    if (value.errors > 0 && (best === null || value.errors > best.errors)) {
      best = { periods: 1, fromMs: startMs, errors: value.errors, requests: value.requests, firstErrorMs: value.firstErrorMs, lastErrorMs: value.lastErrorMs };
    }
  }
  return best;
}

function topEntry<V extends { n: number }>(counter: BoundedCounter<V>): { key: string; value: V } | null {
  let best: { key: string; value: V } | null = null;
  for (const [key, value] of counter) if (best === null || value.n > best.value.n) best = { key, value };
  return best;
}

function topKey(counter: BoundedCounter<{ n: number }>): string | null {
  return topEntry(counter)?.key ?? null;
}

const ERROR_STATUSES = new Set([502, 503, 504]);

function hasFlag(flags: string | null, codes: readonly string[]): boolean {
  if (flags === null) return false;
  // Envoy writes flags comma-separated (UF,URX); HAProxy a 2-4 letter state (SC--).
  for (const part of flags.split(',')) if (codes.includes(part.trim())) return true;
  return false;
}

/**
 * nginx 502 with an upstream address but no connect time: the backend was never reached, but only
 * if the log format records connect times at all (decided at the end, from the whole log).
 */
function maybeNeverConnected(proxy: ProxyRecord): boolean {
  return proxy.status === 502 && proxy.upstreamAddr !== null && proxy.upstreamConnectTimeMs === null && proxy.format.startsWith('nginx');
}

export function classifyUpstreamError(proxy: ProxyRecord): { error: boolean; connect: boolean; timeout: boolean; reset: boolean } {
  // A CONNECT to a reverse proxy is a scanner looking for an open proxy; the backend refusing it
  // is no trouble (a real HAProxy log's only 502s, read as "most likely transient network trouble").
  if (proxy.method === 'CONNECT') return NO_ERROR;
  const flags = proxy.flags;
  const haproxy = flags !== null && traitsOf(proxy.format)?.flags === 'haproxy-termination' ? flags.slice(0, 2) : '';
  // nginx's limit_req 503 is the proxy turning a client away, not a backend failing (proxy-made-responses.ts).
  const error = (ERROR_STATUSES.has(proxy.status ?? 0) && !answeredByOwnLimiter(proxy)) || ERROR_STATUSES.has(proxy.upstreamStatus ?? 0);
  // Envoy's UF is a failed connection; UH (no healthy host), NC (no cluster) and URX (retries used
  // up, the last answer passed on) are not, and were all read as refused connections.
  const connect = hasFlag(flags, ['UF']) || haproxy === 'SC';
  const timeout = proxy.status === 504 || hasFlag(flags, ['UT']) || haproxy === 'sH' || haproxy === 'sD';
  // nginx has no flags: a 502 after a connect time was logged is the backend closing or resetting
  // the connection it had accepted (without one it never connected: maybeNeverConnected).
  const nginxReset = proxy.status === 502 && proxy.upstreamConnectTimeMs !== null && proxy.format.startsWith('nginx');
  const reset = hasFlag(flags, ['UC', 'UR', 'UPE']) || (haproxy.startsWith('S') && haproxy !== 'SC') || nginxReset;
  return { error: error || connect || reset, connect, timeout, reset };
}

const NO_ERROR = { error: false, connect: false, timeout: false, reset: false } as const;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const upstreamTrouble: Detector<UpstreamTroubleFinding> = {
  id: 'upstream-trouble',
  title: 'Upstream trouble',
  kinds: ['upstream-trouble'],
  chart: 'upstream-errors',
  verdict(findings, cite) {
    const worst = findings[0]!;
    const f = worst.figures;
    const where = f.upstream !== null ? `Upstream ${f.upstream}` : 'The backend';
    const what = f.pattern === 'burst'
      ? `failed in a burst of ${cite(worst, 'burstMinutes')} minute(s) from ${cite(worst, 'burstStart')}: ${cite(worst, 'burstErrors')} errors (${cite(worst, 'burstErrorRate')} of its requests then)`
      : `answered ${cite(worst, 'errors')} requests with errors (${cite(worst, 'errorRate')} of its requests)`;
    return `${where} ${what}${f.topRoute !== null ? `, mostly on ${f.topRoute}` : ''}` +
      (findings.length > 1 ? ` (and ${findings.length - 1} more upstream finding${findings.length > 2 ? 's' : ''}).` : '.');
  },
  start() {
    const upstreams = new BoundedCounter<UpstreamState>(UPSTREAM_CAP, () => newState());
    // Requests the log names no upstream for: one state over all of them, counting every request (the denominator).
    let unattributed: UpstreamState | null = null;
    let total = 0;
    let sampleTick = 0;
    let connectTimesLogged = false;

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        total++;
        const address = proxy.upstreamAddr ?? (proxy.upstreamAttempts > 0 ? '(unknown upstream)' : null);
        const kind = classifyUpstreamError(proxy);
        // Every request counts in the requests the log names no upstream for: their errors are a share of all requests.
        const everyRequest = unattributed ??= newState(true);
        everyRequest.requests++;
        // One request in CLIENT_SAMPLE is counted to its client (when it has failed before), standing
        // for CLIENT_SAMPLE: the share of traffic one client sent is all the 'one-client' pattern
        // needs, and a lookup per request cost ~2% of `analyze` on the bench's 1 M high-cardinality lines.
        if (++sampleTick === CLIENT_SAMPLE) {
          sampleTick = 0;
          if (everyRequest.clients.size > 0) {
            const who = proxy.apiKey ?? proxy.clientIp;
            if (who !== null) {
              const seen = everyRequest.clients.peek(who);
              if (seen !== undefined) seen.requests += CLIENT_SAMPLE;
            }
          }
        }
        everyRequest.timeline.at(proxy.endMs).requests++;
        const routeTimelines = everyRequest.routeTimelines!;
        if (routeTimelines.size > 0 && proxy.path !== null) {
          const routeBucket = routeTimelines.get(routeOf(proxy)!)?.at(proxy.endMs);
          if (routeBucket !== undefined) {
            routeBucket.requests++;
            if (kind.error && address === null) countError(routeBucket, proxy.endMs);
          }
        }
        let state: UpstreamState;
        if (address !== null) {
          state = upstreams.get(address);
          state.requests++;
        } else {
          state = everyRequest;
        }
        const bucket = state.timeline.at(proxy.endMs);
        if (address !== null) bucket.requests++;
        if (proxy.upstreamConnectTimeMs !== null) {
          connectTimesLogged = true;
          bucket.connectSumMs += proxy.upstreamConnectTimeMs;
          bucket.connectCount++;
        }
        if (!kind.error) return;
        state.errors++;
        if (proxy.endMs < state.firstErrorMs) state.firstErrorMs = proxy.endMs;
        if (proxy.endMs > state.lastErrorMs) state.lastErrorMs = proxy.endMs;
        countError(bucket, proxy.endMs);
        if (kind.connect) state.connectFailures++;
        else if (maybeNeverConnected(proxy)) state.maybeNeverConnected++;
        if (kind.timeout) state.timeouts++;
        if (kind.reset) state.resets++;
        const status = proxy.status ?? 0;
        state.statuses.set(status, (state.statuses.get(status) ?? 0) + 1);
        if (proxy.path !== null) {
          const route = routeOf(proxy)!;
          state.routes.get(route).n++;
          if (address === null && !routeTimelines.has(route) && routeTimelines.size < ROUTE_TIMELINES) {
            const timeline = newTimeline();
            const first = timeline.at(proxy.endMs);
            first.requests++;
            countError(first, proxy.endMs);
            routeTimelines.set(ownString(route), timeline);
          }
        }
        const client = proxy.apiKey ?? proxy.clientIp;
        if (client !== null) {
          const counts = state.clients.get(client);
          counts.n++;
          // Its first request counted here, where it failed; later ones where every request is counted.
          if (counts.requests === 0 && state === everyRequest) counts.requests = 1;
        }
        const what = [kind.connect && 'connect failure', kind.timeout && 'timeout', kind.reset && 'reset'].filter(Boolean).join(', ');
        state.evidence.offer(proxy, kind.connect || kind.reset ? 2 : 1,
          `status ${proxy.status ?? '-'}, upstream ${proxy.upstreamStatus ?? '-'}${what ? ` (${what})` : ''}` +
            (proxy.upstreamConnectTimeMs !== null ? `, connect ${(proxy.upstreamConnectTimeMs / 1000).toFixed(3)} s` : ''));
      },

      finish(context: DetectorContext): UpstreamTroubleFinding[] {
        const findings: UpstreamTroubleFinding[] = [];

        const states: [string | null, UpstreamState][] = [...upstreams];
        if (unattributed !== null) states.push([null, unattributed]);
        for (const [address, state] of states) {
          if (connectTimesLogged) state.connectFailures += state.maybeNeverConnected;
          const buckets = state.timeline.entries();
          const bucketMinutes = state.timeline.widthMs / 60_000;
          // Without an upstream, a burst is a route's: the route that failed longest is the one named.
          let burst = longestBurst(state.timeline);
          let burstRoute: string | null = null;
          for (const [route, timeline] of state.routeTimelines ?? []) {
            const candidate = longestBurst(timeline);
            if (candidate.periods > burst.periods || (candidate.periods === burst.periods && candidate.periods > 0 && candidate.errors / candidate.requests > burst.errors / burst.requests)) {
              burst = candidate;
              burstRoute = route;
            }
          }
          // Frequent errors nearly all in one period (a restart's few seconds of refused connections)
          // are a burst even where that period's error rate stays under the burst rate: 72 errors in
          // 3 s of a real nginx's upstream restart were 7% of their minute and read as high
          // "rare and scattered … not an outage".
          const frequent = state.errors >= SUSTAINED_MIN_ERRORS && state.errors / Math.max(1, state.requests) >= SUSTAINED_RATE;
          const peak = burst.periods === 0 && frequent ? busiestPeriod(state.timeline) : null;
          const atOnce = peak !== null && peak.errors >= CONCENTRATED_SHARE * state.errors ? peak : null;
          if (atOnce !== null) burst = atOnce;
          const longest = burst.periods;
          const longestFrom = burst.fromMs;
          const burstErrors = burst.errors;
          const burstRequests = burst.requests;
          // Connect times are the upstream's own; requests without one say nothing about connecting.
          const connectMeans = address === null ? [] : buckets.filter((b) => b.value.connectCount > 0).map((b) => b.value.connectSumMs / b.value.connectCount);
          const connectBaseline = median(connectMeans);
          const connectSpikes = connectMeans.filter((m) => m >= Math.max(5 * connectBaseline, connectBaseline + 50)).length;
          if (state.errors === 0 && connectSpikes === 0) continue;
          const rate = state.errors / Math.max(1, state.requests);
          const busiest = topEntry(state.clients);
          let bucketsWithErrors = 0;
          let periodRequests = 0;
          let periodErrors = 0;
          for (const bucket of buckets) {
            if (bucket.value.errors === 0) continue;
            bucketsWithErrors++;
            periodRequests += bucket.value.requests;
            periodErrors += bucket.value.errors;
          }
          // Other clients' requests in the periods with errors, at least (the busiest client's may all fall there), and their errors.
          const othersMeanwhile = busiest === null ? 0 : periodRequests - Math.max(busiest.value.requests, busiest.value.n);
          const othersFailedMeanwhile = busiest === null ? 0 : Math.max(0, periodErrors - busiest.value.n);
          const othersServed = othersMeanwhile >= ONE_CLIENT_OTHERS_SERVED && othersFailedMeanwhile < 0.5 * othersMeanwhile;
          const oneClient = address === null && busiest !== null && state.errors >= BURST_MIN_ERRORS && othersServed &&
            busiest.value.n >= ONE_CLIENT_ERROR_SHARE * state.errors && busiest.value.requests <= ONE_CLIENT_TRAFFIC_SHARE * state.requests;
          // Frequent errors in every period of a short log (one or two minutes of it) are continuous
          // too: they read as "rare and scattered" for having too few periods to be spread over.
          const pattern: TroublePattern = oneClient ? 'one-client'
            : longest > 0 ? 'burst'
              : rate >= SUSTAINED_RATE && bucketsWithErrors >= Math.min(3, buckets.length) && state.errors >= SUSTAINED_MIN_ERRORS ? 'sustained'
                // Too few to be sustained, but most of what was sent failed: no "rare and scattered"
                // (a real Istio sidecar's 6 of 6 requests failing on a TLS error read as transient).
                : state.errors > 0 && rate >= BURST_ERROR_RATE ? 'few-mostly-failing'
                  : state.errors > 0 ? 'transient' : 'connect-spikes';
          const burstRate = longest > 0 && burstRequests > 0 ? burstErrors / burstRequests : null;
          // All the errors within a minute: how long the upstream was down, to the second.
          const spanSeconds = atOnce !== null && atOnce.errors === state.errors && state.lastErrorMs - state.firstErrorMs <= 60_000
            ? roundTo((state.lastErrorMs - state.firstErrorMs) / 1000, 1) : null;
          // One rule (docs/severity.md): errors above the background of transient 5xx, or a large part of
          // the upstream's requests while it failed; connect-time spikes are a clue, never above low.
          const ownRoute = burstRoute ?? topKey(state.routes);
          const wall = wallOwning(context.earlier, ownRoute, state.errors);
          const wallErrors = wall === undefined ? null : Math.min(state.errors, wall.gatewayTimeouts + wall.upstreamResets);
          const ownSeverity: Severity = pattern === 'connect-spikes' || pattern === 'one-client' ? 'low' : severityOf({
            affected: state.errors, total, background: HEALTHY_BACKGROUND.serverErrors,
            cohortShare: address === null ? burstRate : burstRate ?? rate,
            // The burst's rate is of the burst's requests: its errors, not the whole log's, are the cohort's.
            cohortAffected: burstRate !== null ? burstErrors : state.errors,
          });
          // The wall finding owns these requests and their severity.
          const severity: Severity = wall === undefined || ownSeverity === 'info' ? ownSeverity : 'low';
          const statuses = [...state.statuses].sort((a, b) => b[1] - a[1]);
          const statusText = statuses.slice(0, 4).map(([s, n]) => `${s || '-'} × ${n}`).join(', ');
          const topRoute = ownRoute;
          const topClient = busiest?.key ?? null;
          const subject = address !== null ? `Upstream ${address}` : 'Server errors with no upstream named';
          const ofWhat = address !== null ? `requests to ${address}` : 'requests';
          const causes = [
            state.connectFailures > 0 && `${state.connectFailures} never reached the backend (connection refused or failed)`,
            state.timeouts > 0 && `${state.timeouts} timed out waiting for it`,
            state.resets > 0 && `${state.resets} were reset by it`,
          ].filter(Boolean).join(', ');
          const when = atOnce !== null
            ? ` Errors came at once: ${burstErrors} of them in the ${bucketMinutes}-minute period from ${new Date(longestFrom!).toISOString()}` +
              (spanSeconds !== null ? `, all within ${formatNumber(spanSeconds)} s (${new Date(state.firstErrorMs).toISOString()} to ${new Date(state.lastErrorMs).toISOString()})` : '') + '.'
            : longestFrom !== null
              ? ` Errors came in a burst${burstRoute !== null ? ` on ${burstRoute}` : ''}: ${longest * bucketMinutes} minute(s) from ${new Date(longestFrom).toISOString()} with ${burstErrors} errors, above ${BURST_ERROR_RATE * 100}% of ${burstRoute !== null ? 'its' : 'the'} requests in each ${bucketMinutes === 1 ? 'minute' : `${bucketMinutes}-minute period`}` +
                // A long log's periods are hours wide: when the errors fell in them says more than the periods do.
                (bucketMinutes > 1 ? `; the first at ${new Date(burst.firstErrorMs).toISOString()}, the last at ${new Date(burst.lastErrorMs).toISOString()}.` : '.')
              : ` Errors are spread over ${bucketsWithErrors} of ${buckets.length} ${bucketMinutes}-minute periods.`;
          const verdict = wall !== undefined
            ? `${wallErrors === state.errors ? 'All of them are' : `${formatNumber(wallErrors!)} of them are`} the requests of the timeout wall at ${formatNumber(wall.wallSeconds)} s on ${wall.route} (see it): a limit fired at a fixed age${wall.backendSecondsAfterWall !== null && wall.backendSecondsAfterWall > 0 ? ' while the backend was still working' : ''}, not errors of their own.`
            : pattern === 'burst' ? (spanSeconds !== null && state.connectFailures >= 0.8 * state.errors
              ? `${address === null ? 'The backend' : 'That upstream'} refused connections for ${formatNumber(spanSeconds)} s: a short outage, as a restart or a deploy without draining makes.`
              : `This is an outage of ${address === null ? 'the backend' : 'that upstream'} (or the path to it), not background noise.`)
              : pattern === 'sustained' ? 'Errors this frequent and continuous point at a misconfiguration (unhealthy or missing targets, security groups, TLS) rather than transient network trouble.'
                : pattern === 'transient' ? 'Rare and scattered: most likely transient network trouble; worth watching, not an outage.'
                  : pattern === 'few-mostly-failing' ? `Few, but ${formatShare(roundTo(rate, 4))} of the ${ofWhat} failed: too few requests to tell a passing fault from an outage of ${address === null ? 'the backend' : 'that upstream'}.`
                  : pattern === 'one-client' ? `Nearly all fell on ${topClient}, which sent a small part of the traffic: ${REJECTION_STATUSES.has(statuses[0]?.[0] ?? 0)
                    ? 'that client was turned away (a rate limit; nginx\'s limit_req answers 503 by default) or made requests only it makes'
                    : 'that client made requests only it makes (or was turned away)'}, while the backend served the others.`
                  : 'No errors, but connect time jumped well above its usual value in some periods: the backend or the network in front of it was slow to accept connections.';
          const who = topRoute !== null || topClient !== null
            ? ` Most were for ${topRoute ?? 'various routes'}${topClient !== null ? `, from ${topClient}` : ''}.`
            : '';
          const rows: UpstreamTroubleRow[] = buckets
            .filter((b) => b.value.errors > 0)
            .sort((a, b) => b.value.errors - a.value.errors)
            .slice(0, 10)
            .map((b) => [new Date(b.startMs).toISOString(), b.value.requests, b.value.errors, roundTo(b.value.errors / b.value.requests, 3)]);
          findings.push({
            kind: 'upstream-trouble',
            severity,
            title: pattern === 'connect-spikes'
              ? `${subject}: connect-time spikes`
              : `${subject}: ${formatNumber(state.errors)} ${state.errors === 1 ? 'error' : 'errors'} (${formatShare(roundTo(rate, 4))} of ${address !== null ? 'its ' : 'all '}requests), ${pattern === 'few-mostly-failing' ? 'few requests, mostly failing' : pattern}` +
                (address === null && topRoute !== null ? `, mostly ${topRoute}` : ''),
            explanation:
              `${state.errors} of ${state.requests} ${ofWhat} failed${statusText ? ` (${statusText})` : ''}` +
              (causes ? `: ${causes}.` : '.') + who + (state.errors > 0 ? when : '') +
              (connectSpikes > 0 ? ` Connect time spiked in ${connectSpikes} period(s) (baseline ${connectBaseline.toFixed(1)} ms).` : '') +
              ` ${verdict}`,
            nextStep: wall !== undefined
              ? seeWall(wall)
              : pattern === 'transient'
              ? 'Nothing urgent; if clients see these errors, a single retry with backoff absorbs them.'
              : pattern === 'few-mostly-failing'
              ? `Check ${address === null ? `the backend behind ${topRoute ?? 'the failing routes'}` : 'that upstream and the path to it (health checks, TLS, certificates)'} at the time of these errors: the requests that came mostly failed.`
              : pattern === 'one-client'
                ? 'Check the proxy\'s rate and connection limits for that client (log $upstream_status or $upstream_addr and alf tells a limit\'s answers from the backend\'s), and what it requested.'
              : address === null
                ? `Check the backend behind ${topRoute ?? 'the failing routes'} around the errors (restarts, deploys, saturation).`
                : 'Check the upstream\'s health around the burst (restarts, deploys, saturation), the load balancer\'s target health, and firewall/security-group changes.',
            figures: {
              upstream: address,
              pattern,
              requests: state.requests,
              errors: state.errors,
              errorRate: roundTo(rate, 4),
              shareOfAllRequests: roundTo(state.errors / Math.max(1, total), 4),
              topRoute,
              topClient,
              connectFailures: state.connectFailures,
              timeouts: state.timeouts,
              resets: state.resets,
              burstMinutes: longest * bucketMinutes,
              burstStart: longestFrom === null ? null : new Date(longestFrom).toISOString(),
              burstErrors,
              burstErrorRate: burstRate === null ? null : roundTo(burstRate, 3),
              periodsWithErrors: bucketsWithErrors,
              periods: buckets.length,
              periodMinutes: bucketMinutes,
              connectSpikePeriods: connectSpikes,
              connectBaselineMs: roundTo(connectBaseline, 2),
              wallErrors,
              wallSeconds: wall?.wallSeconds ?? null,
            },
            table: { columns: ['periodStart', 'requests', 'errors', 'errorRate'], rows },
            evidence: state.evidence.list(),
          });
        }
        return findings;
      },
    };
  },
};
