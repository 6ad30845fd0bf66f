import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { otelJson } from '../../parsers/otel-json.js';
import { emptyJoinStats } from '../../src/join/join-stats.js';
import { joinStreams } from '../../src/join/join-streams.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type JoinedRequest } from '../../src/model/records.js';
import { parseLines } from '../parsers/parse-lines.js';
import { DEFAULT_JOIN_SCENARIO, JoinScenario, inBatches, scorePairs, type JoinScenarioOptions } from '../generators/join-scenarios.js';
import { runJoin } from './run-join.js';

describe('streaming join: bounded memory', () => {
  async function peakFor(durationSeconds: number) {
    const scenario = new JoinScenario({ durationSeconds, hotRatePerSecond: 50, backgroundRatePerSecond: 50, seed: 5 });
    const stats = emptyJoinStats();
    for await (const batch of joinStreams(scenario.proxyBatches(), scenario.apmBatches(), DEFAULT_JOIN_OPTIONS, stats)) void batch;
    return stats;
  }

  it('holds the same number of records whether the log is 10 or 100 minutes long', async () => {
    const short = await peakFor(600);
    const long = await peakFor(6000);
    expect(long.proxyRecords).toBeGreaterThan(9 * short.proxyRecords);
    expect(long.peakBufferedRecords).toBeLessThan(1.2 * short.peakBufferedRecords);
    // The window: about --horizon (65 s) of proxy records plus calibration, far below the input.
    expect(long.peakBufferedRecords).toBeLessThan(long.proxyRecords / 20);
  }, 120_000);
});

describe('streaming join: an export longer than its proxy log', () => {
  async function joined(minutesOfProxyLog: number) {
    // An hour of APM transactions at 100 a second; the proxy log covers only its first minutes, or none of it.
    const scenario = new JoinScenario({ durationSeconds: 3600, hotRatePerSecond: 50, backgroundRatePerSecond: 50, seed: 7 });
    const { proxies, transactions } = scenario.collect();
    const cut = minutesOfProxyLog * 60_000 + proxies.reduce((first, proxy) => Math.min(first, proxy.endMs), Infinity);
    const { requests, stats } = await runJoin(proxies.filter((proxy) => proxy.endMs < cut), transactions);
    return { requests, stats, transactions };
  }

  it('holds a window of transactions, not the export, when there is no proxy log at all', async () => {
    const { requests, stats, transactions } = await joined(0);
    expect(stats.proxyRecords).toBe(0);
    expect(requests.filter((request) => request.apm !== null && request.proxy === null)).toHaveLength(transactions.length);
    expect(stats.peakBufferedRecords).toBeLessThan(transactions.length / 20);
    expect(stats.notes).toContain('no plausible pairs to estimate the clock offset from; assumed 0 ms');
  });

  it('holds a window of transactions after a short proxy log ends, and joins that log as when the export ends with it', async () => {
    // Half a minute: shorter than the calibration waits for (two minutes, or 20,000 records).
    const { requests, stats, transactions } = await joined(0.5);
    expect(stats.proxyRecords).toBeGreaterThan(2_000);
    // Calibrated once the export is past the log's partners (about 35 s on), not once 20,000 records wait.
    expect(stats.peakBufferedRecords).toBeLessThan(15_000);
    // The same pairs as against only the transactions up to shortly after the log's end.
    const pairs = (list: readonly JoinedRequest[]) => list.filter((request) => request.proxy !== null && request.apm !== null)
      .map((request) => `${request.proxy!.line}>${request.apm!.line}@${request.confidence}`).sort();
    const lastProxy = requests.reduce((last, request) => Math.max(last, request.proxy?.endMs ?? -Infinity), -Infinity);
    const proxies = requests.filter((request) => request.proxy !== null).map((request) => request.proxy!).sort((a, b) => a.endMs - b.endMs);
    const nearby = transactions.filter((transaction) => transaction.startMs < lastProxy + 120_000);
    const alone = await runJoin(proxies, nearby);
    expect(pairs(requests)).toEqual(pairs(alone.requests));
    expect(stats.offsetMs).toBe(alone.stats.offsetMs);
  });
});

describe('streaming join: reading ahead', () => {
  it('reads the APM stream only as far as the next slice needs, not level with the proxy stream', async () => {
    // 100 req/s for 10 minutes, offset known (no calibration span); batches of 200 (2 s each).
    const scenario = new JoinScenario({ durationSeconds: 600, hotRatePerSecond: 50, backgroundRatePerSecond: 50, seed: 5, skewMs: 0 });
    let proxyRead = -Infinity;
    let proxyDone = false;
    const leads: number[] = [];
    async function* proxies() {
      for await (const batch of scenario.proxyBatches(200)) {
        for (const record of batch) proxyRead = Math.max(proxyRead, record.endMs);
        yield batch;
      }
      proxyDone = true;
    }
    async function* transactions() {
      for await (const batch of scenario.apmBatches(200)) {
        // How far past the proxy records read so far this batch reaches.
        if (!proxyDone && proxyRead > -Infinity) leads.push(Math.max(...batch.map((t) => t.startMs)) - proxyRead);
        yield batch;
      }
    }
    const stats = emptyJoinStats();
    for await (const batch of joinStreams(proxies(), transactions(), { ...DEFAULT_JOIN_OPTIONS, offsetMs: 0 }, stats)) void batch;
    expect(stats.joinedHeuristic).toBeGreaterThan(0.95 * stats.apmRecords);
    // A proxy record waits --horizon (65 s) for later-logged neighbours; its partners are needed only
    // when its slice is matched. Reading the APM stream level with the proxy stream held another
    // 65 s of transactions in the window.
    expect(leads.length).toBeGreaterThan(100);
    expect(Math.max(...leads.slice(10))).toBeLessThan(-DEFAULT_JOIN_OPTIONS.horizonMs / 2);
  });
});

describe('streaming join: accounting', () => {
  it('every record comes out exactly once, joined or not, and the stats add up', async () => {
    const scenario = new JoinScenario({ missingProxyShare: 0.1, missingApmShare: 0.1, seed: 9 });
    const { proxies, transactions } = scenario.collect();
    const { requests, stats } = await runJoin(proxies, transactions);
    expect(requests.filter((r) => r.proxy).length).toBe(proxies.length);
    expect(requests.filter((r) => r.apm).length).toBe(transactions.length);
    expect(new Set(requests.map((r) => r.proxy).filter(Boolean)).size).toBe(proxies.length);
    expect(new Set(requests.map((r) => r.apm).filter(Boolean)).size).toBe(transactions.length);
    const joined = stats.joinedById + stats.joinedHeuristic;
    expect(stats.unjoinedProxy).toBe(proxies.length - joined);
    expect(stats.unjoinedApm).toBe(transactions.length - joined);
    expect(stats.confidenceDeciles.reduce((a, b) => a + b, 0)).toBe(joined);
    expect(stats.joinedShare).toBeCloseTo(joined / proxies.length, 3);
    expect(stats.offsetMinMs).not.toBeNull();
    expect(stats.startSigmaMs).toBeLessThan(10);
  });

  it('leaves out a framework\'s server span nested in the HTTP server span of the same trace and request, and keeps another service\'s', async () => {
    const scenario = new JoinScenario({ traceIdShare: 1, missingApmShare: 0, missingProxyShare: 0, abortedShare: 0, seed: 11 });
    const collected = scenario.collect();
    const proxies = collected.proxies;
    const transactions = collected.transactions.map((transaction) => ({ ...transaction, host: 'api.example.com' }));
    // Every third request as Next.js traces it: a second SERVER span inside the first, for the same request.
    const twins = transactions.filter((_, i) => i % 3 === 0).map((outer) => ({ ...outer, name: 'BaseServer.handleRequest', startMs: outer.startMs + 0.3, durationMs: Math.max(0, outer.durationMs - 0.7) }));
    // Every fifth, a call to another service (another host) in the same trace, inside it too: a request of its own.
    const calls = transactions.filter((_, i) => i % 5 === 0).map((outer) => ({ ...outer, host: 'inventory.internal', startMs: outer.startMs + 0.5, durationMs: Math.max(0, outer.durationMs - 1) }));
    const withTwins = [...transactions, ...twins, ...calls].sort((a, b) => a.startMs - b.startMs);
    const plain = await runJoin(proxies, [...transactions, ...calls].sort((a, b) => a.startMs - b.startMs));
    const { requests, stats } = await runJoin(proxies, withTwins);
    expect(stats.apmNestedSpans).toBe(twins.length);
    expect(stats.apmRecords).toBe(transactions.length + calls.length);
    expect(requests.filter((r) => r.apm !== null).length).toBe(transactions.length + calls.length);
    expect(requests.some((r) => r.apm?.name === 'BaseServer.handleRequest')).toBe(false);
    expect(stats.joinedById + stats.joinedHeuristic).toBe(plain.stats.joinedById + plain.stats.joinedHeuristic);
    expect(stats.notes.some((note) => note.startsWith(`${twins.length} APM spans were left out`))).toBe(true);
  });

  it('leaves out the loopback calls a service makes to itself inside a request, whichever comes first in the export', async () => {
    // As highlight's OTLP sample of a Next.js dev server (backend/otel/samples/fs.json) has them:
    // the request's server span, and inside it server spans for GET 127.0.0.1:<port>/?method=ensurePage.
    const request = Object.assign(emptyApmTransaction('otel-json', 'fs.json', 40, ''), {
      startMs: Date.UTC(2023, 7, 21, 21, 7, 10, 425), durationMs: 18.8, method: 'GET', path: '/api/trpc/helloWorld', status: 200,
      host: 'localhost', traceId: '0d2f4e56d58b009144ec8d38926c5606',
    });
    const selfCalls = [5, 7, 15].map((at, i) => ({ ...request, line: 10 + i, startMs: request.startMs + at, durationMs: 0.6, path: '/', host: '127.0.0.1' }));
    const proxy = Object.assign(emptyProxyRecord('nginx-combined', 'access.log', 1, ''), {
      startMs: request.startMs + 1, endMs: request.startMs + 20, requestTimeMs: 19, method: 'GET', path: '/api/trpc/helloWorld', status: 200,
    });
    for (const transactions of [[request, ...selfCalls], [...selfCalls, request]]) {
      const { requests, stats } = await runJoin([proxy], transactions);
      expect([stats.apmRecords, stats.apmNestedSpans, stats.unjoinedApm]).toEqual([1, 3, 0]);
      expect(requests.map((r) => r.apm?.path)).toEqual(['/api/trpc/helloWorld']);
    }
    // A backend behind a proxy on the same machine answers on loopback, nested in nothing: kept.
    const alone = { ...selfCalls[0]!, traceId: 'ffffffffffffffffffffffffffffffff' };
    expect((await runJoin([], [alone])).stats.apmRecords).toBe(1);
    // Nor is it a self-call inside a server span that serves no HTTP request: plengauer/Thoth's demo
    // traces a shell script as a SERVER span (`bash -e demo.sh`, no method or path) around the real
    // `GET /` on 127.0.0.1, which was left out and its proxy line unjoined.
    const script = { ...request, method: null, path: null, status: null, host: null, name: 'bash -e demo.sh', durationMs: 887 };
    const served = { ...selfCalls[0]!, path: '/', status: 418, durationMs: 90.6 };
    const { requests, stats } = await runJoin([{ ...proxy, startMs: served.startMs, endMs: served.startMs + 91, requestTimeMs: 91, path: '/', status: 418 }], [script, served]);
    expect(stats.apmNestedSpans).toBe(0);
    expect(requests.find((r) => r.proxy !== null)?.apm?.path).toBe('/');
  });

  it('joins the one proxy line of a real Next.js request to one of its two server spans and leaves the other out (highlight\'s OTLP sample)', async () => {
    const fixture = JSON.parse(readFileSync('test/fixtures/real/highlight-otel-nextjs.json', 'utf8')) as { lines: { line: string }[] };
    const transactions = parseLines(otelJson, fixture.lines.map((entry) => entry.line)).records as ApmTransaction[];
    expect(transactions).toHaveLength(2);
    const proxy = Object.assign(emptyProxyRecord('nginx-combined', 'access.log', 1, ''), {
      startMs: Date.UTC(2023, 7, 21, 21, 7, 10, 504), endMs: Date.UTC(2023, 7, 21, 21, 7, 10, 529), requestTimeMs: 25,
      method: 'GET', path: '/api/app-directory-test', query: 'success=false', status: 500,
    });
    const { requests, stats } = await runJoin([proxy], transactions);
    expect(stats.apmNestedSpans).toBe(1);
    expect([stats.apmRecords, stats.joinedHeuristic + stats.joinedById, stats.unjoinedApm]).toEqual([1, 1, 0]);
    expect(requests).toHaveLength(1);
  });

  it('without APM, every proxy record flows through unjoined', async () => {
    const { proxies } = new JoinScenario({ durationSeconds: 10 }).collect();
    const { requests, stats } = await runJoin(proxies, null);
    expect(requests.every((r) => r.method === 'none' && r.apm === null)).toBe(true);
    expect(stats.unjoinedProxy).toBe(proxies.length);
  });

  it('a known --clock-offset is used as given', async () => {
    const scenario = new JoinScenario({ skewMs: 800, durationSeconds: 60 });
    const { proxies, transactions } = scenario.collect();
    const { requests, stats } = await runJoin(proxies, transactions, { offsetMs: 801 });
    expect(stats.offsetMs).toBe(801);
    expect(scorePairs(requests, scenario.truePairs).precision).toBeGreaterThan(0.99);
  });
});

describe('streaming join: ids far apart in time', () => {
  for (const apartMs of [-20_000, 20_000]) {
    it(`joins by trace id when the APM transaction starts ${apartMs / 1000} s from the proxy's start`, async () => {
      const scenario = new JoinScenario({ durationSeconds: 120, hotRatePerSecond: 20, backgroundRatePerSecond: 0, seed: 3 });
      const { proxies, transactions } = scenario.collect();
      const target = proxies[Math.floor(proxies.length / 2)]!;
      const partner = transactions.find((t) => t.raw === target.raw)!;
      target.traceId = partner.traceId = 'ab'.repeat(16);
      partner.startMs += apartMs;
      transactions.sort((a, b) => a.startMs - b.startMs);
      const { requests } = await runJoin(proxies, transactions);
      const pair = requests.find((r) => r.proxy === target)!;
      expect(pair.apm).toBe(partner);
      expect(pair.method).toBe('id');
      expect(Math.abs(pair.offsetMs! - apartMs)).toBeLessThan(10);
    });
  }

  it('joins by trace id 25 s apart in the middle of a long log read in small batches (the APM stream is read that far ahead)', async () => {
    // Half the requests carry trace ids, as when some clients send a traceparent.
    const scenario = new JoinScenario({ durationSeconds: 600, hotRatePerSecond: 20, backgroundRatePerSecond: 20, seed: 3, traceIdShare: 0.5 });
    const { proxies, transactions } = scenario.collect();
    const target = proxies[Math.floor(proxies.length / 2)]!;
    const partner = transactions.find((t) => t.raw === target.raw)!;
    target.traceId = partner.traceId = 'cd'.repeat(16);
    partner.startMs += 25_000;
    transactions.sort((a, b) => a.startMs - b.startMs);
    const stats = emptyJoinStats();
    let pair: JoinedRequest | undefined;
    for await (const batch of joinStreams(inBatches(proxies, 100), inBatches(transactions, 100), DEFAULT_JOIN_OPTIONS, stats)) {
      pair ??= batch.find((r) => r.proxy === target);
    }
    expect(pair?.apm).toBe(partner);
    expect(pair?.method).toBe('id');
  });
});

describe('streaming join: disorder', () => {
  it('detects an APM export sorted newest first, says so, and joins it as well as an ascending one', async () => {
    const scenario = new JoinScenario({ skewMs: -1500, durationSeconds: 90, seed: 4 });
    const { proxies, transactions } = scenario.collect();
    const ascending = await runJoin(proxies, transactions);
    const descending = await runJoin(proxies, [...transactions].reverse());
    expect(descending.stats.apmDescendingFiles).toEqual(['transactions.csv']);
    expect(descending.stats.notes.join(' ')).toMatch(/newest first/);
    expect(ascending.stats.apmDescendingFiles).toEqual([]);
    const a = scorePairs(ascending.requests, scenario.truePairs);
    const d = scorePairs(descending.requests, scenario.truePairs);
    expect(d.recall).toBeGreaterThan(0.97);
    expect(Math.abs(d.recall - a.recall)).toBeLessThan(0.005);
    expect(d.precision).toBeGreaterThan(0.99);
  });

  it('counts proxy records that arrive later than the horizon allows', async () => {
    const { proxies, transactions } = new JoinScenario({ durationSeconds: 300, seed: 8 }).collect();
    // Move a few early lines to the end of the log, as a badly merged rotation would.
    const moved = proxies.splice(100, 5);
    proxies.push(...moved);
    const stats = emptyJoinStats();
    for await (const batch of joinStreams(inBatches(proxies), inBatches(transactions), { ...DEFAULT_JOIN_OPTIONS, horizonMs: 10_000 }, stats)) void batch;
    expect(stats.lateRecords['proxy.log']).toBe(5);
    expect(stats.notes.join(' ')).toMatch(/later than --horizon/);
  });
});

describe('streaming join: batches', () => {
  async function joinIn(scenario: Partial<JoinScenarioOptions>, proxyBatch: number, apmBatch: number) {
    const generator = new JoinScenario(scenario);
    const stats = emptyJoinStats();
    const requests: JoinedRequest[] = [];
    for await (const batch of joinStreams(generator.proxyBatches(proxyBatch), generator.apmBatches(apmBatch), DEFAULT_JOIN_OPTIONS, stats)) requests.push(...batch);
    return { stats, pairs: requests.map((r) => `${r.proxy?.raw ?? '-'} = ${r.apm?.raw ?? '-'} @ ${r.confidence.toFixed(3)}`) };
  }

  it('joins alike however the proxy stream is batched (one file, spooled segments, a queued reduce)', async () => {
    const scenario = { durationSeconds: 400, hotRatePerSecond: 40, backgroundRatePerSecond: 30, seed: 11, skewMs: 1200 };
    const reference = await joinIn(scenario, 2048, 2048);
    expect(reference.stats.joinedHeuristic).toBeGreaterThan(0.9 * reference.stats.apmRecords);
    for (const size of [1, 37, 500, 5000]) {
      const other = await joinIn(scenario, size, 2048);
      expect(other.pairs, `proxy batches of ${size}`).toEqual(reference.pairs);
    }
  });

  it('finds the clock offset of whole-second logs of one busy URL however far ahead the APM stream was read', async () => {
    for (const apmBatch of [200, 3000]) {
      const { stats } = await joinIn({ resolution: 's', skewMs: -2000, hotRatePerSecond: 100, seed: 3 }, 2048, apmBatch);
      expect(Math.abs(stats.offsetMs! - -2000), `APM batches of ${apmBatch}: ${stats.offsetMs} ms`).toBeLessThan(250);
    }
  });
});

/**
 * Two logs of 10 minutes at 300 requests a second, the APM clock 350 ms ahead, of which one side
 * begins 4 minutes after the other: joined, with the offset voted and the pairs scored on the
 * requests both logs hold.
 */
async function joinWhereOneBeginsLater(later: 'proxy' | 'apm', seed: number) {
  const scenario = new JoinScenario({ durationSeconds: 600, hotRatePerSecond: 200, backgroundRatePerSecond: 100, seed, skewMs: 350 });
  const all = scenario.collect();
  const from = DEFAULT_JOIN_SCENARIO.startMs + 240_000;
  const proxies = later === 'proxy' ? all.proxies.filter((record) => record.endMs >= from) : all.proxies;
  const transactions = later === 'apm' ? all.transactions.filter((transaction) => transaction.startMs >= from) : all.transactions;
  const exported = new Set(transactions.map((transaction) => transaction.raw));
  const truePairs = proxies.filter((record) => exported.has(record.raw)).length;
  const { requests, stats } = await runJoin(proxies, transactions);
  const score = scorePairs(requests, truePairs);
  expect(stats.offsetMs).toBeGreaterThanOrEqual(340);
  expect(stats.offsetMs).toBeLessThanOrEqual(360);
  expect(score.precision).toBeGreaterThan(0.99);
  expect(score.recall).toBeGreaterThan(0.95);
  // Every record comes out once, joined or not.
  expect(requests.length).toBe(proxies.length + transactions.length - score.claimed);
  return { stats, early: all.transactions.filter((transaction) => transaction.startMs < from).length };
}

describe('streaming join: an APM export that begins before the proxy log', () => {
  it('estimates the offset from the span both logs cover, not from transactions no proxy record can reach', async () => {
    // A wider export, a --since slice, a queued window's margin: 72 k transactions first, more
    // than the calibration's record budget, none of them any proxy record's partner.
    const { stats, early } = await joinWhereOneBeginsLater('proxy', 11);
    // Those that start too early for any proxy record to reach leave before calibration, unjoined.
    expect(stats.peakBufferedRecords).toBeLessThan(early);
  }, 60_000);
});

describe('streaming join: a proxy log that begins before the APM export', () => {
  it('lets only proxy records whose partners were exported vote on the offset', async () => {
    // The mirror case: an export of the last hour beside a day of proxy logs.
    const { stats } = await joinWhereOneBeginsLater('apm', 13);
    expect(stats.notes).toEqual([]);
  }, 60_000);
});
