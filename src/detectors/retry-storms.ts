import type { Count, FindingBase, Instant, Ratio, Severity, Share, Table, Text } from '../model/finding.js';
import { formatNumber, formatRatio, formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest, ProxyRecord } from '../model/records.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { DEFAULT_JOIN_OPTIONS } from '../join/options.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { FingerprintIds } from './retry-storms/fingerprint-ids.js';
import { PeakMinute } from './retry-storms/peak-minute.js';
import { fingerprintRequest, RecentRequests } from './retry-storms/recent-requests.js';

/**
 * Retry storms: a client that retries failures at once, without backoff, multiplies the load on a
 * backend that is already failing. In logs: the same client (API key, else IP) and the same URL
 * again within seconds of a failure. A chain is one logical request and its retries; the
 * amplification factor is attempts per chain among chains that failed at least once.
 * A client that polls one URL repeats it after successes as often as after failures: only
 * repeats that follow failures far more often than they follow successes are retries.
 * The latest request per (client, method, URL) is kept for a little over a minute (see
 * RecentRequests), so memory is bounded by the request rate over that time, never by the log.
 */

const RETRY_WINDOW_MS = 10_000;
/**
 * A repeat of a failed request is a retry "at once" when it starts less than this after the
 * failure: the shortest `Retry-After` (whole seconds) is 1 s, and a client honouring it, or any
 * backoff of a second or more, does what this finding would advise. A paginating crawler that
 * waited out each 429's `Retry-After: 1` (real nginx and HAProxy, gaps 1.0-1.5 s) read as a high
 * "retry storm … immediate retries". In a log of whole-second stamps only a repeat within the same
 * second is sure to be one: some at-once retries are missed there, none is made up.
 */
const IMMEDIATE_RETRY_MS = 1_000;
const RECENT_CAP = 200_000;
/**
 * How far out of time order a log's lines may be (nginx writes a line at the request's end, so a
 * 60 s request sits among lines of requests that started a minute later): recent requests are kept
 * this much longer than the retry window. The join's default --horizon is that bound.
 */
const LOG_DISORDER_MS = DEFAULT_JOIN_OPTIONS.horizonMs;
const CLIENT_CAP = 10_000;
const MIN_RETRIES = 20;
const STORM_AMPLIFICATION = 2;
/**
 * Retries in a client's busiest minute below which a storm is at most `low`: one every two
 * seconds. A person pressing reload on a broken page retries at once too, and a developer's own
 * access log (XAMPP, 20 reloads of one failing page in two minutes) read as a medium storm; a
 * program retrying without backoff repeats at the speed of its failures, hundreds a minute.
 */
const LOAD_RETRIES_PER_MINUTE = 30;

/** A client's retry figures, made at its first failure (most clients never fail). */
interface ClientRetries {
  failedChains: number;
  failedChainAttempts: number;
  retries: number;
  /** Every failed response, retried or not. */
  failures: number;
  /**
   * Successes while the client is being watched (within a retry window of one of its failures),
   * and how often those were repeated anyway: a client's habit of repeating requests, measured
   * where it matters. Watching only then means most requests of most clients (those that rarely
   * fail) skip the fingerprint and the table, which were this detector's whole per-request cost.
   */
  successes: number;
  repeatsAfterSuccess: number;
  longestChain: number;
  /**
   * Requests and retries per minute, counted from the client's first retry (and the failure it
   * retried): most clients never retry, and a timeline each for 10,000 clients was most of this
   * detector's time and memory (500 k combined lines: +1.4 s and +200 MB; see the commit for the
   * figures after). Counted from the first failure instead, it cost 2.5% of `alf analyze`'s CPU on
   * the bench's 1 M high-cardinality lines, where most clients fail now and then.
   */
  minutes: PeakMinute | null;
  evidence: EvidenceSample;
}

/** A client that retries failures at once. */
export interface RetryStormFigures {
  client: Text;
  requests: Count;
  /** Chains of repeats its failures formed: each a failing request and its immediate repeats, counted once. */
  failureChains: Count;
  retries: Count;
  /** Attempts per failing logical request. */
  amplificationFactor: Ratio;
  longestChain: Count;
  busiestMinute: Instant | null;
  /** Retries among the client's requests in its busiest period. */
  retryShareAtBusiest: Share;
  retryRateAfterFailure: Share;
  repeatRateAfterSuccess: Share;
  retryShareOfAllRequests: Share;
}

/** Quick retries after failures, too few per client to matter. */
export interface RetrySummaryFigures {
  retries: Count;
  clients: Count;
}

export type RetryColumns = ['client', 'requests', 'failureChains', 'retries', 'amplificationFactor', 'longestChain'];
export type RetryRow = [client: Text, requests: Count, failureChains: Count, retries: Count, amplificationFactor: Ratio, longestChain: Count];

export interface RetryFinding extends FindingBase<'retry-storms', RetryStormFigures | RetrySummaryFigures> {
  table?: Table<RetryColumns, RetryRow>;
}

/** A response a client would retry: server errors, throttling, gateway timeouts, aborts. */
export function isRetryableFailure(proxy: ProxyRecord): boolean {
  const status = proxy.status ?? 0;
  return status >= 500 || status === 429 || status === 408 || proxy.clientClosed;
}

/** A client sending at least this many requests in a minute, nearly all failing, may be a flood rather than a retry loop. */
const FLOOD_REQUESTS_PER_MINUTE = 600;
const FLOOD_FAILURE_SHARE = 0.9;

export const retryStorms: Detector<RetryFinding> = {
  id: 'retry-storms',
  title: 'Retry storms',
  kinds: ['retry-storms'],
  verdict(findings, cite) {
    const storm = findings.find((f): f is RetryFinding & { figures: RetryStormFigures } => 'client' in f.figures);
    if (storm === undefined) return null;
    return `${storm.figures.client} retries failures at once: ${cite(storm, 'retries')} immediate retries, ${cite(storm, 'amplificationFactor')} the attempts of its failing requests.`;
  },
  start() {
    const recent = new RecentRequests(RETRY_WINDOW_MS + LOG_DISORDER_MS, RECENT_CAP);
    const requestFingerprint = new Int32Array(2);
    /**
     * Clients by id (FingerprintIds): requests and the watch kept in arrays for every client, the
     * retry figures only for clients that failed. The BoundedCounter of an object per client this
     * replaced cost 340 ms of 4.1 s CPU (retry storms' lookup, `node --cpu-prof`, `alf analyze` of
     * 1 M high-cardinality combined lines). The detector alone over those records, in-process,
     * each pass with fresh address strings as parsing makes them: 400-515 -> 295 ms a pass
     * (medians of 5, load ~12).
     */
    const clients = new FingerprintIds(CLIENT_CAP);
    let requestsOf = new Float64Array(1024);
    /** Requests that start after this cannot be a retry of a failure seen so far (-Infinity: never failed). */
    let watchedUntilOf = new Float64Array(1024).fill(Number.NEGATIVE_INFINITY);
    const retriesOf: (ClientRetries | undefined)[] = [];
    const newClientRetries = (): ClientRetries => ({
      failedChains: 0, failedChainAttempts: 0, retries: 0, failures: 0, successes: 0, repeatsAfterSuccess: 0, longestChain: 0,
      minutes: null,
      evidence: new EvidenceSample(5),
    });
    let total = 0;
    let totalRetries = 0;

    /**
     * `counted`: the request is in the run's slice. One outside it (a `--where` clause or the
     * time range left it out) still tells what the client did: a success between two failures
     * ends a chain, and a habit of repeating requests anyway is still a habit. Without them,
     * `--where status=5xx` made every failure look like the retry of the one before (a
     * developer's reloads, info on the whole log, read as a high storm).
     */
    function track(request: JoinedRequest, counted: boolean): void {
      const proxy = request.proxy;
      if (proxy === null || proxy.path === null) return;
      if (counted) total++;
      const client = proxy.apiKey ?? proxy.clientIp;
      if (client === null) return;
      const id = clients.idOf(client);
      if (id >= requestsOf.length) {
        const grown = new Float64Array(requestsOf.length * 2);
        grown.set(requestsOf);
        requestsOf = grown;
        const watched = new Float64Array(grown.length).fill(Number.NEGATIVE_INFINITY);
        watched.set(watchedUntilOf);
        watchedUntilOf = watched;
      }
      if (counted) requestsOf[id]! += 1;
      let state = retriesOf[id];
      const failed = isRetryableFailure(proxy);
      if (failed) {
        if (state === undefined) retriesOf[id] = state = newClientRetries();
        if (counted) state.failures++;
        watchedUntilOf[id] = Math.max(watchedUntilOf[id]!, proxy.endMs + RETRY_WINDOW_MS);
      } else if (proxy.startMs > watchedUntilOf[id]!) {
        if (counted) state?.minutes?.observe(proxy.startMs, false);
        return;
      } else {
        // Watched: the client failed before, so its figures exist.
        state = state!;
        state.successes++;
      }
      fingerprintRequest(client, proxy.method, proxy.path, proxy.query, requestFingerprint);
      const high = requestFingerprint[0]!;
      const low = requestFingerprint[1]!;
      const previous = recent.latest(high, low);
      // Measured as retries are, so a poller's repeats after successes weigh against them alike.
      if (previous !== null && !previous.failed && proxy.startMs - previous.endMs < IMMEDIATE_RETRY_MS) state.repeatsAfterSuccess++;
      const isRetry = previous !== null && previous.failed && proxy.startMs - previous.endMs < IMMEDIATE_RETRY_MS && proxy.startMs >= previous.endMs - 50;
      let attempts = 1;
      // A chain is counted from its first attempt inside the slice, so attempts per chain stay the
      // slice's own when a chain began before it.
      let chainCounted = false;
      if (isRetry) {
        attempts = previous.attempts + 1;
        chainCounted = previous.chainCounted;
        if (counted) {
          state.retries++;
          totalRetries++;
          if (state.minutes === null) {
            state.minutes = new PeakMinute();
            state.minutes.observe(proxy.startMs, false);
          }
          if (!chainCounted) {
            state.failedChains++;
            chainCounted = true;
          }
          state.failedChainAttempts++;
          state.longestChain = Math.max(state.longestChain, attempts);
          state.evidence.offer(proxy, attempts,
            `attempt ${attempts}, ${((proxy.startMs - previous.endMs) / 1000).toFixed(2)} s after a failure, status ${proxy.status ?? '-'}`);
        }
      } else if (failed && counted) {
        // The first failure of a new chain.
        state.failedChains++;
        state.failedChainAttempts++;
        chainCounted = true;
      }
      if (counted) state.minutes?.observe(proxy.startMs, isRetry);
      recent.remember(high, low, proxy.endMs, failed, attempts, proxy.endMs, chainCounted);
    }

    return {
      observe(request: JoinedRequest) {
        track(request, true);
      },

      observeOutside(request: JoinedRequest) {
        track(request, false);
      },

      finish(_context: DetectorContext): RetryFinding[] {
        const findings: RetryFinding[] = [];
        const rows: RetryRow[] = [];
        const ranked: [client: string, state: ClientRetries & { requests: number }][] = [];
        for (let id = 0; id < clients.size; id++) {
          const state = retriesOf[id];
          if (state !== undefined && state.retries > 0) ranked.push([clients.values[id]!, { ...state, requests: requestsOf[id]! }]);
        }
        ranked.sort((a, b) => b[1].retries - a[1].retries);
        for (const [client, state] of ranked) {
          const amplification = state.failedChains > 0 ? state.failedChainAttempts / state.failedChains : 1;
          rows.push([client, state.requests, state.failedChains, state.retries, roundTo(amplification, 2), state.longestChain]);
          if (state.retries < MIN_RETRIES) continue;
          const busiest = state.minutes?.busiest() ?? null;
          const busiestShare = busiest ? busiest.retries / Math.max(1, busiest.requests) : 0;
          const retryRate = state.retries / Math.max(1, state.failures);
          const repeatRate = state.repeatsAfterSuccess / Math.max(1, state.successes);
          // Repeats after failure must clearly outnumber the client's habit of repeating anyway.
          if (retryRate < 3 * repeatRate || retryRate < 0.2) continue;
          const storm = amplification >= STORM_AMPLIFICATION || state.longestChain >= 4;
          const atLoad = (busiest?.retries ?? 0) >= LOAD_RETRIES_PER_MINUTE;
          const severity: Severity = !storm ? 'info' : !atLoad ? 'low' : severityOf({
            affected: state.retries, total, background: HEALTHY_BACKGROUND.none, cohortShare: busiestShare,
          });
          findings.push({
            kind: 'retry-storms',
            severity,
            title: storm
              ? `Retry storm from ${client}: ${formatNumber(state.retries)} immediate retries, ${formatRatio(roundTo(amplification, 2))} amplification`
              : `${client} retries failures once (${formatNumber(state.retries)} retries)`,
            explanation:
              `${client} repeated the same request less than ${IMMEDIATE_RETRY_MS / 1000} s after a failure ${formatNumber(state.retries)} times. ` +
              `Its failures formed ${formatNumber(state.failedChains)} ${state.failedChains === 1 ? 'chain' : 'chains'} of repeats, ${formatNumber(state.failedChainAttempts)} attempts in all (${formatRatio(roundTo(amplification, 2))} amplification, ` +
              `longest chain ${formatNumber(state.longestChain)} attempts)` +
              (busiest ? `; in its busiest minute (from ${new Date(busiest.startMs).toISOString()}) it retried ${formatNumber(busiest.retries)} times, ${formatShare(roundTo(busiestShare, 3))} of its requests.` : '.') +
              // A real flood of 858 requests in 3 s, every one a 499, read as three clients' retries
              // and nothing else: the same request again at once is a flood's shape as well.
              (busiest !== null && busiest.requests >= FLOOD_REQUESTS_PER_MINUTE && state.failures >= FLOOD_FAILURE_SHARE * state.requests
                ? ` ${formatShare(roundTo(state.failures / Math.max(1, state.requests), 3))} of its requests failed, ${formatNumber(busiest.requests)} of them in one minute: a flood (a load test, a scraper, an attack) has this shape as much as a retry loop; who the client is tells which.`
                : '') +
              (!storm
                ? ' A single retry after a failure is healthy behaviour.'
                : atLoad
                  ? ' Retrying at once, again and again, adds load exactly when the backend is failing, which can keep it failing.'
                  : ` Fewer than ${LOAD_RETRIES_PER_MINUTE} retries in any minute, as few as a person pressing reload or a scanner repeating a probe sends: not yet load that keeps a backend failing.`),
            nextStep: storm
              ? 'Make the client retry with exponential backoff and jitter and a retry budget, honour Retry-After, and consider a circuit breaker at the gateway.'
              : undefined,
            figures: {
              client,
              requests: state.requests,
              // Not "failed requests": a client failing 7 times in 4 chains read "failed 4" beside its 7 failures (a real nginx log).
              failureChains: state.failedChains,
              retries: state.retries,
              amplificationFactor: roundTo(amplification, 2),
              longestChain: state.longestChain,
              busiestMinute: busiest ? new Date(busiest.startMs).toISOString() : null,
              retryShareAtBusiest: roundTo(busiestShare, 3),
              retryRateAfterFailure: roundTo(retryRate, 3),
              repeatRateAfterSuccess: roundTo(repeatRate, 3),
              retryShareOfAllRequests: roundTo(state.retries / Math.max(1, total), 4),
            },
            evidence: state.evidence.list(),
          });
          if (findings.length >= 10) break;
        }
        if (ranked.length > 0 && findings.length === 0 && totalRetries > 0) {
          findings.push({
            kind: 'retry-storms',
            severity: 'info',
            title: `${formatNumber(totalRetries)} quick retries after failures, no storm`,
            explanation: `${totalRetries} requests repeated a failed request less than ${IMMEDIATE_RETRY_MS / 1000} s after it, too few per client to matter.`,
            figures: { retries: totalRetries, clients: ranked.length },
            table: { columns: ['client', 'requests', 'failureChains', 'retries', 'amplificationFactor', 'longestChain'], rows: rows.slice(0, 20) },
            evidence: [],
          });
        }
        return findings;
      },
    };
  },
};
