import type { JoinedRequest } from '../model/records.js';

/**
 * Client-facing time distribution on log-spaced bins (20 per decade from 1 ms to ~3 h):
 * constant memory, and walls at 5, 29, 60 s stand out on a log axis.
 */
const BINS_PER_DECADE = 20;
const DECADES = 7; // 1 ms .. 10^7 ms

export interface LatencyBin {
  lowSeconds: number;
  highSeconds: number;
  count: number;
}

/** The bin of a client-facing time in ms: 0 below 1 ms, then 20 per decade. */
export function latencyBinIndex(ms: number): number {
  return ms < 1 ? 0 : Math.min(BINS_PER_DECADE * DECADES, Math.floor(Math.log10(ms) * BINS_PER_DECADE) + 1);
}

/** A bin's bounds in seconds. */
export function latencyBinSeconds(index: number): { lowSeconds: number; highSeconds: number } {
  const low = index === 0 ? 0 : 10 ** ((index - 1) / BINS_PER_DECADE);
  return { lowSeconds: low / 1000, highSeconds: 10 ** (index / BINS_PER_DECADE) / 1000 };
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BINS_PER_DECADE * DECADES + 1);
  total = 0;

  observe(request: JoinedRequest): void {
    const ms = request.proxy?.requestTimeMs;
    if (ms === null || ms === undefined) return;
    this.counts[latencyBinIndex(ms)]!++;
    this.total++;
  }

  bins(): LatencyBin[] {
    const out: LatencyBin[] = [];
    this.counts.forEach((count, index) => {
      if (count === 0) return;
      out.push({ ...latencyBinSeconds(index), count });
    });
    return out;
  }
}
