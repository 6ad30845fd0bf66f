import { median } from 'simple-statistics';
import type { ApmTransaction, ProxyRecord } from '../model/records.js';
import { apmJoinKey, compileTemplate, proxyJoinKey, RouteTemplates, TEMPLATE, templateMatches } from './keys.js';
import { apmArrivalMs, durationCost, evidenceCost, proxyStartMs } from './pair-cost.js';

/**
 * Estimates the clock offset between APM and proxy (APM start minus proxy start) by voting:
 * every plausible (same key, similar duration) pair within ±maxSkew casts a vote for its offset.
 * True pairs pile up at one offset; chance pairs spread evenly over the whole ±maxSkew range.
 * The densest window (one timestamp resolution wide, at least 50 ms) wins; the densest narrow
 * window inside it and the median of its votes refine the estimate.
 *
 * With truncated (1 s) timestamps, candidates of one record within one step share a vote (castCoarseVotes).
 *
 * Every candidate of a sampled record votes, never just the first few: capping candidates per
 * record from the low end biased busy URLs towards −maxSkew (measured: −25 s estimated for a
 * true +2 s at 100 requests/s on one URL). The vote budget goes to records with the fewest
 * candidates first, since rare URLs give the cleanest votes.
 */

export interface OffsetEstimate {
  offsetMs: number;
  /** Votes inside the winning window: how much evidence backs the estimate. */
  supportingPairs: number;
  /** Median absolute deviation of the supporting votes, ms. */
  spreadMs: number;
  /**
   * Robust standard deviation of true pairs' start differences around the offset, ms, from the
   * vote histogram minus its chance background; null for coarse (1 s) timestamps, where the
   * resolution dominates. The join narrows its time tolerance to this when it is small.
   */
  jitterMs: number | null;
}

const MAX_PROXY_SAMPLES = 2_000;
/** Bounds the work: 4 M votes take about 40 ms. */
const MAX_VOTES = 4_000_000;
const MIN_WIDE_WINDOW_MS = 50;
const NARROW_WINDOW_MS = 5;

export function estimateClockOffset(
  proxies: readonly ProxyRecord[],
  transactions: readonly ApmTransaction[],
  maxSkewMs: number,
  templates: RouteTemplates = new RouteTemplates(),
): OffsetEstimate | null {
  const byKey = new Map<string, ApmTransaction[]>();
  let templated = false;
  for (const transaction of transactions) {
    const key = apmJoinKey(transaction);
    if (key === null) continue;
    if (key.charCodeAt(0) === 126 /* ~ */) templated = true;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(transaction);
  }
  addProxyTemplates(byKey, proxies);
  for (const list of byKey.values()) list.sort((a, b) => a.startMs - b.startMs);

  // Sample proxies evenly, then spend the vote budget on the most specific ones first.
  interface Sample { proxy: ProxyRecord; start: number; list: ApmTransaction[]; from: number; to: number }
  const samples: Sample[] = [];
  const step = Math.max(1, Math.floor(proxies.length / MAX_PROXY_SAMPLES));
  let coarsestResolution = 1;
  for (let i = 0; i < proxies.length; i += step) {
    const proxy = proxies[i]!;
    const key = proxyJoinKey(proxy);
    let list = key === null ? undefined : byKey.get(key);
    if (!list && templated) {
      const template = templates.proxyTemplateKey(proxy);
      list = template === null ? undefined : byKey.get(template);
    }
    if (!list) continue;
    const start = proxyStartMs(proxy);
    const from = lowerBound(list, start - maxSkewMs);
    const to = lowerBound(list, start + maxSkewMs + 1);
    if (to > from) samples.push({ proxy, start, list, from, to });
  }
  samples.sort((a, b) => a.to - a.from - (b.to - b.from));

  const range = Math.ceil(2 * maxSkewMs) + 1;
  const counts = new Float64Array(range);
  let budget = MAX_VOTES;
  let voted = 0;
  const bins: number[] = [];
  for (const sample of samples) {
    if (sample.to - sample.from > budget) break;
    budget -= sample.to - sample.from;
    const resolution = sample.proxy.timeResolutionMs;
    coarsestResolution = Math.max(coarsestResolution, resolution);
    bins.length = 0;
    for (let j = sample.from; j < sample.to; j++) {
      const transaction = sample.list[j]!;
      if (durationCost(sample.proxy, transaction) + evidenceCost(sample.proxy, transaction) > 2) continue;
      const bin = Math.floor(apmArrivalMs(transaction) - sample.start + maxSkewMs);
      if (bin >= 0 && bin < range) bins.push(bin);
    }
    if (resolution > COARSE_MS) castCoarseVotes(counts, bins, resolution);
    else for (const bin of bins) counts[bin]!++;
    voted += bins.length;
  }
  if (voted === 0) return null;

  const wide = densest(counts, 0, range, Math.max(MIN_WIDE_WINDOW_MS, coarsestResolution));
  // Inside the winner, a narrower window finds the peak of sharp (ms) data; for 1 s data it is the same window.
  const narrowWidth = Math.max(NARROW_WINDOW_MS, coarsestResolution);
  const narrow = densest(counts, wide.start, Math.min(range, wide.start + wide.width), narrowWidth);
  const inside: number[] = [];
  const weights: number[] = [];
  for (let bin = narrow.start; bin < narrow.start + narrow.width && bin < range; bin++) {
    if (counts[bin]! > 0) {
      inside.push(bin - maxSkewMs + 0.5);
      weights.push(counts[bin]!);
    }
  }
  const offsetMs = weightedMedian(inside, weights);
  const deviations = inside.map((vote) => Math.abs(vote - offsetMs));
  const jitterMs = coarsestResolution > COARSE_MS ? null : estimateJitter(counts, offsetMs + maxSkewMs);
  return { offsetMs, supportingPairs: Math.round(narrow.sum), spreadMs: weightedMedian(deviations, weights), jitterMs };
}

/** Timestamps coarser than this are truncated ones (`$time_local`): their votes are spread over a step. */
const COARSE_MS = 10;

/**
 * The votes of one proxy record with a truncated timestamp. Its partner's vote falls anywhere in
 * one resolution step around the true offset, and so does every candidate logged in the same step
 * (a burst of identical requests, a client firing a batch at once): each such candidate is as
 * likely to be the partner, so together they are worth one vote, not one each. Counted one each,
 * the n² votes of a burst of n became a peak of their own wherever the truncation put the burst
 * inside the step, and the densest-window search slid towards it (real nginx behind limit_req, a
 * burst of 20 let through in one second: estimates -362 to +225 ms for a true 0-2 ms, 73.6-92.0% of
 * transactions paired; with a shared vote within 45 ms, 91.3-92.0%).
 */
function castCoarseVotes(counts: Float64Array, bins: number[], resolutionMs: number): void {
  bins.sort((a, b) => a - b);
  const half = resolutionMs / 2;
  let low = 0;
  let high = 0;
  for (const bin of bins) {
    while (bins[low]! < bin - half) low++;
    while (high < bins.length && bins[high]! <= bin + half) high++;
    counts[bin]! += 1 / (high - low);
  }
}

/** Distinct proxy-side route templates looked at; API Gateway stages have a few dozen routes. */
const MAX_PROXY_TEMPLATES = 500;

/**
 * A proxy that logs route templates (API Gateway `resourcePath`) votes with the concrete APM paths
 * its templates match: each template's key (`~/pets/*`) gets those transactions too.
 */
function addProxyTemplates(byKey: Map<string, ApmTransaction[]>, proxies: readonly ProxyRecord[]): void {
  const patterns = new Set<string>();
  for (const proxy of proxies) {
    const key = proxyJoinKey(proxy);
    if (key !== null && key.startsWith(TEMPLATE) && patterns.size < MAX_PROXY_TEMPLATES) patterns.add(key.slice(TEMPLATE.length));
  }
  if (patterns.size === 0) return;
  const templates = [...patterns].map((pattern) => ({ key: `${TEMPLATE}${pattern}`, compiled: compileTemplate(pattern) }));
  for (const [key, list] of [...byKey]) {
    if (key.startsWith(TEMPLATE)) continue;
    const segments = key.split('/');
    for (const template of templates) {
      if (!templateMatches(template.compiled, segments)) continue;
      let merged = byKey.get(template.key);
      if (!merged) byKey.set(template.key, (merged = []));
      for (const transaction of list) merged.push(transaction);
    }
  }
}

const JITTER_REACH_MS = 250;

/**
 * Chance votes are flat, so the background is the mean count away from the peak; what rises above
 * it near the peak is the true pairs' spread. 1.4826 × its MAD estimates a Gaussian sigma.
 */
function estimateJitter(counts: Float64Array, peakBin: number): number | null {
  const center = Math.floor(peakBin);
  const outer = Math.min(center, counts.length - 1 - center, 3 * JITTER_REACH_MS);
  if (outer < 2 * JITTER_REACH_MS) return null;
  // Votes folded by distance from the peak. Chance votes are not flat: both logs cover the same
  // span, so chance offsets form a triangle whose apex sits at the true offset. A line in the
  // distance, fitted on the band beyond JITTER_REACH_MS, models that background; a flat one
  // inflated the jitter tenfold on a one-minute log (measured: 20-38 ms instead of ~1 ms).
  const folded = new Float64Array(outer + 1);
  folded[0] = counts[center]!;
  for (let r = 1; r <= outer; r++) folded[r] = (counts[center + r]! + counts[center - r]!) / 2;
  let n = 0, sumR = 0, sumY = 0, sumRR = 0, sumRY = 0;
  for (let r = JITTER_REACH_MS; r <= outer; r++) {
    n++;
    sumR += r;
    sumY += folded[r]!;
    sumRR += r * r;
    sumRY += r * folded[r]!;
  }
  const slope = (n * sumRY - sumR * sumY) / (n * sumRR - sumR * sumR);
  const intercept = (sumY - slope * sumR) / n;
  // Excess mass within radius r, negatives included so that background noise cancels instead of
  // piling up; the radius holding half the total excess is the MAD.
  const excessWithin = new Float64Array(JITTER_REACH_MS);
  let running = 0;
  for (let r = 0; r < JITTER_REACH_MS; r++) {
    const excess = folded[r]! - (intercept + slope * r);
    running += r === 0 ? excess : 2 * excess;
    excessWithin[r] = running;
  }
  const total = running;
  if (!(total >= 20)) return null;
  let half = JITTER_REACH_MS - 1;
  for (let r = 0; r < JITTER_REACH_MS; r++) {
    if (excessWithin[r]! >= total / 2) {
      half = r;
      break;
    }
  }
  return 1.4826 * (half + 0.5);
}

/** The window of `width` bins within [from, to) holding the most votes. */
function densest(counts: Float64Array, from: number, to: number, width: number): { start: number; width: number; sum: number } {
  let sum = 0;
  let best = -1;
  let bestStart = from;
  for (let i = from; i < to; i++) {
    sum += counts[i]!;
    if (i - width >= from) sum -= counts[i - width]!;
    if (sum > best) {
      best = sum;
      bestStart = Math.max(from, i - width + 1);
    }
  }
  return { start: bestStart, width, sum: best };
}

function weightedMedian(values: readonly number[], weights: readonly number[]): number {
  if (values.length === 0) return 0;
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const total = weights.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const i of order) {
    seen += weights[i]!;
    if (seen >= total / 2) return values[i]!;
  }
  return median([...values]);
}

export function lowerBound(list: readonly { readonly startMs: number }[], time: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.startMs < time) low = mid + 1;
    else high = mid;
  }
  return low;
}
