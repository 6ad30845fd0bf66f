import { describe, expect, it } from 'vitest';
import { estimateClockOffset } from '../../src/join/clock-offset.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';
import { JoinScenario } from '../generators/join-scenarios.js';
import { SeededRandom } from '../generators/random.js';

/** One request as nginx logs it with `$time_local` (stamped at its end, truncated to the second) and as the backend's agent records it. */
function wholeSecondRequest(
  path: string, agent: string, startMs: number, durationMs: number, offsetMs: number, line: number,
): { proxy: ProxyRecord; transaction: ApmTransaction } {
  const proxy = emptyProxyRecord('nginx', 'access.log', line, '');
  const endMs = startMs + durationMs + 1;
  Object.assign(proxy, {
    endMs: Math.floor(endMs / 1000) * 1000, timeResolutionMs: 1000, method: 'GET', path, status: 200, requestTimeMs: durationMs + 1,
    upstreamLogged: true, upstreamStatus: 200, upstreamTimeMs: durationMs + 1, userAgent: agent,
  });
  const transaction = emptyApmTransaction('nr', 'export.csv', line, '');
  Object.assign(transaction, { startMs: startMs + offsetMs, durationMs, method: 'GET', path, status: 200, userAgent: agent });
  return { proxy, transaction };
}

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

  it('from 1 s timestamps, is not pulled towards a burst of identical requests logged in one second', () => {
    // Ten paths at about one request a second each, and one client firing 20 identical calls at
    // once, 0.9 s into a second: truncated, the burst's candidates all sit 400 ms from the true
    // offset, and counted one vote each, its 400 votes outweighed the scattered true ones.
    const random = new SeededRandom(7);
    const offsetMs = 1300;
    const proxies: ProxyRecord[] = [];
    const transactions: ApmTransaction[] = [];
    const add = (request: { proxy: ProxyRecord; transaction: ApmTransaction }): void => {
      proxies.push(request.proxy);
      transactions.push(request.transaction);
    };
    for (let second = 0; second < 60; second++) {
      for (let path = 0; path < 10; path++) {
        add(wholeSecondRequest(`/api/p${path}`, `agent-${path}`, 1_700_000_000_000 + (second + random.next()) * 1000, 10 + Math.floor(random.next() * 190), offsetMs, proxies.length + 1));
      }
    }
    for (let call = 0; call < 20; call++) {
      add(wholeSecondRequest('/api/items', 'bulk-sync/1.0', 1_700_000_030_850 + call, 36, offsetMs, proxies.length + 1));
    }
    proxies.sort((a, b) => a.endMs - b.endMs);
    transactions.sort((a, b) => a.startMs - b.startMs);
    const estimate = estimateClockOffset(proxies, transactions, 30_000)!;
    expect(Math.abs(estimate.offsetMs - offsetMs)).toBeLessThan(100);
    // Each request counts about once (chance pairs add a few): the burst's twenty are not four hundred.
    expect(estimate.supportingPairs).toBeLessThan(1.1 * proxies.length);
  });
});
