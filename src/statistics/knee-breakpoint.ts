/**
 * A cross-check for the client-timeout knee, independent of the density method: bin joined pairs
 * by backend time (250 ms), take the median client time in each bin, and fit a two-segment
 * line (segmented regression, every split between bins tried). Below a client
 * timeout T the medians follow the backend (slope ≈ 1); above it they stay at T (slope ≈ 0), so
 * the breakpoint lands on T. Medians come from a per-bin histogram of client/backend ratios
 * (0.1% steps: 20 ms at 20 s), so memory is fixed: 240 × 1001 counters, about 1 MB.
 */

const BACKEND_BIN_MS = 250;
const BACKEND_BINS = 240; // up to 60 s
const RATIO_STEPS = 1000;
const MIN_PER_BIN = 5;
const MIN_BINS_PER_SIDE = 3;

export interface Breakpoint {
  /** Backend time where the regime changes. */
  breakpointMs: number;
  /** Client time the right-hand segment starts at: the timeout, when the break is one. */
  plateauMs: number;
  slopeBefore: number;
  slopeAfter: number;
  /** Bins (points) the fit used. */
  points: number;
}

export class BreakpointSketch {
  private readonly counts = new Uint32Array(BACKEND_BINS * (RATIO_STEPS + 1));
  private readonly totals = new Uint32Array(BACKEND_BINS);
  /** Sum of backend times per bin: the bin's x is its mean, not its centre. */
  private readonly sums = new Float64Array(BACKEND_BINS);

  observe(backendMs: number, clientMs: number): void {
    if (!(backendMs > 0)) return;
    const bin = Math.floor(backendMs / BACKEND_BIN_MS);
    if (bin >= BACKEND_BINS) return;
    const ratio = Math.min(1, Math.max(0, clientMs / backendMs));
    this.counts[bin * (RATIO_STEPS + 1) + Math.round(ratio * RATIO_STEPS)]!++;
    this.totals[bin]!++;
    this.sums[bin]! += backendMs;
  }

  /** (backend seconds, median client seconds, count) per populated bin. */
  medians(): { x: number; y: number; n: number }[] {
    const out: { x: number; y: number; n: number }[] = [];
    for (let bin = 0; bin < BACKEND_BINS; bin++) {
      const n = this.totals[bin]!;
      if (n < MIN_PER_BIN) continue;
      let seen = 0;
      let ratio = 1;
      for (let step = 0; step <= RATIO_STEPS; step++) {
        seen += this.counts[bin * (RATIO_STEPS + 1) + step]!;
        if (seen >= n / 2) { ratio = step / RATIO_STEPS; break; }
      }
      const x = this.sums[bin]! / n / 1000;
      out.push({ x, y: ratio * x, n });
    }
    return out;
  }

  fit(): Breakpoint | null {
    return fitSegmented(this.medians());
  }
}

interface Line {
  intercept: number;
  slope: number;
  sse: number;
}

/** Weighted least-squares line through points[from, to); weights capped so one busy bin cannot dominate. */
function fitLine(points: readonly { x: number; y: number; n: number }[], from: number, to: number): Line | null {
  let sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = from; i < to; i++) {
    const p = points[i]!;
    const w = Math.min(p.n, 50);
    sw += w; sx += w * p.x; sy += w * p.y; sxx += w * p.x * p.x; sxy += w * p.x * p.y;
  }
  const denominator = sw * sxx - sx * sx;
  if (sw === 0 || Math.abs(denominator) < 1e-12) return null;
  const slope = (sw * sxy - sx * sy) / denominator;
  const intercept = (sy - slope * sx) / sw;
  let sse = 0;
  for (let i = from; i < to; i++) {
    const p = points[i]!;
    sse += Math.min(p.n, 50) * (p.y - intercept - slope * p.x) ** 2;
  }
  return { intercept, slope, sse };
}

/**
 * Two-segment regression, each side its own line (not forced to meet: where clients with and
 * without the timeout mix, the medians can drop at the break). The split with the least total
 * squared error wins; the plateau is the weighted median of the right-hand medians (robust to
 * the few bins where other clients still dominate), the client time requests pile up at: T,
 * when the break is a client timeout.
 */
export function fitSegmented(points: readonly { x: number; y: number; n: number }[]): Breakpoint | null {
  if (points.length < 2 * MIN_BINS_PER_SIDE) return null;
  let best: { split: number; left: Line; right: Line } | null = null;
  for (let split = MIN_BINS_PER_SIDE; split <= points.length - MIN_BINS_PER_SIDE; split++) {
    const left = fitLine(points, 0, split);
    const right = fitLine(points, split, points.length);
    if (left === null || right === null) continue;
    if (best === null || left.sse + right.sse < best.left.sse + best.right.sse) best = { split, left, right };
  }
  if (best === null) return null;
  const first = points[best.split]!;
  const last = points[best.split - 1]!;
  return {
    breakpointMs: Math.round(((first.x + last.x) / 2) * 1000),
    plateauMs: Math.round(weightedMedianY(points.slice(best.split)) * 1000),
    slopeBefore: best.left.slope,
    slopeAfter: best.right.slope,
    points: points.length,
  };
}

function weightedMedianY(points: readonly { y: number; n: number }[]): number {
  const sorted = [...points].sort((a, b) => a.y - b.y);
  const total = sorted.reduce((sum, p) => sum + Math.min(p.n, 50), 0);
  let seen = 0;
  for (const p of sorted) {
    seen += Math.min(p.n, 50);
    if (seen >= total / 2) return p.y;
  }
  return sorted[sorted.length - 1]?.y ?? 0;
}
