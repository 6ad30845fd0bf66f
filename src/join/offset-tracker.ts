/**
 * Follows clock drift through a long log. Clocks drift (tens of ppm without NTP, steps when NTP
 * corrects), so one offset from the first minutes goes stale. Every slice reports the offsets of
 * the pairs it joined with confidence; the tracker keeps each slice's median and fits a weighted
 * line through the recent ones, so the next slice is matched at the offset predicted for its time.
 */

export interface OffsetModel {
  /** APM clock minus proxy clock at `atMs` (proxy time), ms. */
  offsetMs: number;
  /** Change of the offset per ms of proxy time. */
  slope: number;
  atMs: number;
}

/**
 * The offset at a proxy time. At no time in particular (±Infinity: before the first proxy record,
 * as in a run with no proxy log, or past the last one) the model's own offset, not NaN.
 */
export function offsetAt(model: OffsetModel, proxyTimeMs: number): number {
  if (!Number.isFinite(proxyTimeMs)) return model.offsetMs;
  return model.offsetMs + model.slope * (proxyTimeMs - model.atMs);
}

interface SliceOffset { atMs: number; offsetMs: number; weight: number }

/** Fewer confident pairs than this in a slice say too little about the offset. */
const MIN_PAIRS_PER_SLICE = 8;
/** Slices remembered for the trend: about two minutes of 5 s slices. */
const HISTORY = 24;
/** A trend needs this much time behind it before its slope is trusted. */
const MIN_TREND_SPAN_MS = 30_000;

export class OffsetTracker {
  private model: OffsetModel;
  private readonly history: SliceOffset[] = [];
  private times: number[] = [];
  private offsets: number[] = [];
  /** Smallest and largest fitted offsets seen: the drift over the log. */
  min: number;
  max: number;

  constructor(initialOffsetMs: number, private readonly fixed: boolean) {
    this.model = { offsetMs: initialOffsetMs, slope: 0, atMs: 0 };
    this.min = initialOffsetMs;
    this.max = initialOffsetMs;
  }

  get current(): OffsetModel {
    return this.model;
  }

  /** A confidently joined pair: proxy start and APM start minus proxy start. */
  observe(proxyStartMs: number, pairOffsetMs: number): void {
    if (this.fixed) return;
    this.times.push(proxyStartMs);
    this.offsets.push(pairOffsetMs);
  }

  /** Closes a slice: folds its pairs into the trend and updates the model. */
  endSlice(): void {
    const times = this.times;
    const offsets = this.offsets;
    this.times = [];
    this.offsets = [];
    if (this.fixed || offsets.length < MIN_PAIRS_PER_SLICE) return;
    // A median needs no more than a few hundred values: sorting every pair of a busy slice was 2.7%
    // of the join's CPU time (join.bench.ts); a strided sample of at most 512 is well under 1%.
    const stride = Math.ceil(offsets.length / 512);
    const sample = new Float64Array(Math.ceil(offsets.length / stride));
    for (let i = 0, j = 0; i < offsets.length; i += stride) sample[j++] = offsets[i]!;
    const sorted = sample.sort();
    let timeSum = 0;
    for (const time of times) timeSum += time;
    this.history.push({ atMs: timeSum / times.length, offsetMs: sorted[sorted.length >> 1]!, weight: Math.sqrt(offsets.length) });
    if (this.history.length > HISTORY) this.history.shift();
    this.model = fit(this.history);
    const latest = offsetAt(this.model, this.history[this.history.length - 1]!.atMs);
    this.min = Math.min(this.min, latest);
    this.max = Math.max(this.max, latest);
  }
}

function fit(history: readonly SliceOffset[]): OffsetModel {
  const last = history[history.length - 1]!;
  const span = last.atMs - history[0]!.atMs;
  let w = 0, t = 0, o = 0;
  for (const h of history) {
    w += h.weight;
    t += h.weight * h.atMs;
    o += h.weight * h.offsetMs;
  }
  const meanT = t / w;
  const meanO = o / w;
  if (history.length < 3 || span < MIN_TREND_SPAN_MS) {
    // Too short for a slope: the weighted mean of the recent slices, weighted to the latest.
    return { offsetMs: (last.offsetMs + meanO) / 2, slope: 0, atMs: last.atMs };
  }
  let covariance = 0, variance = 0;
  for (const h of history) {
    covariance += h.weight * (h.atMs - meanT) * (h.offsetMs - meanO);
    variance += h.weight * (h.atMs - meanT) ** 2;
  }
  const slope = variance > 0 ? covariance / variance : 0;
  return { offsetMs: meanO, slope, atMs: meanT };
}
