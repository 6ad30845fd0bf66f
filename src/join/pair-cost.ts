import type { ApmTransaction, ProxyRecord } from '../model/records.js';

/**
 * How unlikely it is that a proxy record and an APM transaction are one request, as a negative
 * log-likelihood: time difference of the starts (after skew correction) and, where the backend
 * answered, difference of durations. Lower is better; NO_MATCH_COST is the cost of "neither".
 */

export const NO_MATCH_COST = 4.5;

/** Proxy start, centred within the timestamp's resolution (`$time_local` truncates to the second). */
export function proxyStartMs(record: ProxyRecord): number {
  return record.endMs + record.timeResolutionMs / 2 - (record.requestTimeMs ?? 0);
}

export function startSigma(record: ProxyRecord, baseSigmaMs: number): number {
  // A uniform error over one resolution step has a standard deviation of step/sqrt(12).
  return baseSigmaMs + record.timeResolutionMs / 3.4;
}

export function durationCost(proxy: ProxyRecord, apm: ApmTransaction): number {
  const seen = proxy.upstreamTimeMs;
  if (proxy.upstreamStatus !== null && seen !== null) {
    // The backend answered: the proxy's upstream time wraps the APM duration plus network.
    const sigma = 10 + 0.05 * seen;
    const delta = (seen - apm.durationMs) / sigma;
    return 0.5 * delta * delta;
  }
  // The proxy stopped waiting: the backend must have run at least as long as the proxy waited.
  const waited = seen ?? proxy.requestTimeMs ?? 0;
  const shortfall = waited - apm.durationMs - 50;
  if (shortfall <= 0) return 0;
  const delta = shortfall / (10 + 0.05 * waited);
  return 0.5 * delta * delta;
}

export function pairCost(proxy: ProxyRecord, proxyStart: number, apm: ApmTransaction, offsetMs: number, sigmaMs: number): number {
  const delta = (apm.startMs - offsetMs - proxyStart) / sigmaMs;
  return 0.5 * delta * delta + durationCost(proxy, apm);
}
