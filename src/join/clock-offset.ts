import { median } from 'simple-statistics';
import type { ApmTransaction, ProxyRecord } from '../model/records.js';
import { apmJoinKey, proxyJoinKey } from './keys.js';
import { durationCost, proxyStartMs } from './pair-cost.js';

/**
 * Estimates the clock offset between APM and proxy (APM start minus proxy start) by voting:
 * every plausible (same key, similar duration) pair within ±maxSkew casts a vote for its offset.
 * True pairs pile up at one offset; chance pairs spread evenly. The densest window wins, and the
 * median of the votes inside it refines the estimate. Robust to busy URLs where time alone is ambiguous.
 */

export interface OffsetEstimate {
  offsetMs: number;
  /** Votes inside the winning window: how much evidence backs the estimate. */
  supportingPairs: number;
  /** Median absolute deviation of the supporting votes, ms. */
  spreadMs: number;
}

const BIN_MS = 10;
const MAX_PROXY_SAMPLES = 800;
const MAX_CANDIDATES_PER_RECORD = 400;

export function estimateClockOffset(
  proxies: readonly ProxyRecord[],
  transactions: readonly ApmTransaction[],
  maxSkewMs: number,
): OffsetEstimate | null {
  const byKey = new Map<string, ApmTransaction[]>();
  for (const transaction of transactions) {
    const key = apmJoinKey(transaction);
    if (key === null) continue;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(transaction);
  }
  for (const list of byKey.values()) list.sort((a, b) => a.startMs - b.startMs);

  const step = Math.max(1, Math.floor(proxies.length / MAX_PROXY_SAMPLES));
  const votes: number[] = [];
  let coarsestResolution = 1;
  for (let i = 0; i < proxies.length; i += step) {
    const proxy = proxies[i]!;
    const key = proxyJoinKey(proxy);
    const list = key === null ? undefined : byKey.get(key);
    if (!list) continue;
    coarsestResolution = Math.max(coarsestResolution, proxy.timeResolutionMs);
    const start = proxyStartMs(proxy);
    let index = lowerBound(list, start - maxSkewMs);
    let seen = 0;
    for (; index < list.length && seen < MAX_CANDIDATES_PER_RECORD; index++) {
      const transaction = list[index]!;
      const offset = transaction.startMs - start;
      if (offset > maxSkewMs) break;
      if (durationCost(proxy, transaction) > 2) continue;
      votes.push(offset);
      seen++;
    }
  }
  if (votes.length === 0) return null;

  // Histogram of votes, then the densest window of one timestamp resolution (at least 50 ms).
  const bins = Math.ceil((2 * maxSkewMs) / BIN_MS) + 1;
  const counts = new Uint32Array(bins);
  for (const vote of votes) counts[Math.floor((vote + maxSkewMs) / BIN_MS)]!++;
  const width = Math.max(5, Math.round(Math.max(50, coarsestResolution) / BIN_MS));
  let windowSum = 0;
  let bestSum = -1;
  let bestStart = 0;
  for (let i = 0; i < bins; i++) {
    windowSum += counts[i]!;
    if (i >= width) windowSum -= counts[i - width]!;
    if (windowSum > bestSum) {
      bestSum = windowSum;
      bestStart = Math.max(0, i - width + 1);
    }
  }
  const low = bestStart * BIN_MS - maxSkewMs;
  const high = low + width * BIN_MS;
  const inside = votes.filter((vote) => vote >= low && vote < high);
  const offsetMs = median(inside);
  const spreadMs = median(inside.map((vote) => Math.abs(vote - offsetMs)));
  return { offsetMs, supportingPairs: inside.length, spreadMs };
}

export function lowerBound(list: readonly ApmTransaction[], time: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.startMs < time) low = mid + 1;
    else high = mid;
  }
  return low;
}
