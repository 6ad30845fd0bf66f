import { describe, expect, it } from 'vitest';
import { addWindow, emptySummary, KeyWindows, type WindowUsage } from '../../../src/detectors/budget-undercount/budget-window-ledger.js';

const WINDOW = 300_000;
const ALLOWANCE = 600_000;

function fill(window: WindowUsage, accountedMs: number, trueMs: number): void {
  window.requests++;
  window.accountedMs += accountedMs;
  window.trueMs += trueMs;
  window.admittedByAccountedMs += trueMs;
  window.admittedByTrueMs += Math.min(trueMs, ALLOWANCE);
}

describe('per-key budget windows', () => {
  it('folds closed windows into a summary equal to summing every window, and keeps only open ones open', () => {
    const ledger = new KeyWindows();
    const reference = emptySummary();
    const all: WindowUsage[] = [];
    for (let index = 0; index < 50; index++) {
      const window = ledger.window(index * WINDOW + 1000, WINDOW)!;
      // Every third window is over budget in truth while the proxy accounts a tenth of it.
      const trueMs = index % 3 === 0 ? 900_000 : 100_000;
      fill(window, trueMs / 10, trueMs);
      all.push(window);
      ledger.closeBefore(index - 4, ALLOWANCE);
      expect(ledger.open.length).toBeLessThanOrEqual(5);
    }
    for (const window of all) addWindow(reference, window, ALLOWANCE);
    expect(ledger.summary(ALLOWANCE)).toEqual(reference);
    expect(reference.over).toBe(17);
    expect(reference.missed).toBe(17);
    expect(ledger.chartWindows().map((w) => w.startMs)).toEqual(all.map((w) => w.startMs));
  });

  it('counts a request for an already closed window as late instead of reopening it', () => {
    const ledger = new KeyWindows();
    fill(ledger.window(10 * WINDOW, WINDOW)!, 1, 1);
    ledger.closeBefore(11, ALLOWANCE);
    expect(ledger.window(10 * WINDOW + 5, WINDOW)).toBeNull();
    expect(ledger.late).toBe(1);
    expect(ledger.window(11 * WINDOW, WINDOW)).not.toBeNull();
  });

  it('without a budget nothing is over, and the first accounted throttle is still the earliest seen', () => {
    const summary = emptySummary();
    addWindow(summary, { startMs: 0, accountedMs: 5, trueMs: 10_000_000, requests: 1, admittedByAccountedMs: 0, admittedByTrueMs: 0, accountedCrossedAt: 7, trueCrossedAt: 3, leaked: 0 }, null);
    expect(summary).toMatchObject({ over: 0, missed: 0, firstAccountedThrottleMs: 7, firstTrueThrottleMs: null });
  });

  it('says whether a request opened its window: only the first request of a window does', () => {
    const ledger = new KeyWindows();
    const opened = (startMs: number): boolean => {
      ledger.window(startMs, WINDOW);
      return ledger.opened;
    };
    expect(opened(3 * WINDOW)).toBe(true);
    expect(opened(3 * WINDOW + 10)).toBe(false);
    expect(opened(4 * WINDOW)).toBe(true);
    // Back to an earlier window that is still open: found, not opened again.
    expect(opened(3 * WINDOW + 20)).toBe(false);
    ledger.closeBefore(4, ALLOWANCE);
    // A closed window is not reopened.
    expect(opened(3 * WINDOW + 30)).toBe(false);
    expect(ledger.open).toHaveLength(1);
  });
});
