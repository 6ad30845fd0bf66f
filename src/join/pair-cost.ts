import { upstreamTimed, type ApmTransaction, type ProxyRecord } from '../model/records.js';

/**
 * How unlikely it is that a proxy record and an APM transaction are one request, as a negative
 * log-likelihood: time difference of the starts (after skew correction) and, where the backend
 * answered, difference of durations. Lower is better; NO_MATCH_COST is the cost of "neither".
 */

export const NO_MATCH_COST = 4.5;

/** The timing tolerances of a pair; the join starts from the defaults and measures its own. */
export interface TimingModel {
  /** Noise of APM start minus proxy start beyond the timestamp's resolution, ms. */
  startSigmaMs: number;
  /** Typical proxy upstream time minus APM duration (network, queueing), ms. */
  durationCenterMs: number;
  /** Noise of that difference, ms, plus a share of the duration. */
  durationSigmaMs: number;
  durationRelativeSigma: number;
  /**
   * Whether the duration difference is judged net of the start difference. Whatever delays the
   * APM start (network to the backend, queueing) also lengthens the proxy's upstream time, so with
   * millisecond timestamps the two residuals share one noise and only the end-side gap is left.
   * The timing tracker picks this when the data shows it is tighter.
   */
  netOfStart: boolean;
}

export const DEFAULT_TIMING: TimingModel = {
  startSigmaMs: 40, durationCenterMs: 0, durationSigmaMs: 10, durationRelativeSigma: 0.05, netOfStart: false,
};

/**
 * When the request reached the backend, and how long the backend had it, as the proxy saw them:
 * where the export carries a queue time (New Relic `queueDuration`), the wait for a worker comes
 * before the transaction's start and inside the proxy's upstream time, so a queued pair lines up
 * like an unqueued one. Without it, the wait is left to the tolerances (a late start, a short duration).
 */
export function apmArrivalMs(apm: ApmTransaction): number {
  return apm.queueMs === null ? apm.startMs : apm.startMs - apm.queueMs;
}

export function apmSpanMs(apm: ApmTransaction): number {
  return apm.queueMs === null ? apm.durationMs : apm.durationMs + apm.queueMs;
}

/** Proxy start, centred within the timestamp's resolution (`$time_local` truncates to the second). */
export function proxyStartMs(record: ProxyRecord): number {
  return record.endMs + record.timeResolutionMs / 2 - (record.requestTimeMs ?? 0);
}

export function startSigma(record: ProxyRecord, baseSigmaMs: number): number {
  // A uniform error over one resolution step has a standard deviation of step/sqrt(12).
  return baseSigmaMs + record.timeResolutionMs / 3.4;
}

/**
 * A residual's cost: a Gaussian core of `sigma`, and beyond it exponential tails starting at
 * TAIL_BASE, one for each side. Real timings have outliers the core cannot explain: a scheduler or
 * event-loop stall of tens of ms, a wait for a worker of hundreds. With a Gaussian alone, the
 * tolerance learned from tidy pairs (a millisecond or two) refused every such pair, however alone
 * it was on its path (measured on real nginx in front of a busy worker pool: recall 0.964 at ms
 * stamps, 0.70 at 1 s). The tail lets a lone, otherwise agreeing candidate join with a lower
 * confidence, while among several candidates the tidy one still wins.
 */
export function robustCost(residual: number, sigma: number, lateScale: number, earlyScale: number): number {
  const delta = residual / sigma;
  const core = 0.5 * delta * delta;
  const tail = TAIL_BASE + Math.abs(residual) / (residual > 0 ? lateScale : earlyScale);
  return core < tail ? core : tail;
}

/** Where the tails start: about 2 sigmas. */
const TAIL_BASE = 2;
/** Scale of the early start tail (APM start before the proxy's, beyond the noise), ms. */
const EARLY_SCALE_MS = 30;
/** How far before the expected start the second look searches: what credit can still pay for. */
export const EARLY_REACH_MS = (NO_MATCH_COST + 2 * 1.5 - TAIL_BASE) * EARLY_SCALE_MS;

/** The backend answered and the proxy timed it: not a status nginx wrote itself when none came (502, 504). */
export function backendAnswered(proxy: ProxyRecord): boolean {
  return proxy.upstreamStatus !== null && proxy.upstreamTimeMs !== null && !UPSTREAM_STATUSES_A_PROXY_WRITES.has(proxy.upstreamStatus);
}

export function durationCost(
  proxy: ProxyRecord, apm: ApmTransaction, timing: TimingModel = DEFAULT_TIMING, startResidualMs = 0, netOfStart = timing.netOfStart,
  robust = false,
): number {
  const seen = proxy.upstreamTimeMs;
  if (seen !== null && backendAnswered(proxy)) {
    // The backend answered: the proxy's upstream time wraps the APM duration plus network (and,
    // with whole-second stamps, any wait for a worker: the start cannot show it).
    const sigma = timing.durationSigmaMs + timing.durationRelativeSigma * seen;
    const residual = seen - apmSpanMs(apm) - (netOfStart ? startResidualMs : 0) - timing.durationCenterMs;
    if (robust) return robustCost(residual, sigma, proxy.timeResolutionMs > 10 ? 300 + 0.5 * seen : 100 + 0.1 * seen, 20 + 0.02 * seen);
    const delta = residual / sigma;
    return 0.5 * delta * delta;
  }
  // The proxy stopped waiting: the backend must have run at least until the proxy gave up, that is
  // as long as the proxy waited, less any time the request waited for a worker first.
  const waited = seen ?? proxy.requestTimeMs ?? 0;
  const shortfall = waited - apmSpanMs(apm) - (netOfStart ? Math.max(0, startResidualMs) : 0) - 50;
  if (shortfall <= 0) return 0;
  const delta = shortfall / (10 + 0.05 * waited);
  return 0.5 * delta * delta;
}

/**
 * What the fields both sides carry say about a pair, as a cost added to its timing cost. A field
 * only one side carries says nothing (a New Relic CSV without `request.method` widens the
 * candidates, it never empties them). Different methods rule a pair out; a different status, user
 * agent or API key makes it unlikely, not impossible (agents and proxies spell things their own
 * way), which is what separates candidates when timestamps have whole seconds only: several
 * clients hit the same URL in the same second, rarely with the same agent, key and answer.
 *
 * Status: the proxy's upstream status is the backend's answer, so it must equal the APM's (but for
 * the 502 and 504 nginx writes there itself when the backend gave none). Where
 * the proxy logs no upstream status, its own status is compared, except the statuses a proxy makes
 * up when the backend did not answer or the client left (499, 504...): those are the known
 * pattern alf exists to find, not a disagreement.
 */
export function evidenceCost(proxy: ProxyRecord, apm: ApmTransaction): number {
  return evidence(proxy, apm, false);
}

/**
 * The same, with a credit for each field both sides carry and agree on, for the second look (a
 * pair whose timing is off needs the other fields to vouch for it): a random pair agrees on the
 * user agent or key about one time in four or five, a true pair nearly always, a ratio of e^1.5.
 */
function evidence(proxy: ProxyRecord, apm: ApmTransaction, credit: boolean): number {
  if (proxy.method !== null && apm.method !== null && proxy.method !== apm.method) return Infinity;
  let cost = 0;
  if (apm.status !== null) {
    if (proxy.upstreamStatus !== null) {
      if (proxy.upstreamStatus !== apm.status && !UPSTREAM_STATUSES_A_PROXY_WRITES.has(proxy.upstreamStatus)) cost += STATUS_DISAGREES;
    } else if (!proxy.upstreamLogged && proxy.status !== null && !PROXY_MADE_STATUSES.has(proxy.status) && proxy.status !== apm.status) {
      cost += PROXY_STATUS_DISAGREES;
    }
  }
  if (proxy.userAgent !== null && apm.userAgent !== null) cost += proxy.userAgent !== apm.userAgent ? AGENT_DISAGREES : credit ? -AGREEMENT_CREDIT : 0;
  if (proxy.apiKey !== null && apm.apiKey !== null) cost += proxy.apiKey !== apm.apiKey ? KEY_DISAGREES : credit ? -AGREEMENT_CREDIT : 0;
  return cost;
}

/**
 * What nginx writes as the upstream's status when the upstream gave none: 504 when its
 * proxy_read_timeout ran out, 502 when the connection failed or broke. Not the backend's answer, so
 * no disagreement with it: a real nginx's 3 s proxy_read_timeout in front of 5 s exports left all 54
 * of its 504s unjoined (their transactions ran 5 s with status 200), and the wall's "backend
 * seconds after" read 0 where HAProxy's and Apache's logs of the same incident gave 108 and 116 s.
 */
const UPSTREAM_STATUSES_A_PROXY_WRITES: ReadonlySet<number> = new Set([502, 504]);
/** Statuses a proxy or gateway answers by itself: client gone, timeouts, no upstream (ALB 460/463, nginx 444/499). */
const PROXY_MADE_STATUSES: ReadonlySet<number> = new Set([408, 444, 460, 463, 499, 502, 503, 504]);
/** Negative log-likelihoods of a disagreement on a true pair (retries, header rewrites, post_action's 404). */
const STATUS_DISAGREES = 3;
const PROXY_STATUS_DISAGREES = 1.5;
const AGENT_DISAGREES = 3;
const KEY_DISAGREES = 3;
const AGREEMENT_CREDIT = 1.5;

export function pairCost(
  proxy: ProxyRecord, proxyStart: number, apm: ApmTransaction, offsetMs: number, sigmaMs: number, timing: TimingModel = DEFAULT_TIMING,
): number {
  const evidence = evidenceCost(proxy, apm);
  if (evidence === Infinity) return Infinity;
  const startResidual = apmArrivalMs(apm) - offsetMs - proxyStart;
  let delta: number;
  if (proxy.timeResolutionMs > 10) {
    // A truncated timestamp puts the true instant anywhere in one resolution step, evenly: inside the
    // step every instant is as likely (a Gaussian would favour the step's middle, which is no evidence),
    // outside it the clock noise applies. Measured with 1 s timestamps at 10 req/s per URL: recall
    // 0.557 with a Gaussian of step/3.4, see README "Join quality" for the box.
    if (upstreamTimed(proxy)) return coarseAnsweredCost(proxy, apm, startResidual, timing) + evidence;
    const outside = Math.abs(startResidual) - proxy.timeResolutionMs / 2;
    delta = outside > 0 ? outside / timing.startSigmaMs : 0;
  } else {
    delta = startResidual / sigmaMs;
    if (delta > QUEUE_FROM_SIGMAS) {
      // The backend started this much after the proxy sent the request: it waited for a free worker
      // (a Unicorn-style pool under load). The start noise measured on calm traffic is a few ms, so
      // a Gaussian refused every queued request (10% queued 20-500 ms: recall 0.89; seen on real
      // nginx logs in front of a busy pool). Past the noise, a wait costs little more the longer it
      // is, and the proxy's upstream time, which includes the wait, is judged net of it.
      const queuedCost = 0.5 * QUEUE_FROM_SIGMAS * QUEUE_FROM_SIGMAS + (startResidual - QUEUE_FROM_SIGMAS * sigmaMs) / QUEUE_SCALE_MS;
      const gaussianCost = 0.5 * delta * delta;
      if (queuedCost < gaussianCost) return queuedCost + durationCost(proxy, apm, timing, startResidual, true) + evidence;
    }
  }
  return 0.5 * delta * delta + durationCost(proxy, apm, timing, startResidual) + evidence;
}

/**
 * A whole-second stamp of a request the backend answered. The stamp is the request's end
 * (nginx writes the line when the response is sent), and the backend's answer ended just before
 * it: the APM end (start + duration) falls in the stamp's step, shifted by the time the response
 * took from the upstream to the client (request time minus upstream time). The start does not:
 * a request that waited for a worker started late by the wait, which the whole-second stamp
 * cannot show (measured on real nginx in front of a 20-worker pool at 45 req/s: APM start minus
 * stamped start spread over 1.5 s, APM end minus stamped end stayed inside the 1 s step).
 * The wait is in the proxy's upstream time and not in the APM duration, so the duration is judged
 * with a long late tail (robustCost): a wait for a worker is likely, a backend faster than the
 * proxy saw it is not.
 */
function coarseAnsweredCost(proxy: ProxyRecord, apm: ApmTransaction, startResidual: number, timing: TimingModel): number {
  const endResidual = startResidual - (proxy.upstreamTimeMs! - apmSpanMs(apm));
  const outside = Math.abs(endResidual) - proxy.timeResolutionMs / 2;
  const delta = outside > 0 ? outside / timing.startSigmaMs : 0;
  return 0.5 * delta * delta + durationCost(proxy, apm, timing, 0, false, true);
}

/**
 * The cost of a pair at the second look (match-window.ts), for proxy records that found no
 * candidate at the first: heavy tails on the start and the duration (robustCost), a wait for a
 * worker on the late side also with whole-second stamps, and credit for agreeing fields.
 */
export function secondLookCost(
  proxy: ProxyRecord, proxyStart: number, apm: ApmTransaction, offsetMs: number, sigmaMs: number, timing: TimingModel = DEFAULT_TIMING,
): number {
  // A pair off in time needs a witness: a user agent or key both sides log and agree on. Without
  // one, a transaction whose own proxy record is missing took a stranger's (precision 0.988 with
  // 10% missing on either side, test/join/quality.test.ts).
  const witnessed = (proxy.userAgent !== null && proxy.userAgent === apm.userAgent) || (proxy.apiKey !== null && proxy.apiKey === apm.apiKey);
  if (!witnessed) return Infinity;
  const fields = evidence(proxy, apm, true);
  if (fields === Infinity) return Infinity;
  const startResidual = apmArrivalMs(apm) - offsetMs - proxyStart;
  // A wait for a worker as long as the proxy itself waited is no surprise: behind a saturated
  // pool, requests wait seconds (the net duration then says whether the wait fits).
  const lateScale = Math.max(QUEUE_SCALE_MS, proxy.upstreamTimeMs ?? proxy.requestTimeMs ?? 0);
  let cost: number;
  if (proxy.timeResolutionMs > 10) {
    const half = proxy.timeResolutionMs / 2;
    const outside = startResidual > half ? startResidual - half : startResidual < -half ? startResidual + half : 0;
    // A start later than the step allows is a wait for a worker, and the wait is in the proxy's
    // upstream time as well: judged net of it, or it would count twice.
    cost = robustCost(outside, timing.startSigmaMs, lateScale, EARLY_SCALE_MS) +
      Math.min(durationCost(proxy, apm, timing, 0, false, true), durationCost(proxy, apm, timing, Math.max(0, outside), true, true));
  } else {
    const start = robustCost(startResidual, sigmaMs, lateScale, EARLY_SCALE_MS);
    cost = start + durationCost(proxy, apm, timing, startResidual, timing.netOfStart, true);
    // A late start (a wait for a worker) also lengthens the proxy's upstream time: judged net of it.
    if (startResidual > 0) cost = Math.min(cost, start + durationCost(proxy, apm, timing, startResidual, true, true));
  }
  return Math.max(0, cost + fields);
}

/** Past this many sigmas of start noise, an APM start later than the proxy's is read as a queue wait. */
const QUEUE_FROM_SIGMAS = 2;

/**
 * Was this pair matched as a queue wait (the APM start well after the proxy's)? Such pairs say
 * nothing about the clocks, so they do not steer the offset or the tolerances. (Measured: the
 * join-quality figures are the same with and without this filter; it guards against a log where
 * many waits would pull the offset late.)
 */
export function matchedAsQueueWait(proxy: ProxyRecord, startResidualMs: number, baseSigmaMs: number): boolean {
  return proxy.timeResolutionMs <= 10 && startResidualMs > QUEUE_FROM_SIGMAS * startSigma(proxy, baseSigmaMs);
}
/** How far after the expected start the second look searches: a wait as long as the proxy's own, within the APM stream's tolerated disorder. */
export function secondLookLateReach(proxy: ProxyRecord): number {
  return Math.min(5_000, Math.max(MAX_QUEUE_WAIT_MS, (proxy.upstreamTimeMs ?? proxy.requestTimeMs ?? 0) + 1_000));
}

/** A queue wait costs one more unit per this many ms (a 500 ms wait: 2 + ~1). */
const QUEUE_SCALE_MS = 500;
/** The longest wait that can still beat "no match": candidates are searched this much further on. */
export const MAX_QUEUE_WAIT_MS = (NO_MATCH_COST - 0.5 * QUEUE_FROM_SIGMAS * QUEUE_FROM_SIGMAS) * QUEUE_SCALE_MS;
