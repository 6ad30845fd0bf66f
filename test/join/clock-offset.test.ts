import { describe, expect, it } from 'vitest';
import { estimateClockOffset } from '../../src/join/clock-offset.js';
import { emptyApmTransaction } from '../../src/model/records.js';
import { JoinScenario } from '../generators/join-scenarios.js';

function firstMinute(options: ConstructorParameters<typeof JoinScenario>[0]) {
  const { proxies, transactions } = new JoinScenario({ durationSeconds: 60, ...options }).collect();
  return { proxies, transactions };
}

describe('estimateClockOffset', () => {
  for (const skewMs of [-3000, -250, 0, 1200, 3000]) {
    it(`finds a ${skewMs} ms skew within 3 ms from ms timestamps on a busy URL`, () => {
      const { proxies, transactions } = firstMinute({ skewMs, hotRatePerSecond: 200 });
      const estimate = estimateClockOffset(proxies, transactions, 30_000)!;
      // The generator's APM start trails the proxy start by 0.3-2.5 ms of dispatch.
      expect(Math.abs(estimate.offsetMs - (skewMs + 1.4))).toBeLessThan(3);
      expect(estimate.supportingPairs).toBeGreaterThan(500);
      expect(estimate.jitterMs).not.toBeNull();
      expect(estimate.jitterMs!).toBeLessThan(5);
    });
  }

  it('is not pulled towards -maxSkew by busy URLs (the old first-400-candidates bias)', () => {
    const { proxies, transactions } = firstMinute({ skewMs: 2000, hotRatePerSecond: 300, backgroundRatePerSecond: 0 });
    const estimate = estimateClockOffset(proxies, transactions, 30_000)!;
    expect(Math.abs(estimate.offsetMs - 2001.4)).toBeLessThan(3);
  });

  it('finds the skew within a quarter of the resolution from 1 s timestamps, and reports no jitter', () => {
    const { proxies, transactions } = firstMinute({ skewMs: -1700, resolution: 's', hotRatePerSecond: 20 });
    const estimate = estimateClockOffset(proxies, transactions, 30_000)!;
    expect(Math.abs(estimate.offsetMs - -1700)).toBeLessThan(250);
    expect(estimate.jitterMs).toBeNull();
  });

  it('returns null when no key is shared', () => {
    const { proxies } = firstMinute({});
    const other = emptyApmTransaction('nr', 'b.csv', 2, '');
    other.method = 'GET';
    other.path = '/elsewhere';
    other.startMs = proxies[0]!.endMs;
    expect(estimateClockOffset(proxies, [other], 30_000)).toBeNull();
  });

  it('ignores offsets beyond maxSkew', () => {
    const { proxies, transactions } = firstMinute({ skewMs: 12_000, hotRatePerSecond: 50 });
    const estimate = estimateClockOffset(proxies, transactions, 5_000);
    expect(estimate === null || Math.abs(estimate.offsetMs - 12_000) > 5_000).toBe(true);
  });
});
