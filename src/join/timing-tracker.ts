import type { JoinedRequest } from '../model/records.js';
import { offsetAt, type OffsetModel } from './offset-tracker.js';
import { apmArrivalMs, apmSpanMs, backendAnswered, proxyStartMs, type TimingModel } from './pair-cost.js';

/**
 * Learns the timing tolerances from the pairs the join is sure of. The defaults (40 ms on starts,
 * 10 ms + 5% on durations) are safe for any setup but blunt: on one host, nginx's upstream time
 * and the APM duration differ by a millisecond or two, and a tolerance that tight is what tells
 * apart requests a few ms apart on a busy URL (measured at 100 req/s on one URL: recall 0.76 with
 * the defaults, see README "Join quality" for the figure with learned tolerances).
 *
 * Residuals come from id joins (unbiased) and confident heuristic joins; the spread is widened by
 * MARGIN and floored, because confident pairs are the tidier ones and tolerances must not collapse.
 */

const WINDOW = 2_000;
const MIN_PAIRS = 200;
const MARGIN = 1.5;
const MIN_SIGMA_MS = 1;
const REFIT_EVERY = 5_000;
const MAX_DURATION_SIGMA_MS = 100;

export class TimingTracker {
  private readonly durationResiduals: number[] = [];
  private readonly startResiduals: number[] = [];
  /** Duration residuals net of the start residual (ms timestamps only). */
  private readonly netResiduals: number[] = [];
  private model: TimingModel;

  constructor(initial: TimingModel, private readonly maxStartSigmaMs: number) {
    this.model = { ...initial };
  }

  get current(): TimingModel {
    return this.model;
  }

  /** The start tolerance measured at calibration, until pairs say more. */
  seedStartSigma(sigmaMs: number): void {
    this.model = { ...this.model, startSigmaMs: sigmaMs };
  }

  observe(pair: JoinedRequest, offsets: OffsetModel): void {
    const proxy = pair.proxy;
    const apm = pair.apm;
    if (proxy === null || apm === null) return;
    this.sinceFit++;
    const answered = backendAnswered(proxy);
    const durationResidual = answered ? proxy.upstreamTimeMs! - apmSpanMs(apm) : 0;
    if (answered) push(this.durationResiduals, durationResidual);
    // Coarse timestamps say nothing about the start noise beyond their resolution.
    if (proxy.timeResolutionMs <= 10) {
      const start = proxyStartMs(proxy);
      const startResidual = apmArrivalMs(apm) - start - offsetAt(offsets, start);
      push(this.startResiduals, startResidual);
      if (answered) push(this.netResiduals, durationResidual - startResidual);
    }
  }

  /** Whether the tolerances have been fitted from pairs at least once. */
  learned = false;

  /** Drops the residuals of a rehearsal, keeping the model fitted from them. */
  forget(): void {
    this.durationResiduals.length = 0;
    this.startResiduals.length = 0;
    this.netResiduals.length = 0;
  }

  private sinceFit = 0;

  /** Re-fits the tolerances after a slice, once enough new pairs have come in to matter. */
  update(): void {
    // Refitting sorts 3 × 2000 residuals: every 1000 pairs it was 3% of the join's CPU time, every 5000 under 1% (join.bench.ts).
    if (this.learned && this.sinceFit < REFIT_EVERY) return;
    this.sinceFit = 0;
    if (this.durationResiduals.length >= MIN_PAIRS) {
      this.learned = true;
      const plain = robust(this.durationResiduals);
      const net = this.netResiduals.length >= MIN_PAIRS ? robust(this.netResiduals) : null;
      const netOfStart = net !== null && net.mad < plain.mad;
      const { center, mad } = netOfStart ? net : plain;
      this.model = {
        ...this.model,
        netOfStart,
        durationCenterMs: center,
        // Allowed to grow past the 10 ms default (queueing in the app server), though only
        // from pairs the current tolerance already admits.
        durationSigmaMs: Math.min(MAX_DURATION_SIGMA_MS, Math.max(MIN_SIGMA_MS, MARGIN * 1.4826 * mad)),
        // Long requests vary more (GC, swapping); 1% keeps a 10 s request's tolerance at 100 ms.
        durationRelativeSigma: 0.01,
      };
    }
    if (this.startResiduals.length >= MIN_PAIRS) {
      const { mad } = robust(this.startResiduals);
      this.model = { ...this.model, startSigmaMs: Math.min(this.maxStartSigmaMs, Math.max(MIN_SIGMA_MS, MARGIN * 1.4826 * mad)) };
    }
  }
}

function push(list: number[], value: number): void {
  list.push(value);
  // Trimmed in halves, not per value: one splice per WINDOW pushes keeps this O(1) amortised.
  if (list.length >= 2 * WINDOW) list.splice(0, WINDOW);
}

function robust(values: readonly number[]): { center: number; mad: number } {
  const sorted = Float64Array.from(values.length > WINDOW ? values.slice(-WINDOW) : values).sort();
  const center = sorted[sorted.length >> 1]!;
  const deviations = sorted.map((value) => Math.abs(value - center)).sort();
  return { center, mad: deviations[deviations.length >> 1]! };
}
