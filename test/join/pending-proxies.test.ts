import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyProxyRecord, type ProxyRecord } from '../../src/model/records.js';
import { proxyStartMs } from '../../src/join/pair-cost.js';
import { PendingProxies } from '../../src/join/pending-proxies.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);

function record(endOffsetMs: number, requestTimeMs: number): ProxyRecord {
  const proxy = emptyProxyRecord('nginx', 'access.log', 1, '');
  proxy.endMs = T0 + endOffsetMs;
  proxy.requestTimeMs = requestTimeMs;
  proxy.startMs = proxy.endMs - requestTimeMs;
  return proxy;
}

describe('proxy records waiting for their slice', () => {
  it('count those that started at or after a time, and hand over those that started before a cut, each once', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 120_000 }), fc.integer({ min: 0, max: 65_000 })), { maxLength: 200 }),
      fc.integer({ min: -70_000, max: 130_000 }),
      fc.integer({ min: -70_000, max: 130_000 }),
      (specs, from, cut) => {
        const pending = new PendingProxies();
        const records = specs.map(([end, duration]) => record(end, duration));
        for (const r of records) pending.add(r);
        expect(pending.countFrom(T0 + from)).toBe(records.filter((r) => proxyStartMs(r) >= T0 + from).length);
        expect(pending.countFrom(-Infinity)).toBe(records.length);
        const taken = pending.takeBefore(T0 + cut);
        expect(new Set(taken)).toEqual(new Set(records.filter((r) => proxyStartMs(r) < T0 + cut)));
        expect(pending.size).toBe(records.length - taken.length);
        expect(pending.countFrom(-Infinity)).toBe(records.length - taken.length);
      },
    ), { numRuns: 300 });
  });
});
