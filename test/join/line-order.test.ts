import { describe, expect, it } from 'vitest';
import { endMark, inversionCost, lineOrderBounds, lineOrderCost } from '../../src/join/line-order.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { scorePairs } from '../generators/join-scenarios.js';
import { SeededRandom } from '../generators/random.js';
import { runJoin } from './run-join.js';

/**
 * Whole-second stamps sharpened by line order (src/join/line-order.ts): a proxy writes its lines in
 * end order, the APM export knows each answer's end to the millisecond, so the lines of one second
 * fall between the sure pairs logged around them, and two lines may not swap partners.
 */

const T0 = Date.UTC(2024, 4, 2, 12, 0, 0);

/** A line of `access.log` stamped to the second, answered by the backend in `upstreamMs`. */
function line(lineNo: number, stampMs: number, path: string, upstreamMs: number, requestMs = upstreamMs): ProxyRecord {
  const record = emptyProxyRecord('nginx', 'access.log', lineNo, `line ${lineNo}`);
  record.endMs = stampMs;
  record.timeResolutionMs = 1000;
  record.requestTimeMs = requestMs;
  record.startMs = stampMs - requestMs;
  record.method = 'GET';
  record.path = path;
  record.status = 200;
  record.upstreamLogged = true;
  record.upstreamStatus = 200;
  record.upstreamTimeMs = upstreamMs;
  return record;
}

function transaction(startMs: number, durationMs: number, path: string): ApmTransaction {
  const t = emptyApmTransaction('newrelic-csv', 'export.csv', 1, `apm ${startMs}`);
  t.startMs = startMs;
  t.durationMs = durationMs;
  t.path = path;
  t.status = 200;
  return t;
}

const sure = (proxy: ProxyRecord, apm: ApmTransaction): JoinedRequest => ({ proxy, apm, method: 'heuristic', confidence: 0.99, offsetMs: 0 });

describe('end marks and their bounds', () => {
  it("an end mark is the APM end plus the response's way from the upstream to the client", () => {
    expect(endMark(line(1, T0, '/a', 30, 32), transaction(T0 + 100, 30, '/a'))).toBe(T0 + 132);
  });

  it('a line is bounded by the sure pairs logged just before and just after it in its second, not by other seconds or files', () => {
    const before = line(1, T0, '/a', 10);
    const middle = line(2, T0, '/b', 10);
    const after = line(3, T0, '/c', 10);
    const nextSecond = line(4, T0 + 1000, '/d', 10);
    const otherFile = { ...line(2, T0, '/e', 10), file: 'other.log' };
    const slice = [before, middle, after, nextSecond, otherFile];
    const bounds = lineOrderBounds(slice, [
      sure(before, transaction(T0 + 200, 10, '/a')), sure(after, transaction(T0 + 400, 10, '/c')),
      sure(nextSecond, transaction(T0 + 1100, 10, '/d')),
    ])!;
    expect([bounds.low[1], bounds.high[1]]).toEqual([T0 + 210, T0 + 410]);
    expect(bounds.low[0]).toBeNaN();
    expect(bounds.high[2]).toBeNaN();
    expect([bounds.low[4], bounds.high[4]]).toEqual([NaN, NaN]);
    // Inside the bounds nothing is said; a partner ending well before the line logged earlier is unlikely.
    expect(lineOrderCost(bounds, 1, middle, transaction(T0 + 300, 10, '/b'))).toBe(0);
    expect(lineOrderCost(bounds, 1, middle, transaction(T0 + 100, 10, '/b'))).toBeGreaterThan(2);
  });

  it('a few ms of disorder cost nothing, more costs more, and a large inversion costs a bounded amount (a wrong sure pair must not veto)', () => {
    expect(inversionCost(-100)).toBe(0);
    expect(inversionCost(5)).toBe(0);
    expect(inversionCost(30)).toBeGreaterThan(inversionCost(15));
    expect(inversionCost(500)).toBeLessThan(20);
  });

  it('is not trusted when sure pairs contradict the lines’ order (a log sorted by something else)', () => {
    const lines = [0, 1, 2, 3].map((i) => line(i + 1, T0, `/p${i}`, 10));
    // Lines 1..4 whose partners ended in the order 4, 3, 2, 1: hundreds of ms against the order.
    const pairs = lines.map((proxy, i) => sure(proxy, transaction(T0 + 800 - 200 * i, 10, proxy.path!)));
    expect(lineOrderBounds(lines, pairs)).toBeNull();
    expect(lineOrderBounds(lines, [...pairs].reverse().map((pair, i) => sure(lines[i]!, pair.apm!)))).not.toBeNull();
  });
});

/**
 * Each second: three dashboards on one URL at a shared tick (the APM export carries no agent, so
 * nothing but time tells them apart), and three requests for single orders that are each alone
 * on their URL (sure pairs). The lines are written as a proxy writes them: in end order, unless
 * `shuffled`, which writes each second's lines in a fixed client order instead.
 */
function tickTraffic(shuffled: boolean): { proxies: ProxyRecord[]; transactions: ApmTransaction[]; lookAlikes: Set<ProxyRecord> } {
  const random = new SeededRandom(7);
  interface Request { path: string; start: number; work: number; client: number; lookAlike: boolean }
  const requests: Request[] = [];
  for (let second = 0; second < 120; second++) {
    for (let client = 0; client < 6; client++) {
      const lookAlike = client < 3;
      requests.push({
        path: lookAlike ? '/v1/dashboards/1/summary' : `/v1/orders/${second * 3 + client}`,
        start: T0 + second * 1000 + random.between(0, 600), work: random.between(40, 44), client, lookAlike,
      });
    }
  }
  const ends = requests.map((r) => r.start + 1 + r.work + 0.5);
  const order = requests.map((_, i) => i).sort((a, b) => shuffled
    ? Math.floor(ends[a]! / 1000) - Math.floor(ends[b]! / 1000) || requests[a]!.client - requests[b]!.client
    : ends[a]! - ends[b]!);
  const proxies: ProxyRecord[] = [];
  const transactions: ApmTransaction[] = [];
  const lookAlikes = new Set<ProxyRecord>();
  order.forEach((i, lineIndex) => {
    const r = requests[i]!;
    const record = line(lineIndex + 1, Math.floor(ends[i]! / 1000) * 1000, r.path, Math.round(r.work + 1), Math.round(ends[i]! - r.start));
    const t = transaction(Math.round(r.start + 1), r.work, r.path);
    // The pairing the score checks: the same raw text on both sides.
    record.raw = t.raw = `request ${i}`;
    proxies.push(record);
    transactions.push(t);
    if (r.lookAlike) lookAlikes.add(record);
  });
  transactions.sort((a, b) => a.startMs - b.startMs);
  return { proxies, transactions, lookAlikes };
}

describe('1 s stamps of look-alikes in one second', () => {
  it('are told apart by the order of their lines, which the single-URL pairs of the same seconds vouch for', async () => {
    const { proxies, transactions, lookAlikes } = tickTraffic(false);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests.filter((r) => r.proxy !== null && lookAlikes.has(r.proxy)), lookAlikes.size);
    expect(score.precision).toBeGreaterThanOrEqual(0.98);
    expect(score.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('stay unclaimed when the lines are not in end order (nothing vouches for it), and nothing is guessed', async () => {
    const { proxies, transactions, lookAlikes } = tickTraffic(true);
    const { requests } = await runJoin(proxies, transactions);
    const score = scorePairs(requests.filter((r) => r.proxy !== null && lookAlikes.has(r.proxy)), lookAlikes.size);
    expect(score.recall).toBeLessThan(0.6);
    expect(score.precision).toBeGreaterThanOrEqual(0.98);
  });
});
