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
 * Windows the caller has closed are forgotten (forgetBefore), so memory is the reports of the
 * last few windows, never the whole log.
 */

const HORIZON_MS = 15 * 60_000;

/**
 * The recent reports are kept in time order in three parallel arrays, whatever their window: a
 * window's reports are a run of them, and folded windows are a prefix. They were a Map entry, an
 * object and two arrays per key and window (~500 k of each per limiter over a day of the bench's
 * high-cardinality traffic, most with one or two reports). The detector alone over the bench's
 * 1 M high-cardinality extended records with `--budget 600s/5m`, in-process: 5.9 -> 1.8 s CPU;
 * with forgetBefore, `alf analyze` of them 10.9 -> 8.7 s CPU and 337 -> 268 MB peak RSS
 * (medians of 3, alternating).
 */
export class LimiterReplay {
  /** Report times, ascending. */
  private readonly times: number[] = [];
  /** The window of each report. */
  private readonly windows: number[] = [];
  /** The reported ms of its window's reports up to and including each report. */
  private readonly sums: number[] = [];
  /** Folded windows and their totals; a key has a few until the caller closes them. */
  private readonly foldedIndex: number[] = [];
  private readonly foldedTotal: number[] = [];
  private newestMs = -Infinity;
  /**
   * Windows below this were folded when the newest report last moved it. Folding runs when it
   * moves, or after a late report opened a window below it, instead of at every newer report:
   * the same windows are folded at the same reports.
   */
  private foldedBefore = -Infinity;
  private lateWindow = false;

  constructor(
    readonly allowanceMs: number,
    readonly windowMs: number,
  ) {}

  private windowOf(timeMs: number): number {
    return Math.floor(timeMs / this.windowMs);
  }

  usageAt(timeMs: number): number {
    const index = this.windowOf(timeMs);
    const folded = this.foldedIndex.lastIndexOf(index);
    if (folded >= 0) return this.foldedTotal[folded]!;
    // Last report at or before timeMs: its window's running sum if it is in this window (every
    // report of the window up to timeMs is before it), else none of this window's is.
    let low = 0;
    let high = this.times.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (this.times[mid]! <= timeMs) { found = mid; low = mid + 1; } else high = mid - 1;
    }
    return found >= 0 && this.windows[found] === index ? this.sums[found]! : 0;
  }

  admits(startMs: number): boolean {
    return this.usageAt(startMs) < this.allowanceMs;
  }

  report(timeMs: number, ms: number): void {
    const index = this.windowOf(timeMs);
    const folded = this.foldedIndex.lastIndexOf(index);
    if (folded >= 0) {
      this.foldedTotal[folded]! += ms;
      return;
    }
    const { times, windows, sums } = this;
    // Reports arrive nearly in time order: walk back from the end to the insertion point.
    let at = times.length;
    while (at > 0 && times[at - 1]! > timeMs) at--;
    const sameBefore = at > 0 && windows[at - 1] === index;
    if (!sameBefore && !(at < times.length && windows[at] === index) && index < this.foldedBefore) this.lateWindow = true;
    const sum = (sameBefore ? sums[at - 1]! : 0) + ms;
    if (at === times.length) {
      times.push(timeMs);
      windows.push(index);
      sums.push(sum);
    } else {
      times.splice(at, 0, timeMs);
      windows.splice(at, 0, index);
      sums.splice(at, 0, sum);
      for (let i = at + 1; i < sums.length && windows[i] === index; i++) sums[i]! += ms;
    }
    if (timeMs > this.newestMs) {
      this.newestMs = timeMs;
      const oldest = this.windowOf(timeMs - HORIZON_MS);
      if (oldest > this.foldedBefore || this.lateWindow) this.fold(oldest);
    }
  }

  /** Folds the windows below `oldest` (a prefix of the reports) to their totals. */
  private fold(oldest: number): void {
    this.foldedBefore = Math.max(this.foldedBefore, oldest);
    this.lateWindow = false;
    let cut = 0;
    while (cut < this.windows.length && this.windows[cut]! < oldest) {
      const window = this.windows[cut]!;
      while (cut + 1 < this.windows.length && this.windows[cut + 1] === window) cut++;
      this.foldedIndex.push(window);
      this.foldedTotal.push(this.sums[cut]!);
      cut++;
    }
    this.dropReports(cut);
  }

  /**
   * Forgets the windows below `index`, which the caller has closed: no request is checked or
   * reported there again. The folded totals had grown by a window per key for the whole log: a
   * day of the bench's high-cardinality extended traffic with `--budget 600s/5m` took 341 MB of
   * peak RSS against 229 MB without a budget.
   */
  forgetBefore(index: number): void {
    let kept = 0;
    for (let i = 0; i < this.foldedIndex.length; i++) {
      if (this.foldedIndex[i]! < index) continue;
      this.foldedIndex[kept] = this.foldedIndex[i]!;
      this.foldedTotal[kept] = this.foldedTotal[i]!;
      kept++;
    }
    if (kept !== this.foldedIndex.length) {
      // Setting an array's length is a runtime call: only when something was forgotten.
      this.foldedIndex.length = kept;
      this.foldedTotal.length = kept;
    }
    let cut = 0;
    while (cut < this.windows.length && this.windows[cut]! < index) cut++;
    this.dropReports(cut);
  }

  /** Windows held, folded or not (tests: memory stays with the open windows). */
  get windowsHeld(): number {
    let distinct = 0;
    for (let i = 0; i < this.windows.length; i++) if (i === 0 || this.windows[i] !== this.windows[i - 1]) distinct++;
    return this.foldedIndex.length + distinct;
  }

  /** Drops the first `count` reports. */
  private dropReports(count: number): void {
    if (count === 0) return;
    this.times.splice(0, count);
    this.windows.splice(0, count);
    this.sums.splice(0, count);
  }
}
