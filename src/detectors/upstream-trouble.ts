import type { Finding, FigureValue, Severity } from '../model/finding.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { BoundedCounter } from './bounded-counter.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from './evidence-sample.js';
import { TimeBuckets } from './time-buckets.js';

/**
 * Upstream trouble: 502/503/504, connect failures, timeouts and resets, per upstream address and
 * over time. The question the AWS and Tyk write-ups ask is rate, not count: errors that are rare
 * and scattered are transient network trouble; errors that are frequent, or that fill a stretch
 * of minutes, are an outage or a misconfiguration. Connect-time spikes and resets from the
 * target point at the backend (or the network in front of it) rather than the application.
 *
 * Signals, per request:
 *   error    client status 502/503/504, or an upstream 502/503/504;
 *   connect  the backend was never reached: Envoy UF/UH/URX, HAProxy SC, or nginx 502 with no
 *            connect time logged;
 *   timeout  504, Envoy UT, HAProxy sH/sD (server-side timeout);
 *   reset    Envoy UC/UR/UPE, HAProxy other S* states (server aborted the connection).
 */

const UPSTREAM_CAP = 2_000;
const BUCKET_MS = 60_000;
const BUCKET_CAP = 720;
const BURST_ERROR_RATE = 0.2;
const BURST_MIN_ERRORS = 5;
const SUSTAINED_RATE = 0.01;

interface Bucket {
  requests: number;
  errors: number;
  connectSumMs: number;
  connectCount: number;
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
  const flags = proxy.flags;
  const haproxy = flags !== null && proxy.format.startsWith('haproxy') ? flags.slice(0, 2) : '';
  const error = ERROR_STATUSES.has(proxy.status ?? 0) || ERROR_STATUSES.has(proxy.upstreamStatus ?? 0);
  const connect = hasFlag(flags, ['UF', 'UH', 'URX']) || haproxy === 'SC';
  const timeout = proxy.status === 504 || hasFlag(flags, ['UT']) || haproxy === 'sH' || haproxy === 'sD';
  const reset = hasFlag(flags, ['UC', 'UR', 'UPE']) || (haproxy.startsWith('S') && haproxy !== 'SC');
  return { error: error || connect || reset, connect, timeout, reset };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const upstreamTrouble: Detector = {
  id: 'upstream-trouble',
  title: 'Upstream trouble',
  start() {
    const upstreams = new BoundedCounter<UpstreamState>(UPSTREAM_CAP, () => ({
      requests: 0, errors: 0, connectFailures: 0, maybeNeverConnected: 0, timeouts: 0, resets: 0, statuses: new Map(),
      timeline: new TimeBuckets<Bucket>(BUCKET_MS, BUCKET_CAP, () => ({ requests: 0, errors: 0, connectSumMs: 0, connectCount: 0 }), (a, b) => {
        a.requests += b.requests; a.errors += b.errors; a.connectSumMs += b.connectSumMs; a.connectCount += b.connectCount;
      }),
      evidence: new EvidenceSample(5),
    }));
    let total = 0;
    let connectTimesLogged = false;

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        total++;
        // Requests that never went to an upstream (static, rejected) say nothing about upstreams.
        const address = proxy.upstreamAddr ?? (proxy.upstreamAttempts > 0 ? '(unknown upstream)' : null);
        if (address === null && !ERROR_STATUSES.has(proxy.status ?? 0)) return;
        const state = upstreams.get(address ?? '(no upstream)');
        const kind = classifyUpstreamError(proxy);
        state.requests++;
        const bucket = state.timeline.at(proxy.endMs);
        bucket.requests++;
        if (proxy.upstreamConnectTimeMs !== null) {
          connectTimesLogged = true;
          bucket.connectSumMs += proxy.upstreamConnectTimeMs;
          bucket.connectCount++;
        }
        if (!kind.error) return;
        state.errors++;
        bucket.errors++;
        if (kind.connect) state.connectFailures++;
        else if (maybeNeverConnected(proxy)) state.maybeNeverConnected++;
        if (kind.timeout) state.timeouts++;
        if (kind.reset) state.resets++;
        const status = proxy.status ?? 0;
        state.statuses.set(status, (state.statuses.get(status) ?? 0) + 1);
        const what = [kind.connect && 'connect failure', kind.timeout && 'timeout', kind.reset && 'reset'].filter(Boolean).join(', ');
        state.evidence.offer(proxy, kind.connect || kind.reset ? 2 : 1,
          `status ${proxy.status ?? '-'}, upstream ${proxy.upstreamStatus ?? '-'}${what ? ` (${what})` : ''}` +
            (proxy.upstreamConnectTimeMs !== null ? `, connect ${(proxy.upstreamConnectTimeMs / 1000).toFixed(3)} s` : ''));
      },

      finish(_context: DetectorContext): Finding[] {
        const findings: Finding[] = [];
        for (const [address, state] of upstreams) {
          if (connectTimesLogged) state.connectFailures += state.maybeNeverConnected;
          const buckets = state.timeline.entries();
          const bucketMinutes = state.timeline.widthMs / 60_000;
          // Longest run of consecutive buckets that are mostly errors: an outage, not a blip.
          let run = 0;
          let longest = 0;
          let burstFrom: number | null = null;
          let longestFrom: number | null = null;
          let burstErrors = 0;
          let runErrors = 0;
          let previousStart = -Infinity;
          for (const { startMs, value } of buckets) {
            const bursting = value.errors >= BURST_MIN_ERRORS && value.errors / value.requests >= BURST_ERROR_RATE;
            const adjacent = startMs - previousStart <= state.timeline.widthMs;
            previousStart = startMs;
            if (bursting) {
              if (run === 0 || !adjacent) { run = 0; runErrors = 0; burstFrom = startMs; }
              run++;
              runErrors += value.errors;
              if (run > longest) { longest = run; longestFrom = burstFrom; burstErrors = runErrors; }
            } else {
              run = 0;
            }
          }
          const connectMeans = buckets.filter((b) => b.value.connectCount > 0).map((b) => b.value.connectSumMs / b.value.connectCount);
          const connectBaseline = median(connectMeans);
          const connectSpikes = connectMeans.filter((m) => m >= Math.max(5 * connectBaseline, connectBaseline + 50)).length;
          if (state.errors === 0 && connectSpikes === 0) continue;
          const rate = state.errors / Math.max(1, state.requests);
          const bucketsWithErrors = buckets.filter((b) => b.value.errors > 0).length;
          const pattern = longest > 0 ? 'burst' : rate >= SUSTAINED_RATE ? 'sustained' : state.errors > 0 ? 'transient' : 'connect-spikes';
          const severity: Severity =
            pattern === 'burst' ? (burstErrors >= 50 ? 'high' : 'medium')
              : pattern === 'sustained' ? 'medium'
                : pattern === 'connect-spikes' ? (connectSpikes >= 3 ? 'medium' : 'low')
                  : 'low';
          const statuses = [...state.statuses].sort((a, b) => b[1] - a[1]);
          const statusText = statuses.slice(0, 4).map(([s, n]) => `${s || '-'} × ${n}`).join(', ');
          const causes = [
            state.connectFailures > 0 && `${state.connectFailures} never reached the backend (connection refused or failed)`,
            state.timeouts > 0 && `${state.timeouts} timed out waiting for it`,
            state.resets > 0 && `${state.resets} were reset by it`,
          ].filter(Boolean).join(', ');
          const when = longestFrom !== null
            ? ` Errors came in a burst: ${longest * bucketMinutes} minute(s) from ${new Date(longestFrom).toISOString()} with ${burstErrors} errors, above ${BURST_ERROR_RATE * 100}% of requests in each minute.`
            : ` Errors are spread over ${bucketsWithErrors} of ${buckets.length} ${bucketMinutes}-minute periods.`;
          const verdict =
            pattern === 'burst' ? 'This is an outage of that upstream (or the path to it), not background noise.'
              : pattern === 'sustained' ? 'Errors this frequent and continuous point at a misconfiguration (unhealthy or missing targets, security groups, TLS) rather than transient network trouble.'
                : pattern === 'transient' ? 'Rare and scattered: most likely transient network trouble; worth watching, not an outage.'
                  : 'No errors, but connect time jumped well above its usual value in some periods: the backend or the network in front of it was slow to accept connections.';
          const rows: FigureValue[][] = buckets
            .filter((b) => b.value.errors > 0)
            .sort((a, b) => b.value.errors - a.value.errors)
            .slice(0, 10)
            .map((b) => [new Date(b.startMs).toISOString(), b.value.requests, b.value.errors, roundTo(b.value.errors / b.value.requests, 3)]);
          findings.push({
            kind: 'upstream-trouble',
            severity,
            title: pattern === 'connect-spikes'
              ? `Upstream ${address}: connect-time spikes`
              : `Upstream ${address}: ${state.errors} errors (${(rate * 100).toFixed(2)}% of its requests), ${pattern}`,
            explanation:
              `${state.errors} of ${state.requests} requests to ${address} failed${statusText ? ` (${statusText})` : ''}` +
              (causes ? `: ${causes}.` : '.') + (state.errors > 0 ? when : '') +
              (connectSpikes > 0 ? ` Connect time spiked in ${connectSpikes} period(s) (baseline ${connectBaseline.toFixed(1)} ms).` : '') +
              ` ${verdict}`,
            nextStep: pattern === 'transient'
              ? 'Nothing urgent; if clients see these errors, a single retry with backoff absorbs them.'
              : 'Check the upstream\'s health around the burst (restarts, deploys, saturation), the load balancer\'s target health, and firewall/security-group changes.',
            figures: {
              upstream: address,
              pattern,
              requests: state.requests,
              errors: state.errors,
              errorRate: roundTo(rate, 4),
              shareOfAllRequests: roundTo(state.errors / Math.max(1, total), 4),
              connectFailures: state.connectFailures,
              timeouts: state.timeouts,
              resets: state.resets,
              burstMinutes: longest * bucketMinutes,
              burstStart: longestFrom === null ? null : new Date(longestFrom).toISOString(),
              burstErrors,
              periodsWithErrors: bucketsWithErrors,
              periods: buckets.length,
              periodMinutes: bucketMinutes,
              connectSpikePeriods: connectSpikes,
              connectBaselineMs: roundTo(connectBaseline, 2),
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
