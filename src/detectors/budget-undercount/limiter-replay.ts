/**
 * A fixed-window worker-time limiter, replayed over requests that arrive in (rough) end order:
 * at a request's *start* it admits the request when the usage *reported by then* in the current
 * window is under the allowance, and an admitted request reports its time when it finishes.
 * Requests that started earlier but finished after this one started do not count yet, exactly
 * as for a real limiter; refused requests report nothing (they were never run).
 *
 * Per window the reports are kept sorted by report time with running sums, so "usage at t" is a
 * binary search. Windows more than HORIZON_MS behind the newest report are folded to their
 * total (a request that started that long ago is looked up against the total: an upper bound).
 * Memory is the reports of the last few windows, never the whole log.
 */

const HORIZON_MS = 15 * 60_000;

interface WindowReports {
  times: number[];
  /** cumulative[i] = sum of reported ms of reports 0..i. */
  cumulative: number[];
}

export class LimiterReplay {
  private readonly recent = new Map<number, WindowReports>();
  private readonly folded = new Map<number, number>();
  private newestMs = -Infinity;

  constructor(
    readonly allowanceMs: number,
    readonly windowMs: number,
  ) {}

  private windowOf(timeMs: number): number {
    return Math.floor(timeMs / this.windowMs);
  }

  usageAt(timeMs: number): number {
    const index = this.windowOf(timeMs);
    const folded = this.folded.get(index);
    if (folded !== undefined) return folded;
    const reports = this.recent.get(index);
    if (!reports || reports.times.length === 0) return 0;
    // Last report at or before timeMs.
    let low = 0;
    let high = reports.times.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (reports.times[mid]! <= timeMs) { found = mid; low = mid + 1; } else high = mid - 1;
    }
    return found < 0 ? 0 : reports.cumulative[found]!;
  }

  admits(startMs: number): boolean {
    return this.usageAt(startMs) < this.allowanceMs;
  }

  report(timeMs: number, ms: number): void {
    const index = this.windowOf(timeMs);
    const folded = this.folded.get(index);
    if (folded !== undefined) {
      this.folded.set(index, folded + ms);
      return;
    }
    let reports = this.recent.get(index);
    if (!reports) this.recent.set(index, (reports = { times: [], cumulative: [] }));
    // Reports arrive nearly in time order: walk back from the end to the insertion point.
    let at = reports.times.length;
    while (at > 0 && reports.times[at - 1]! > timeMs) at--;
    const before = at > 0 ? reports.cumulative[at - 1]! : 0;
    reports.times.splice(at, 0, timeMs);
    reports.cumulative.splice(at, 0, before + ms);
    for (let i = at + 1; i < reports.cumulative.length; i++) reports.cumulative[i]! += ms;
    if (timeMs > this.newestMs) {
      this.newestMs = timeMs;
      this.fold();
    }
  }

  private fold(): void {
    const oldest = this.windowOf(this.newestMs - HORIZON_MS);
    for (const [index, reports] of this.recent) {
      if (index >= oldest) continue;
      this.folded.set(index, reports.cumulative[reports.cumulative.length - 1] ?? 0);
      this.recent.delete(index);
    }
  }
}
