import { describe, expect, it } from 'vitest';
import { fingerprintRequest, RecentRequests } from '../../../src/detectors/retry-storms/recent-requests.js';

function print(client: string, method: string | null, path: string, query: string | null): [number, number] {
  const out = new Int32Array(2);
  fingerprintRequest(client, method, path, query, out);
  return [out[0]!, out[1]!];
}

describe('fingerprintRequest', () => {
  it('is the same for the same request and differs when any part differs', () => {
    const base = print('key_1', 'GET', '/v1/orders', 'page=2');
    expect(print('key_1', 'GET', '/v1/orders', 'page=2')).toEqual(base);
    expect(print('key_2', 'GET', '/v1/orders', 'page=2')).not.toEqual(base);
    expect(print('key_1', 'POST', '/v1/orders', 'page=2')).not.toEqual(base);
    expect(print('key_1', 'GET', '/v1/order', 'page=2')).not.toEqual(base);
    expect(print('key_1', 'GET', '/v1/orders', 'page=3')).not.toEqual(base);
  });

  it('tells part boundaries apart, and a missing part from an empty one', () => {
    expect(print('ab', 'GET', '/x', null)).not.toEqual(print('a', 'bGET', '/x', null));
    expect(print('k', 'GET', '/x', null)).not.toEqual(print('k', 'GET', '/x', ''));
    expect(print('k', null, '/x', null)).not.toEqual(print('k', '', '/x', null));
  });

  it('spreads 100,000 distinct URLs over 100,000 distinct fingerprints', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(print('10.0.0.1', 'GET', `/v1/items/${i}`, `page=${i % 7}`).join(':'));
    expect(seen.size).toBe(100_000);
  });
});

describe('RecentRequests', () => {
  it('answers the latest request remembered for a fingerprint, and null for one never seen', () => {
    const recent = new RecentRequests(10_000, 1_000);
    recent.remember(1, 2, 1_000, true, 1, 1_000);
    recent.remember(1, 2, 2_000, false, 2, 2_000, true);
    expect(recent.latest(1, 2)).toEqual({ endMs: 2_000, failed: false, attempts: 2, chainCounted: true });
    expect(recent.latest(1, 3)).toBeNull();
  });

  it('keeps an entry for at least one generation and forgets it after two', () => {
    const recent = new RecentRequests(10_000, 1_000);
    recent.remember(7, 7, 0, true, 1, 0);
    recent.remember(8, 8, 9_999, false, 1, 9_999);
    recent.remember(9, 9, 10_000, false, 1, 10_000); // turns the generation over
    expect(recent.latest(7, 7)?.endMs).toBe(0);
    recent.remember(9, 9, 20_000, false, 1, 20_000); // and again: the first generation is gone
    expect(recent.latest(7, 7)).toBeNull();
    expect(recent.latest(9, 9)?.endMs).toBe(20_000);
  });

  it('does not forget recent requests because one line is far ahead in time (logs are only roughly ordered)', () => {
    const recent = new RecentRequests(75_000, 1_000);
    recent.remember(1, 1, 0, true, 1, 0);
    recent.remember(2, 2, 60_000, false, 1, 60_000); // a slow request logged at its end, among earlier ones
    recent.remember(3, 3, 1_000, false, 1, 1_000);
    expect(recent.latest(1, 1)?.endMs).toBe(0);
  });

  it('finds a key remembered in the previous generation and updated in the current one at its newest', () => {
    const recent = new RecentRequests(10_000, 1_000);
    recent.remember(5, 5, 1_000, true, 1, 1_000);
    recent.remember(6, 6, 12_000, false, 1, 12_000);
    recent.remember(5, 5, 12_500, true, 2, 12_500);
    expect(recent.latest(5, 5)).toEqual({ endMs: 12_500, failed: true, attempts: 2, chainCounted: false });
  });

  it('grows past its first table without losing entries', () => {
    const recent = new RecentRequests(60_000, 100_000);
    for (let i = 0; i < 20_000; i++) recent.remember(i, i * 31, i, i % 2 === 0, 1 + (i % 5), 0, i % 3 === 0);
    expect(recent.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 997) expect(recent.latest(i, i * 31)).toEqual({ endMs: i, failed: i % 2 === 0, attempts: 1 + (i % 5), chainCounted: i % 3 === 0 });
  });

  it('turns over early rather than holding more than its cap', () => {
    const recent = new RecentRequests(60_000, 5_000);
    for (let i = 0; i < 50_000; i++) recent.remember(i, -i, i, false, 1, 0);
    expect(recent.size).toBeLessThanOrEqual(2 * 5_000);
    expect(recent.latest(49_999, -49_999)?.endMs).toBe(49_999);
    expect(recent.latest(0, 0)).toBeNull();
  });
});
