/**
 * Per-key budget windows with bounded memory. A key's windows stay open while requests may still
 * land in them (records arrive in rough end order), then fold into a running summary; only a
 * bounded number of closed windows is kept as chart rows, for the keys with the largest gap
 * between true and accounted time (the ones the report draws).
 */

export interface WindowUsage {
  startMs: number;
  accountedMs: number;
  trueMs: number;
  requests: number;
  /** Worker time (true) consumed by requests each limiter would have admitted. */
  admittedByAccountedMs: number;
  admittedByTrueMs: number;
  /** When each limiter first refused a request (start time) in this window. */
  accountedCrossedAt: number | null;
  trueCrossedAt: number | null;
  /** Requests the accounted limiter admitted although true usage was already over budget. */
  leaked: number;
}

/** What the finding needs from all of a key's windows. */
export interface WindowSummary {
  /** Windows where true use reached the allowance. */
  over: number;
  /** ...and the accounted use did not: the proxy-side limiter never fired. */
  missed: number;
  leaked: number;
  /** Worker time consumed in over-budget windows under each limiter. */
  consumedAccountedMs: number;
  consumedTrueMs: number;
  firstTrueThrottleMs: number | null;
  firstAccountedThrottleMs: number | null;
}

export function emptySummary(): WindowSummary {
  return { over: 0, missed: 0, leaked: 0, consumedAccountedMs: 0, consumedTrueMs: 0, firstTrueThrottleMs: null, firstAccountedThrottleMs: null };
}

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/** Adds one finished window to a summary (allowance null: no budget, nothing is over). */
export function addWindow(summary: WindowSummary, window: WindowUsage, allowanceMs: number | null): void {
  summary.leaked += window.leaked;
  summary.firstAccountedThrottleMs = earliest(summary.firstAccountedThrottleMs, window.accountedCrossedAt);
  if (allowanceMs === null || window.trueMs < allowanceMs) return;
  summary.over++;
  if (window.accountedMs < allowanceMs) summary.missed++;
  summary.consumedAccountedMs += window.admittedByAccountedMs;
  summary.consumedTrueMs += window.admittedByTrueMs;
  summary.firstTrueThrottleMs = earliest(summary.firstTrueThrottleMs, window.trueCrossedAt);
}

export class KeyWindows {
  /**
   * Open windows in the order they were opened, and their indices beside them: a key has a few
   * open at a time (20 minutes of grace over 5-minute windows), so a short scan finds one. They
   * were a Map per key: a hash table per key to insert into and delete from at every window's
   * close, ~500 k times over the bench's 1 M high-cardinality extended records.
   */
  readonly open: WindowUsage[] = [];
  private readonly openIndices: number[] = [];
  readonly closed = emptySummary();
  /** Closed windows kept for the chart, oldest first; may be dropped under the row budget. */
  rows: WindowUsage[] = [];
  /** Requests that arrived for a window already closed: in the key's totals, not in window figures. */
  late = 0;
  private closedBefore = -Infinity;
  /**
   * The window asked for last: a key's requests mostly fall in the window of its previous one, so
   * this skips the search (one cache miss per request among 5,000 keys' open windows).
   */
  private lastIndex = Number.NaN;
  private last: WindowUsage | null = null;
  /**
   * Whether the last call of window() opened its window. The caller had compared the open
   * windows' count before and after, a third dependent read (key, ledger, its table) on every
   * request. With the chart-row slack (budget-undercount.ts), the detector alone over the bench's
   * 1 M high-cardinality extended records, in-process: 737-848 -> 717-776 ms CPU (medians of 7,
   * two alternating rounds; a machine this noisy shows little more than the direction).
   */
  opened = false;

  /** The window a request starting at `startMs` belongs to, or null when that window is closed. */
  window(startMs: number, windowMs: number): WindowUsage | null {
    const index = Math.floor(startMs / windowMs);
    this.opened = false;
    if (index === this.lastIndex) return this.last;
    if (index < this.closedBefore) {
      this.late++;
      return null;
    }
    const at = this.openIndices.indexOf(index);
    let window: WindowUsage;
    if (at >= 0) {
      window = this.open[at]!;
    } else {
      window = {
        startMs: index * windowMs, accountedMs: 0, trueMs: 0, requests: 0,
        admittedByAccountedMs: 0, admittedByTrueMs: 0, accountedCrossedAt: null, trueCrossedAt: null, leaked: 0,
      };
      this.open.push(window);
      this.openIndices.push(index);
      this.opened = true;
    }
    this.lastIndex = index;
    this.last = window;
    return window;
  }

  /** Folds every open window with an index below `index`; returns how many chart rows were added. */
  closeBefore(index: number, allowanceMs: number | null): number {
    this.closedBefore = Math.max(this.closedBefore, index);
    if (this.lastIndex < this.closedBefore) {
      this.lastIndex = Number.NaN;
      this.last = null;
    }
    let kept = 0;
    for (let i = 0; i < this.open.length; i++) {
      const window = this.open[i]!;
      const windowIndex = this.openIndices[i]!;
      if (windowIndex >= index) {
        this.open[kept] = window;
        this.openIndices[kept] = windowIndex;
        kept++;
        continue;
      }
      addWindow(this.closed, window, allowanceMs);
      this.rows.push(window);
    }
    const added = this.open.length - kept;
    if (added > 0) {
      this.open.length = kept;
      this.openIndices.length = kept;
    }
    return added;
  }

  /** The closed summary plus the windows still open (at the end of the input). */
  summary(allowanceMs: number | null): WindowSummary {
    const total = { ...this.closed };
    for (const window of this.open) addWindow(total, window, allowanceMs);
    return total;
  }

  /** Every window still known, in time order, for the chart. */
  chartWindows(): WindowUsage[] {
    return [...this.rows, ...this.open].sort((a, b) => a.startMs - b.startMs);
  }
}
