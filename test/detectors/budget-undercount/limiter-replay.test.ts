import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimiterReplay } from '../../../src/detectors/budget-undercount/limiter-replay.js';

const WINDOW = 60_000;
const HORIZON = 15 * 60_000;

/**
 * The limiter's contract, kept naively: every report, and the windows folded so far. A window is
 * folded when a report moves the newest report time so that the window lies wholly more than the
 * horizon behind it; from then on it is looked up against its total, later reports included.
 */
class EveryReport {
  private readonly reports: { timeMs: number; ms: number }[] = [];
  private readonly folded = new Set<number>();
  private newestMs = -Infinity;

  report(timeMs: number, ms: number): void {
    this.reports.push({ timeMs, ms });
    if (timeMs <= this.newestMs) return;
    this.newestMs = timeMs;
    const oldest = Math.floor((timeMs - HORIZON) / WINDOW);
    for (const report of this.reports) {
      const window = Math.floor(report.timeMs / WINDOW);
      if (window < oldest) this.folded.add(window);
    }
  }

  usageAt(timeMs: number): number {
    const window = Math.floor(timeMs / WINDOW);
    const inWindow = this.reports.filter((report) => Math.floor(report.timeMs / WINDOW) === window);
    const counted = this.folded.has(window) ? inWindow : inWindow.filter((report) => report.timeMs <= timeMs);
    return counted.reduce((sum, report) => sum + report.ms, 0);
  }
}

type Step =
  | { kind: 'report'; backMs: number; forwardMs: number; ms: number }
  | { kind: 'ask'; backMs: number }
  | { kind: 'close' };

/** Mostly a little behind the newest report (a late report, a question within the window), sometimes past the horizon. */
const behindMs = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 90_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 25 * 60_000 }) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('report' as const), backMs: behindMs, forwardMs: fc.integer({ min: 0, max: 30_000 }), ms: fc.integer({ min: 1, max: 120_000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ask' as const), backMs: behindMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
);

describe('limiter replay', () => {
  it('answers every question as the record of every report would, through folding, late reports and closed windows', () => {
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), (steps) => {
      const limiter = new LimiterReplay(600_000, WINDOW);
      const reference = new EveryReport();
      let clock = 10 * HORIZON;
      // The caller's contract: nothing is reported or asked below a window it closed.
      let closedBefore = -Infinity;
      const floor = (timeMs: number): number => Math.max(timeMs, closedBefore * WINDOW);
      for (const s of steps) {
        if (s.kind === 'report') {
          clock += s.forwardMs;
          const at = floor(clock - s.backMs);
          limiter.report(at, s.ms);
          reference.report(at, s.ms);
        } else if (s.kind === 'ask') {
          const at = floor(clock - s.backMs);
          expect(limiter.usageAt(at)).toBe(reference.usageAt(at));
        } else {
          closedBefore = Math.max(closedBefore, Math.floor((clock - 20 * 60_000) / WINDOW));
          limiter.forgetBefore(closedBefore);
        }
      }
    }), { numRuns: 300 });
  });

  it('folds a window first reported late, past the horizon, at the next newer report', () => {
    const limiter = new LimiterReplay(600_000, WINDOW);
    const reference = new EveryReport();
    const newest = 100 * WINDOW;
    const late = newest - 20 * 60_000;
    for (const [timeMs, ms] of [[newest, 10], [late + 5_000, 100], [late + 35_000, 50], [newest + 1, 10]] as const) {
      limiter.report(timeMs, ms);
      reference.report(timeMs, ms);
    }
    // Folded: its total, including the report made after the time asked about.
    expect(limiter.usageAt(late + 6_000)).toBe(150);
    expect(reference.usageAt(late + 6_000)).toBe(150);
  });

  it('holds only the windows not yet closed, however long the log', () => {
    const limiter = new LimiterReplay(600_000, WINDOW);
    // A day of one report a second, the caller closing windows 20 minutes behind.
    for (let second = 0; second < 86_400; second++) {
      const timeMs = second * 1000;
      limiter.report(timeMs, 50);
      if (second % 60 === 0) limiter.forgetBefore(Math.floor((timeMs - 20 * 60_000) / WINDOW));
    }
    expect(limiter.windowsHeld).toBeLessThanOrEqual(22);
  });
});
