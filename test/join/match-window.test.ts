import { describe, expect, it } from 'vitest';
import { exactAssignment } from '../../src/join/exact-assignment.js';
import { apmSlot, KeyIndex } from '../../src/join/key-index.js';
import { apmKeyParts, RouteTemplates } from '../../src/join/keys.js';
import { matchSlice, type ApmIndex } from '../../src/join/match-window.js';
import { DEFAULT_TIMING, type TimingModel } from '../../src/join/pair-cost.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';

const T0 = Date.UTC(2024, 0, 1);
const TIGHT: TimingModel = { ...DEFAULT_TIMING, startSigmaMs: 2, durationSigmaMs: 2, durationRelativeSigma: 0 };
const AT_ZERO = { offsetMs: 0, slope: 0, atMs: 0 };

/** A proxy record whose start is `startMs` after T0 and whose backend took `upstreamMs`. */
function proxy(name: string, startMs: number, upstreamMs: number, ids: { traceId?: string; requestId?: string } = {}): ProxyRecord {
  const record = emptyProxyRecord('nginx', 'a.log', 1, name);
  record.endMs = T0 + startMs + upstreamMs + 1;
  record.requestTimeMs = upstreamMs + 1;
  record.startMs = record.endMs - record.requestTimeMs;
  record.method = 'GET';
  record.path = '/v1/orders';
  record.upstreamLogged = true;
  record.upstreamStatus = 200;
  record.upstreamTimeMs = upstreamMs;
  record.traceId = ids.traceId ?? null;
  record.requestId = ids.requestId ?? null;
  return record;
}

function apm(name: string, startMs: number, durationMs: number, ids: { traceId?: string; requestId?: string } = {}): ApmTransaction {
  const transaction = emptyApmTransaction('nr', 'b.csv', 2, name);
  transaction.startMs = T0 + startMs;
  transaction.durationMs = durationMs;
  transaction.method = 'GET';
  transaction.path = '/v1/orders';
  transaction.traceId = ids.traceId ?? null;
  transaction.requestId = ids.requestId ?? null;
  return transaction;
}

function indexOf(transactions: ApmTransaction[]): ApmIndex {
  const index: ApmIndex = { byKey: new KeyIndex(), byTraceId: new Map(), byRequestId: new Map(), templated: 0, templates: new RouteTemplates() };
  for (const t of [...transactions].sort((a, b) => a.startMs - b.startMs)) {
    const slot = apmSlot(t);
    const key = apmKeyParts(t)!;
    index.byKey.list(key.kind, key.path).push(slot);
    if (t.traceId) index.byTraceId.set(t.traceId, [...(index.byTraceId.get(t.traceId) ?? []), slot]);
    if (t.requestId) index.byRequestId.set(t.requestId, [...(index.byRequestId.get(t.requestId) ?? []), slot]);
  }
  return index;
}

const pairsOf = (result: ReturnType<typeof matchSlice>) => result.joined.map((p) => `${p.proxy!.raw}=${p.apm!.raw}:${p.method}`).sort();

describe('matchSlice: ids', () => {
  it('joins on trace id first, whatever the time difference within the window', () => {
    const result = matchSlice([proxy('p', 0, 50, { traceId: 'aa' })], indexOf([apm('near', 0, 50), apm('far', 20_000, 10, { traceId: 'aa' })]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p=far:id']);
    expect(result.joined[0]!.confidence).toBe(1);
    expect(result.joined[0]!.offsetMs).toBeCloseTo(20_000 - 0.5, 0);
  });

  it('joins on request id too', () => {
    const result = matchSlice([proxy('p', 0, 50, { requestId: 'r1' })], indexOf([apm('a', 1, 50, { requestId: 'r1' })]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p=a:id']);
  });

  it('duplicate ids: each proxy takes the nearest free transaction with its id', () => {
    const proxies = [proxy('p1', 0, 50, { traceId: 'dup' }), proxy('p2', 5_000, 50, { traceId: 'dup' })];
    const result = matchSlice(proxies, indexOf([apm('late', 5_001, 50, { traceId: 'dup' }), apm('early', 1, 50, { traceId: 'dup' })]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p1=early:id', 'p2=late:id']);
  });

  it('never pairs heuristically across two different ids, however well the times fit', () => {
    const result = matchSlice([proxy('p', 0, 50, { traceId: 'aa' })], indexOf([apm('a', 1, 50, { traceId: 'bb' })]), AT_ZERO, TIGHT, 0.5);
    expect(result.joined).toEqual([]);
    expect(result.unmatched.map((p) => p.raw)).toEqual(['p']);
  });

  it('an id already taken is not taken twice', () => {
    const index = indexOf([apm('a', 1, 50, { traceId: 'aa' })]);
    matchSlice([proxy('p1', 0, 50, { traceId: 'aa' })], index, AT_ZERO, TIGHT, 0.5);
    const second = matchSlice([proxy('p2', 0, 50, { traceId: 'aa' })], index, AT_ZERO, TIGHT, 0.5);
    expect(second.joined).toEqual([]);
  });
});

describe('matchSlice: heuristic', () => {
  it('one-to-one: two proxies never share a transaction', () => {
    const result = matchSlice([proxy('p1', 0, 50), proxy('p2', 1, 50)], indexOf([apm('a', 1, 50)]), AT_ZERO, TIGHT, 0);
    expect(result.joined).toHaveLength(1);
    expect(result.unmatched).toHaveLength(1);
  });

  it('applies the clock offset', () => {
    const result = matchSlice([proxy('p', 0, 50)], indexOf([apm('wrong', 1, 50), apm('right', 2_001, 50)]), { offsetMs: 2_000, slope: 0, atMs: 0 }, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p=right:heuristic']);
  });

  it('refuses a pair when two transactions fit equally well (confidence ≤ 0.5)', () => {
    const result = matchSlice([proxy('p', 0, 50)], indexOf([apm('a', 0, 50), apm('b', 1, 50)]), AT_ZERO, TIGHT, 0.5);
    expect(result.joined).toEqual([]);
    expect(result.lowConfidence).toBe(1);
  });

  it('durations tell apart requests that start together', () => {
    const result = matchSlice([proxy('slow', 0, 400), proxy('fast', 0, 20)], indexOf([apm('A', 1, 20), apm('B', 1, 400)]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['fast=A:heuristic', 'slow=B:heuristic']);
    expect(Math.min(...result.joined.map((p) => p.confidence))).toBeGreaterThan(0.95);
  });

  it('an aborted request (no upstream answer) pairs with a longer transaction, not a shorter one', () => {
    const aborted = proxy('aborted', 0, 0);
    aborted.upstreamStatus = null;
    aborted.upstreamTimeMs = null;
    aborted.requestTimeMs = 4_800;
    aborted.endMs = T0 + 4_800;
    const result = matchSlice([aborted], indexOf([apm('short', 0, 300), apm('long', 1, 29_000)]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['aborted=long:heuristic']);
  });

  it('exact assignment finds the pairing greedy best-edge-first gets wrong, and is confident about it', () => {
    // Greedy takes p1-b (the single best edge), leaving p2 to a poor partner; the best pairing overall is p1-a, p2-b.
    const proxies = [proxy('p1', 0, 100), proxy('p2', 3, 100)];
    const transactions = [apm('a', -2, 100), apm('b', 1, 100)];
    const exact = matchSlice(proxies, indexOf(transactions), AT_ZERO, TIGHT, 0.5, { exact: true });
    expect(pairsOf(exact)).toEqual(['p1=a:heuristic', 'p2=b:heuristic']);
    const greedy = matchSlice(proxies, indexOf(transactions), AT_ZERO, TIGHT, 0.5, { exact: false });
    expect(greedy.joined.length).toBeLessThan(2);
  });
});

describe('exactAssignment', () => {
  it('gives exact posteriors over all consistent matchings', () => {
    // One proxy, two transactions of weight 2 and 1, no-match weight 1: P = 2/4 and 1/4.
    const result = exactAssignment(1, 2, [{ proxy: 0, apm: 0, weight: 2 }, { proxy: 0, apm: 1, weight: 1 }], 1, 100)!;
    expect(result.best[0]).toBe(0);
    expect(result.posterior[0]).toBeCloseTo(0.5);
    expect(result.posterior[1]).toBeCloseTo(0.25);
  });

  it('a rehearsal (commit = false) leaves every transaction free', () => {
    const index = indexOf([apm('a', 1, 50)]);
    expect(matchSlice([proxy('p1', 0, 50)], index, AT_ZERO, TIGHT, 0.5, { rehearsal: true }).joined).toHaveLength(1);
    expect(matchSlice([proxy('p2', 0, 50)], index, AT_ZERO, TIGHT, 0.5).joined).toHaveLength(1);
  });

  it('gives up (null) beyond its state budget', () => {
    const edges = [];
    for (let p = 0; p < 8; p++) for (let a = 0; a < 8; a++) edges.push({ proxy: p, apm: a, weight: 1 });
    expect(exactAssignment(8, 8, edges, 0.1, 1_000)).toBeNull();
  });
});

describe('matchSlice: the second look', () => {
  const agent = <T extends ProxyRecord | ApmTransaction>(record: T, userAgent: string | null): T => {
    record.userAgent = userAgent;
    return record;
  };

  it('joins a lone candidate whose worker stalled 25 ms after the answer, when both sides log the same agent', () => {
    // The upstream time exceeds the APM duration by 25 ms: far outside a 2 ms tolerance.
    const result = matchSlice([agent(proxy('p', 0, 75), 'okhttp/4.12.0')], indexOf([agent(apm('a', 1, 50), 'okhttp/4.12.0')]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p=a:heuristic']);
  });

  it('leaves it unjoined without a witness (no agent on the APM side), and when the agents differ', () => {
    expect(matchSlice([agent(proxy('p', 0, 75), 'okhttp/4.12.0')], indexOf([apm('a', 1, 50)]), AT_ZERO, TIGHT, 0.5).joined).toEqual([]);
    expect(matchSlice([agent(proxy('p', 0, 75), 'okhttp/4.12.0')], indexOf([agent(apm('a', 1, 50), 'curl/8.5.0')]), AT_ZERO, TIGHT, 0.5).joined).toEqual([]);
  });

  it('reads a backend start 2 s late as a wait for a worker when the proxy itself waited that long', () => {
    // Proxy sent at 0 and waited 2.06 s; the backend started at 2 s and worked 50 ms.
    const result = matchSlice([agent(proxy('p', 0, 2_060), 'okhttp/4.12.0')], indexOf([agent(apm('a', 2_000, 50), 'okhttp/4.12.0')]), AT_ZERO, TIGHT, 0.5);
    expect(pairsOf(result)).toEqual(['p=a:heuristic']);
  });
});
