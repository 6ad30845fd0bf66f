import { describe, expect, it } from 'vitest';
import { MIN_REQUESTS, severityOf } from '../../src/model/severity.js';

describe('the one severity rule (docs/severity.md)', () => {
  it('rises with the excess over healthy background: 5% high, 1% medium', () => {
    expect(severityOf({ affected: 600, total: 10_000, background: 0.005 })).toBe('high');
    expect(severityOf({ affected: 200, total: 10_000, background: 0.005 })).toBe('medium');
    expect(severityOf({ affected: 100, total: 10_000, background: 0.005 })).toBe('low');
  });

  it('rises with the cohort\'s share only where enough of the cohort\'s requests were affected', () => {
    // 30% of a cohort with 50 affected: high; with 49: the medium rule (10% with 20) still holds.
    expect(severityOf({ affected: 50, total: 1_000_000, background: 0, cohortShare: 0.3 })).toBe('high');
    expect(severityOf({ affected: 49, total: 1_000_000, background: 0, cohortShare: 0.3 })).toBe('medium');
    expect(severityOf({ affected: 20, total: 1_000_000, background: 0, cohortShare: 0.1 })).toBe('medium');
  });

  it('counts a cohort\'s own affected requests where the cohort is a part of what the finding counts', () => {
    // 87 errors in a log, 32 of them in a burst that failed 71% of its requests: the burst's 32
    // are what its share is of (a real nginx log's websocket reconnects during 9-second restarts).
    expect(severityOf({ affected: 87, total: 1_000_000, background: 0, cohortShare: 0.71 })).toBe('high');
    expect(severityOf({ affected: 87, total: 1_000_000, background: 0, cohortShare: 0.71, cohortAffected: 32 })).toBe('medium');
    expect(severityOf({ affected: 87, total: 1_000_000, background: 0, cohortShare: 0.71, cohortAffected: 19 })).toBe('low');
  });

  it('keeps anything below the minimum of affected requests at low, and a cost at medium', () => {
    expect(severityOf({ affected: MIN_REQUESTS - 1, total: MIN_REQUESTS - 1, background: 0, cohortShare: 1 })).toBe('low');
    expect(severityOf({ affected: 5_000, total: 10_000, background: 0, cohortShare: 1, costOnly: true })).toBe('medium');
    expect(severityOf({ affected: 30, total: 1_000_000, background: 0, lostSeconds: 3600 })).toBe('high');
  });
});
