import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApmWindow } from '../../src/join/apm-window.js';
import { emptyJoinStats } from '../../src/join/join-stats.js';
import { CONCRETE } from '../../src/join/keys.js';
import { emptyApmTransaction, type ApmTransaction, type JoinedRequest } from '../../src/model/records.js';

const T0 = Date.UTC(2025, 0, 15, 10, 0, 0);
const PATHS = ['/v1/orders', '/v1/orders/17', '/v1/users', '/health'];

function transaction(startOffsetMs: number, path: string, traceId: string | null): ApmTransaction {
  const t = emptyApmTransaction('newrelic-csv', 'export.csv', 2, `${startOffsetMs} ${path}`);
  t.startMs = T0 + startOffsetMs;
  t.durationMs = 10;
  t.path = path;
  t.traceId = traceId;
  return t;
}

describe('the APM side of the join window', () => {
  it('lets go of a transaction in every index as it leaves, and reports it unjoined once', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 60_000 }), fc.constantFrom(...PATHS), fc.boolean()), { maxLength: 120 }),
      fc.array(fc.integer({ min: 0, max: 70_000 }), { maxLength: 6 }),
      (specs, cuts) => {
        const window = new ApmWindow(undefined, emptyJoinStats());
        // In start order, as an oldest-first export arrives; ids shared by a few so lists have several.
        const transactions = specs
          .map(([start, path, traced], i) => transaction(start, path, traced ? `trace-${i % 3}` : null))
          .sort((a, b) => a.startMs - b.startMs);
        for (const t of transactions) window.add(t);
        const left: JoinedRequest[] = [];
        let expiry = -Infinity;
        for (const cut of [...cuts].sort((a, b) => a - b)) {
          expiry = T0 + cut;
          window.expire(expiry, 0, left);
        }
        const staying = transactions.filter((t) => t.startMs >= expiry);
        expect(left.map((request) => request.apm)).toEqual(transactions.filter((t) => t.startMs < expiry));
        expect(window.size).toBe(staying.length);
        for (const path of PATHS) {
          const listed = window.index.byKey.get(CONCRETE, path)?.map((slot) => slot.apm) ?? [];
          expect(listed).toEqual(staying.filter((t) => t.path === path));
        }
        for (let id = 0; id < 3; id++) {
          const listed = window.index.byTraceId.get(`trace-${id}`)?.map((slot) => slot.apm) ?? [];
          expect(new Set(listed)).toEqual(new Set(staying.filter((t) => t.traceId === `trace-${id}`)));
        }
      },
    ), { numRuns: 300 });
  });

  it('still finds, by path, a transaction added after others on its path have left', () => {
    const window = new ApmWindow(undefined, emptyJoinStats());
    const early = transaction(0, '/v1/orders', null);
    const late = transaction(90_000, '/v1/orders', null);
    window.add(early);
    window.expire(T0 + 1_000, 0, []);
    expect(window.index.byKey.get(CONCRETE, '/v1/orders')).toBeUndefined();
    window.add(late);
    expect(window.index.byKey.get(CONCRETE, '/v1/orders')?.map((slot) => slot.apm)).toEqual([late]);
  });
});
