import type { Count, FindingBase, Ratio, Seconds, Share, Text } from '../model/finding.js';
import { formatNumber, formatRounded, formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { upstreamMissing } from '../model/records.js';
import { routeOf } from '../model/route.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import { findingsOfKind, type Detector, type DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { nearestKnownLimit, timeoutSettingOf } from './timeout-walls/known-limits.js';
import { traitsOf } from '../../parsers/registry.js';
import { backendOutlived } from './client-timeout-knee.js';

/**
 * Timeout walls: many requests ending at one client-facing time, because some limit fired there
 * (API Gateway's 29 s, nginx's 60 s, a client's 5 s...). Latency from real work is smooth; a
 * limit makes a spike in its density. Method: client times on 10 ms bins (fixed memory); at the
 * end, each 100 ms window is compared with the density around it (±max(1 s, 15%), leaving out
 * ±150 ms), and a window far denser than its surroundings, and significantly so for its count, is
 * a wall. The strongest walls are taken one at a time, masking ±0.5 s around each.
 *
 * What the proxy logged at the wall says who gave up, and so what to look at:
 *   gateway-timeout  504/408, an upstream 504, Envoy UT, HAProxy sH/sD: the proxy or gateway
 *                    stopped waiting (nginx `proxy_read_timeout`, the ALB idle timeout, the API
 *                    Gateway integration timeout: the setting is named by the log's format);
 *   upstream-reset   502 or a reset flag: the backend closed the connection at that age (an
 *                    application server's own timeout);
 *   client-closed    499, ALB 460, HAProxy C*: a client timeout. The knee detector names those
 *                    clients; a wall at a knee's T is referred to it, not reported again;
 *   slow-answers     the backend answered, all at about the same time;
 *   mixed            none of these makes half of the wall.
 */

const BIN_MS = 10;
const MAX_MS = 300_000;
const WINDOW_BINS = 10; // 100 ms
const COARSE_MS = 100;
/** Answered requests shorter than this are no wall's: their routes are not counted per bin. */
const SLOW_ANSWER_MS = 500;
const MIN_WALL_MS = 500;
const MIN_REQUESTS = 10;
const MIN_RATIO = 8;
const MAX_WALLS = 5;

const ROUTE_CAP = 20_000;
/** Joined requests at a wall needed before APM may say the backend outlived it, and the share that must have. */
const MIN_JOINED_AT_WALL = 5;
const BACKEND_RAN_ON_SHARE = 0.8;
/** Routes counted per 100 ms bin among the requests that failed there (a wall names its route). */
const ROUTES_PER_BIN = 64;

interface CoarseBin {
  total: number;
  noUpstream: number;
  gatewayTimeouts: number;
  upstreamResets: number;
  clientClosed: number;
  serverErrors: number;
  /** Backend (APM) ms worked past the client-facing time, over the bin's requests. */
  backendMsAfter: number;
  /** Requests joined to a transaction, and of them those whose backend worked well past the client-facing time. */
  joined: number;
  outlived: number;
  /** Log formats of the bin's requests, for the setting to name. */
  formats: Map<string, number>;
  /** Routes of the bin's answered requests of half a second or more: a wall of slow answers names its route too. */
  answeredRoutes: Map<string, number>;
  /** Routes of the bin's failed requests. */
  routes: Map<string, number>;
  /** When the bin's first and last requests started. */
  firstStartMs: number;
  lastStartMs: number;
}

function emptyBin(): CoarseBin {
  return {
    total: 0, noUpstream: 0, gatewayTimeouts: 0, upstreamResets: 0, clientClosed: 0, serverErrors: 0, backendMsAfter: 0, joined: 0, outlived: 0,
    formats: new Map(), routes: new Map(), answeredRoutes: new Map(), firstStartMs: Infinity, lastStartMs: -Infinity,
  };
}

/**
 * Answered requests that end together within less than this are one burst sent at once (a page's
 * assets over one connection, from one edge), not a limit met again and again: OpenSearch's
 * sample CloudFront log of one page load (26 of its 40 requests took 0.58-0.60 s, within 19 s)
 * read as "a latency wall at 0.59 s".
 */
const SLOW_ANSWERS_MIN_SPAN_MS = 60_000;

export type WallCause = 'gateway-timeout' | 'upstream-reset' | 'client-closed' | 'slow-answers' | 'mixed';

/** A timeout of the proxy, gateway or backend: many requests ending at one client-facing time. */
export interface LimitWallFigures {
  wallSeconds: Seconds;
  /** Who gave up, by what the proxy logged at the wall. */
  cause: WallCause;
  requestsAtWall: Count;
  /** Requests at the wall among all requests with a client-facing time. */
  shareOfRequests: Share;
  /** Requests at the wall against the density of latencies around it. */
  densityRatio: Ratio;
  /** Requests at the wall that failed (the largest of the counts below) among all at the wall. */
  failedShareAtWall: Share;
  gatewayTimeouts: Count;
  upstreamResets: Count;
  clientClosed: Count;
  noUpstreamAnswer: Count;
  /** The setting that makes this wall, named for the log's format. */
  setting: Text | null;
  /** The product default the value matches, if any. */
  likelyLimit: Text | null;
  likelyLimitSeconds: Seconds | null;
  /** The route most of the wall's failed requests were for, and the share of that route's requests that ended at the wall. */
  route: Text | null;
  routeShareAtWall: Share | null;
  /** Backend seconds worked after the proxy had answered, over the requests at the wall (APM). */
  backendSecondsAfterWall: Seconds | null;
}

/** A wall that is a client-timeout knee: reported there, with its clients. */
export interface KneeWallFigures {
  sameAsKneeSeconds: Seconds;
  requestsAtWall: Count;
  densityRatio: Ratio;
}

export type WallFinding = FindingBase<'timeout-walls', LimitWallFigures | KneeWallFigures>;

function isGatewayTimeout(proxy: ProxyRecord): boolean {
  const status = proxy.status;
  if (status === 504 || status === 408 || proxy.upstreamStatus === 504) return true;
  const flags = proxy.flags;
  if (flags === null) return false;
  if (traitsOf(proxy.format)?.flags === 'haproxy-termination') return flags.startsWith('sH') || flags.startsWith('sD');
  return flags.split(',').includes('UT');
}

function isUpstreamReset(proxy: ProxyRecord): boolean {
  if (proxy.status === 502 || proxy.upstreamStatus === 502) return true;
  const flags = proxy.flags;
  if (flags === null) return false;
  if (traitsOf(proxy.format)?.flags === 'haproxy-termination') return flags.startsWith('SH') || flags.startsWith('SD');
  return flags.split(',').some((flag) => flag === 'UC' || flag === 'UR' || flag === 'UPE');
}

/**
 * Failed requests this much a timeout wall's (its gateway timeouts or resets, on the same route) are
 * that wall's: a limit fired at a fixed age, told with its setting by the wall finding. Counted again
 * by another detector they read as a second incident: a real nginx's 3 s proxy_read_timeout in front
 * of 5 s exports gave, beside the wall, a high "54 errors … transient: worth watching, not an
 * outage", and HAProxy's log of it a high "54 proxy-error responses" that led the verdict.
 */
const WALL_OWNED_SHARE = 0.8;

/** The gateway-timeout or reset wall found earlier on `route` that holds most of `failed` requests, if any: they are its. */
export function wallOwning(earlier: DetectorContext['earlier'], route: string | null, failed: number): LimitWallFigures | undefined {
  if (route === null || failed === 0) return undefined;
  for (const wall of findingsOfKind(earlier, 'timeout-walls')) {
    const f = wall.figures;
    if ('cause' in f && (f.cause === 'gateway-timeout' || f.cause === 'upstream-reset') && f.route === route && f.gatewayTimeouts + f.upstreamResets >= WALL_OWNED_SHARE * failed) return f;
  }
  return undefined;
}

/** What another finding about a wall's requests says to do: see the wall. */
export function seeWall(wall: LimitWallFigures): string {
  return `See the timeout wall at ${formatNumber(wall.wallSeconds)} s: ${wall.setting ?? 'the limit there'} against what ${wall.route ?? 'the route'} needs.`;
}

function increment(map: Map<string, number>, key: string, cap: number): void {
  const count = map.get(key);
  if (count !== undefined) map.set(key, count + 1);
  else if (map.size < cap) map.set(key, 1);
}

function topOf(maps: readonly Map<string, number>[]): [string, number] | null {
  const merged = new Map<string, number>();
  for (const map of maps) for (const [key, n] of map) merged.set(key, (merged.get(key) ?? 0) + n);
  let best: [string, number] | null = null;
  for (const entry of merged) if (best === null || entry[1] > best[1]) best = entry;
  return best;
}

const CAUSE_TEXT: Record<WallCause, string> = {
  'gateway-timeout': 'the proxy or gateway stopped waiting for the backend',
  'upstream-reset': 'the backend closed the connection (502 or a reset)',
  'client-closed': 'the client closed the connection',
  'slow-answers': 'the backend answered, all at about the same time',
  mixed: 'no single outcome makes half of them',
};

export interface Wall {
  ms: number;
  requests: number;
  expected: number;
  ratio: number;
}

/** Finds sharp spikes in a histogram of BIN_MS bins; exported for tests. */
export function findWalls(histogram: Uint32Array): Wall[] {
  const prefix = new Float64Array(histogram.length + 1);
  for (let i = 0; i < histogram.length; i++) prefix[i + 1] = prefix[i]! + histogram[i]!;
  const sum = (from: number, to: number): number => {
    const a = Math.max(0, Math.min(histogram.length, from));
    const b = Math.max(0, Math.min(histogram.length, to));
    return b > a ? prefix[b]! - prefix[a]! : 0;
  };
  const masked = new Uint8Array(histogram.length);
  const candidates: Wall[] = [];
  for (let start = MIN_WALL_MS / BIN_MS; start + WINDOW_BINS <= histogram.length; start++) {
    const count = sum(start, start + WINDOW_BINS);
    if (count < MIN_REQUESTS) continue;
    const centerMs = (start + WINDOW_BINS / 2) * BIN_MS;
    const reach = Math.floor(Math.max(1000, 0.15 * centerMs) / BIN_MS);
    const gap = 15; // ±150 ms left out around the window, where a jittery wall spills over
    const lo = Math.max(0, start - reach);
    const hi = Math.min(histogram.length, start + WINDOW_BINS + reach);
    const around = sum(lo, start - gap) + sum(start + WINDOW_BINS + gap, hi);
    const aroundBins = Math.max(1, (start - gap - lo) + (hi - start - WINDOW_BINS - gap));
    // Expected count in a 100 ms window from the surroundings, floored so empty surroundings do not make every pile a wall.
    const expected = Math.max(0.5, (around / aroundBins) * WINDOW_BINS);
    const ratio = count / expected;
    if (ratio < MIN_RATIO || count < expected + 6 * Math.sqrt(expected)) continue;
    candidates.push({ ms: centerMs, requests: count, expected, ratio });
  }
  candidates.sort((a, b) => b.requests - a.requests || b.ratio - a.ratio);
  const walls: Wall[] = [];
  for (const candidate of candidates) {
    const bin = Math.floor(candidate.ms / BIN_MS);
    if (masked[bin]) continue;
    // Median of the wall's own window, for a precise value.
    const start = bin - WINDOW_BINS / 2;
    let seen = 0;
    let medianMs = candidate.ms;
    for (let i = start; i < start + WINDOW_BINS; i++) {
      const count = histogram[i] ?? 0;
      if (seen + count >= candidate.requests / 2) {
        medianMs = (i + (candidate.requests / 2 - seen) / Math.max(1, count)) * BIN_MS;
        break;
      }
      seen += count;
    }
    walls.push({ ...candidate, ms: Math.round(medianMs) });
    for (let i = Math.max(0, bin - 50); i < Math.min(masked.length, bin + 50); i++) masked[i] = 1;
    if (walls.length >= MAX_WALLS) break;
  }
  return walls;
}

export const timeoutWalls: Detector<WallFinding> = {
  id: 'timeout-walls',
  title: 'Timeout walls',
  kinds: ['timeout-walls'],
  chart: 'latency-distribution',
  headline: { 'timeout-walls': 'requestsAtWall' },
  verdict(walls, cite) {
    const limits = walls.filter((wall): wall is WallFinding & { figures: LimitWallFigures } => 'wallSeconds' in wall.figures);
    if (limits.length === 0) return null;
    const wall = limits[0]!;
    const figures = wall.figures;
    const who = figures.cause === 'gateway-timeout' ? 'The proxy gives up on the backend' : figures.cause === 'upstream-reset' ? 'The backend drops connections' : 'Requests pile up';
    return `${who} at ${cite(wall, 'wallSeconds')}${figures.route !== null ? ` on ${figures.route}` : ''}: ` +
      `${cite(wall, 'requestsAtWall')} requests (${cite(wall, 'shareOfRequests')} of all) end there` +
      (figures.setting !== null && figures.cause === 'gateway-timeout' ? `; look at ${figures.setting}` : '') +
      (limits.length > 1 ? ` (and ${limits.length - 1} more wall${limits.length > 2 ? 's' : ''}).` : '.');
  },
  start() {
    const histogram = new Uint32Array(MAX_MS / BIN_MS);
    const coarse: CoarseBin[] = [];
    const evidence = new Map<number, EvidenceSample>();
    const routeTotals = new BoundedCounter<{ n: number }>(ROUTE_CAP, () => ({ n: 0 }));
    let total = 0;
    let withApm = false;

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null || proxy.requestTimeMs === null) return;
        total++;
        const ms = proxy.requestTimeMs;
        if (ms >= MAX_MS) return;
        histogram[Math.floor(ms / BIN_MS)]!++;
        if (ms < MIN_WALL_MS) return;
        // Routes are counted only for requests that could be at a wall (0.5 s or more): the share of
        // a route's slow requests that ended at the wall.
        const route = proxy.path === null ? null : routeOf(proxy);
        if (route !== null) routeTotals.get(route).n++;
        const index = Math.floor(ms / COARSE_MS);
        let bin = coarse[index];
        if (!bin) coarse[index] = bin = emptyBin();
        bin.total++;
        if (proxy.startMs < bin.firstStartMs) bin.firstStartMs = proxy.startMs;
        if (proxy.startMs > bin.lastStartMs) bin.lastStartMs = proxy.startMs;
        const noUpstream = upstreamMissing(proxy);
        const gatewayTimeout = isGatewayTimeout(proxy);
        const reset = !gatewayTimeout && isUpstreamReset(proxy);
        if (noUpstream) bin.noUpstream++;
        if (gatewayTimeout) bin.gatewayTimeouts++;
        if (reset) bin.upstreamResets++;
        if (proxy.clientClosed) bin.clientClosed++;
        if (proxy.status !== null && proxy.status >= 500) bin.serverErrors++;
        if (request.apm !== null) {
          withApm = true;
          bin.backendMsAfter += Math.max(0, request.apm.durationMs - ms);
          bin.joined++;
          if (backendOutlived(ms, request.apm.durationMs)) bin.outlived++;
        }
        increment(bin.formats, proxy.format, 8);
        if (route !== null && (noUpstream || gatewayTimeout || reset || proxy.clientClosed)) increment(bin.routes, route, ROUTES_PER_BIN);
        else if (route !== null && ms >= SLOW_ANSWER_MS) increment(bin.answeredRoutes, route, ROUTES_PER_BIN);
        let sample = evidence.get(index);
        if (!sample) evidence.set(index, (sample = new EvidenceSample(3)));
        const backend = request.apm ? `, backend (APM) ${(request.apm.durationMs / 1000).toFixed(3)} s` : '';
        // Prefer lines where the backend never answered: they show the limit, not slow work.
        sample.offer(proxy, noUpstream || gatewayTimeout ? 1 : 0,
          `client ${(ms / 1000).toFixed(3)} s, status ${proxy.status ?? '-'}, upstream status ${proxy.upstreamStatus ?? '-'}${backend}`);
      },

      finish(context: DetectorContext): WallFinding[] {
        const kneeSeconds = findingsOfKind(context.earlier, 'client-timeout-knee').map((knee) => knee.figures.timeoutSeconds);
        const findings: WallFinding[] = [];
        for (const wall of findWalls(histogram)) {
          const seconds = wall.ms / 1000;
          const around = [-1, 0, 1].map((d) => coarse[Math.floor(wall.ms / COARSE_MS) + d]).filter((bin): bin is CoarseBin => bin !== undefined);
          const sumOf = (field: 'total' | 'noUpstream' | 'gatewayTimeouts' | 'upstreamResets' | 'clientClosed' | 'serverErrors' | 'backendMsAfter' | 'joined' | 'outlived'): number =>
            around.reduce((s, bin) => s + bin[field], 0);
          const atWall = Math.max(1, sumOf('total'));
          const noUpstream = sumOf('noUpstream');
          const gatewayTimeouts = sumOf('gatewayTimeouts');
          const upstreamResets = sumOf('upstreamResets');
          const clientClosed = sumOf('clientClosed');
          const failed = Math.max(noUpstream, gatewayTimeouts, upstreamResets, clientClosed, sumOf('serverErrors'));
          const failedShare = Math.min(1, failed / atWall);
          // 502s (or resets) at a wall whose backend, per APM, worked on well past it: whatever
          // closed the connection, the backend did not. Apache httpd answers its own ProxyTimeout with
          // 502: a real httpd's 3 s ProxyTimeout in front of 5 s exports read as "the backend closed
          // the connection … gunicorn --timeout", with all 58 joined transactions running 5 s.
          const joinedAtWall = sumOf('joined');
          const outlivedAtWall = sumOf('outlived');
          const backendRanOn = joinedAtWall >= MIN_JOINED_AT_WALL && outlivedAtWall >= BACKEND_RAN_ON_SHARE * joinedAtWall;
          const cause: WallCause =
            gatewayTimeouts >= 0.5 * atWall ? 'gateway-timeout'
              : upstreamResets >= 0.5 * atWall ? (backendRanOn ? 'gateway-timeout' : 'upstream-reset')
                : clientClosed >= 0.5 * atWall || (noUpstream >= 0.5 * atWall && gatewayTimeouts + upstreamResets < 0.1 * atWall) ? 'client-closed'
                  : failedShare < 0.5 ? 'slow-answers' : 'mixed';
          if (cause === 'slow-answers') {
            const span = Math.max(...around.map((bin) => bin.lastStartMs)) - Math.min(...around.map((bin) => bin.firstStartMs));
            if (span < SLOW_ANSWERS_MIN_SPAN_MS) continue;
          }
          const wallEvidence = [-1, 0, 1].flatMap((d) => evidence.get(Math.floor(wall.ms / COARSE_MS) + d)?.list() ?? []).slice(0, 5);
          const knee = kneeSeconds.find((t) => Math.abs(t - seconds) <= 0.15);
          if (knee !== undefined && cause !== 'gateway-timeout' && cause !== 'upstream-reset') {
            findings.push({
              kind: 'timeout-walls',
              severity: 'info',
              title: `The latency wall at ${formatRounded(seconds, 3)} s is the client-timeout knee`,
              explanation: `${formatNumber(wall.requests)} requests end within 0.1 s of ${formatRounded(seconds, 3)} s. This is the client timeout the knee finding already explains (T = ${formatNumber(knee)} s); see it for who and why.`,
              figures: { sameAsKneeSeconds: knee, requestsAtWall: wall.requests, densityRatio: Math.round(wall.ratio * 10) / 10 },
              evidence: wallEvidence,
            });
            continue;
          }
          const share = total > 0 ? wall.requests / total : 0;
          const format = topOf(around.map((bin) => bin.formats))?.[0] ?? null;
          const proxySide = cause === 'gateway-timeout';
          const limit = nearestKnownLimit(seconds, proxySide ? 'proxy' : cause === 'client-closed' ? 'client' : undefined);
          const setting = proxySide ? timeoutSettingOf(format) : null;
          // A wall of slow answers (a long poll held 25 s by design, a 2 s batch step) is named by the route that answers there.
          const topRoute = cause === 'slow-answers' ? topOf(around.map((bin) => bin.answeredRoutes)) : topOf(around.map((bin) => bin.routes));
          const routeTotal = topRoute === null ? 0 : routeTotals.peek(topRoute[0])?.n ?? 0;
          const routeShare = topRoute === null || routeTotal === 0 ? null : Math.min(1, topRoute[1] / routeTotal);
          const backendSecondsAfter = withApm ? sumOf('backendMsAfter') / 1000 : null;
          // A wall is a failure only by what failed at it; slow answers that pile up are a clue, not an outage.
          const affected = cause === 'slow-answers' ? 0 : failed;
          const severity = cause === 'client-closed'
            ? 'low'
            : severityOf({ affected, total, background: HEALTHY_BACKGROUND.none, cohortShare: routeShare, lostSeconds: backendSecondsAfter });
          const statusText = [
            gatewayTimeouts > 0 && `${gatewayTimeouts} were gateway timeouts (504/408 or upstream timeout)`,
            upstreamResets > 0 && `${upstreamResets} were 502s or resets`,
            clientClosed > 0 && `${clientClosed} were closed by the client`,
            noUpstream > 0 && `${noUpstream} had no upstream answer`,
          ].filter(Boolean).join(', ') || 'all were answered';
          const valueText = proxySide
            ? limit !== null
              ? `The value matches ${limit.name}.`
              : setting!.defaultSeconds !== null && Math.abs(setting!.defaultSeconds - seconds) <= Math.max(0.1, 0.02 * seconds)
                ? `The value is the default of ${setting!.setting} (${setting!.defaultSeconds} s).`
                : `The value matches no default: ${setting!.setting} is likely set to about ${formatSeconds(seconds)}.`
            : limit !== null ? `The value matches ${limit.name}.`
              : cause === 'slow-answers' ? 'The value matches no common default: look for a fixed wait or timeout of this length.'
                : 'The value matches no common default: look for a configured timeout of this length.';
          // The status this software gives its own wait running out with, when it is not 504 (Apache's 502).
          const ownTimeoutStatus = format === null ? undefined : traitsOf(format)?.upstreamTimeout?.status;
          const ranOnText = upstreamResets >= 0.5 * atWall && backendRanOn
            ? ` The backend (per APM) worked on well past the wall for ${outlivedAtWall} of the ${joinedAtWall} requests joined at it: not the backend but the proxy stopped waiting` +
              (ownTimeoutStatus === 502 ? ' (this proxy answers its own timeout with 502).' : '.')
            : '';
          const whoText: Record<WallCause, string> = {
            'gateway-timeout': `The proxy or gateway gave up waiting${backendSecondsAfter !== null && backendSecondsAfter > 0 ? `, while the backend worked ${formatSeconds(backendSecondsAfter)} more on requests nobody would receive` : '; the backend may have kept working on requests nobody would receive'}.${ranOnText}`,
            'upstream-reset': 'The backend closed these connections at the same age: a timeout in the application server itself (gunicorn `--timeout`, uWSGI `harakiri`, PHP-FPM `request_terminate_timeout`, Node\'s `server.requestTimeout`).' +
              (ownTimeoutStatus === 502
                ? ` Or the proxy's own timeout: this software answers ${timeoutSettingOf(format).setting} running out with 502 too, and its log cannot tell the two apart; an APM export (--apm) can, by whether the backend worked on past the wall.`
                : ''),
            'client-closed': 'Clients gave up waiting, but no client timeout stands out with a cohort of its own (see the knee findings).',
            'slow-answers': 'The backend answered these requests, all after about the same time: a wait the application holds on purpose (a long poll, a fixed batch step), or a sleep, a retry backoff or a downstream timeout inside it.',
            mixed: 'Several layers fail at this value; read the evidence lines.',
          };
          findings.push({
            kind: 'timeout-walls',
            severity,
            title: `${cause === 'gateway-timeout' ? 'Gateway timeout wall' : cause === 'upstream-reset' ? 'Backend reset wall' : 'Latency wall'} at ${formatRounded(seconds, 3)} s` +
              (topRoute !== null ? ` on ${topRoute[0]}` : '') +
              (proxySide ? `: ${limit !== null ? `likely ${limit.name}` : setting!.setting}` : limit !== null ? `: likely ${limit.name}` : ''),
            explanation:
              `${formatNumber(wall.requests)} requests (${formatShare(roundTo(share, 4))} of all) end within 0.1 s of ${formatRounded(seconds, 3)} s, ` +
              `${Math.round(wall.ratio)}× the density of latencies around it: real work does not pile up at one value, a limit does. ` +
              `Of the requests at the wall, ${statusText}: ${CAUSE_TEXT[cause]}. ` +
              (topRoute !== null ? `Most are for ${topRoute[0]}${routeShare !== null ? ` (${formatShare(roundTo(routeShare, 3))} of its requests that ran 0.5 s or more end here)` : ''}. ` : '') +
              `${valueText} ${whoText[cause]}`,
            nextStep: proxySide
              ? `Check ${setting!.setting} for ${topRoute !== null ? topRoute[0] : 'the slow route'}: raise it to what the route needs, or make the route faster or asynchronous; align the timeouts from the client inwards.`
              : cause === 'upstream-reset'
                ? 'Find the application server\'s request timeout (worker timeout, harakiri, request_terminate_timeout) and raise it or make the route faster.' +
                  (ownTimeoutStatus === 502 ? ` If the backend's own logs show it finishing these requests, it is ${timeoutSettingOf(format).setting}: raise that instead.` : '')
                : cause === 'client-closed'
                  ? 'Find the client with this timeout (see the knee and proxy-made-responses findings) and raise it or make the call asynchronous.'
                  : 'Look for a fixed delay or timeout inside the application at this value.',
            figures: {
              wallSeconds: roundTo(seconds, 3),
              cause,
              requestsAtWall: wall.requests,
              shareOfRequests: roundTo(share, 4),
              densityRatio: Math.round(wall.ratio * 10) / 10,
              failedShareAtWall: roundTo(failedShare, 3),
              gatewayTimeouts,
              upstreamResets,
              clientClosed,
              noUpstreamAnswer: noUpstream,
              setting: setting?.setting ?? null,
              likelyLimit: limit?.name ?? null,
              likelyLimitSeconds: limit?.seconds ?? null,
              route: topRoute?.[0] ?? null,
              routeShareAtWall: routeShare === null ? null : roundTo(routeShare, 3),
              backendSecondsAfterWall: backendSecondsAfter === null ? null : roundTo(backendSecondsAfter, 1),
            },
            evidence: wallEvidence,
          });
        }
        return findings;
      },
    };
  },
};

function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))} s`;
}
