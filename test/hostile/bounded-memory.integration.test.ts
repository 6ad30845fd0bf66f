import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BoundedCounter, CapRegistry } from '../../src/statistics/bounded-counter.js';
import { emptyFileStats } from '../../src/model/file-stats.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { emptyProxyRecord, type ProxyRecord } from '../../src/model/records.js';
import { analyzeRecords } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { runAlf } from '../scan/cli.js';

/**
 * Memory stays bounded by caps, not by input: a generated stream of distinct URLs (and clients,
 * user agents, upstreams, keys) runs through the real join, every detector and every summary. Heap
 * growth at 1e6 distinct URLs must stay close to growth at 1e5 (ratio, not bytes), and the report
 * must say which caps were hit.
 */

// A real GC between samples, so the numbers are live memory rather than garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function* distinctRequests(count: number): AsyncGenerator<ProxyRecord[]> {
  const start = Date.UTC(2025, 0, 15, 10);
  let batch: ProxyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const record = emptyProxyRecord('generated', 'generated.log', i + 1, '');
    record.endMs = start + i * 3;
    record.requestTimeMs = 10 + (i % 500);
    record.startMs = record.endMs - record.requestTimeMs;
    record.method = 'GET';
    // Distinct paths that no route template folds together (letters, no ids).
    record.path = `/p/${i.toString(36).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)]!)}`;
    record.status = i % 50 === 0 ? 502 : i % 7 === 0 ? 499 : 200;
    record.upstreamLogged = true;
    record.upstreamStatus = i % 7 === 0 ? null : record.status;
    record.upstreamTimeMs = record.upstreamStatus === null ? null : record.requestTimeMs - 1;
    record.upstreamAttempts = 1;
    record.upstreamAddr = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`;
    record.clientIp = `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    record.userAgent = `agent/${i}`;
    record.apiKey = `key_${i}`;
    batch.push(record);
    if (batch.length === 2048) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function run(count: number): Promise<{ growth: number; analysis: Analysis }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  const sampled = async function* (): AsyncGenerator<ProxyRecord[]> {
    let n = 0;
    for await (const batch of distinctRequests(count)) {
      if (++n % 48 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      }
      yield batch;
    }
  };
  const stats = { ...emptyFileStats('generated.log'), format: 'generated', kind: 'proxy' as const, linesRead: count, records: count };
  const analysis = await analyzeRecords({
    proxyStreams: [sampled()], apmStreams: [], files: () => [stats], budget: null, join: DEFAULT_JOIN_OPTIONS,
  });
  gc();
  // What stays after the stream (the summaries and findings) counts as much as the peak.
  return { growth: Math.max(peak, process.memoryUsage().heapUsed - before), analysis };
}

describe('bounded memory on distinct keys', () => {
  it('CapRegistry reports counters made inside collect, merged per owner and cap', () => {
    const registry = new CapRegistry();
    const [a, b] = registry.collect('demo', () => [new BoundedCounter(2, () => ({ n: 0 })), new BoundedCounter(2, () => ({ n: 0 }))]);
    const outside = new BoundedCounter(1, () => ({ n: 0 }));
    for (const key of ['x', 'y', 'z', 'w']) {
      a!.get(key);
      b!.get(key);
      outside.get(key);
    }
    expect(registry.hits()).toEqual([{ owner: 'demo', cap: 2, overflowed: 4 }]);
  });

  it('heap growth at 1e6 distinct URLs stays near growth at 1e5, and the caps hit are reported', async () => {
    const small = await run(100_000);
    const large = await run(1_000_000);
    const ratio = large.growth / Math.max(small.growth, 4 * 1024 * 1024);
    console.log(`heap growth: 1e5 distinct URLs ${(small.growth / 2 ** 20).toFixed(1)} MiB, 1e6 ${(large.growth / 2 ** 20).toFixed(1)} MiB, ratio ${ratio.toFixed(2)}`);
    // By 1e5 requests the caps are full (the largest keeps 50 000 routes), so bounded state grows
    // no further: linear memory would be about 10x here.
    expect(ratio).toBeLessThan(2);
    console.log(`caps hit: ${large.analysis.limits.map((hit) => `${hit.owner} (${hit.cap}, +${hit.overflowed})`).join(', ')}`);
    expect(large.analysis.limits.length).toBeGreaterThan(0);
    expect(large.analysis.limits.some((hit) => hit.owner === 'latency-by-route' || hit.owner === 'budget-undercount')).toBe(true);
    for (const hit of large.analysis.limits) expect(hit.overflowed).toBeGreaterThan(0);
  }, 120_000);
});

/**
 * Memory bombs through the real CLI: a file with no newline for 512 MiB (sparse, so it costs no
 * disk) and a 1 MiB gzip that inflates to 1 GiB of zeros. Peak RSS of scan and analyze must not
 * follow the input's (decompressed) size: the line cap applies while reading.
 */
describe('bounded memory on memory bombs (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-bombs-'));
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const noNewline = join(logs, 'no-newline.log');
  const bomb = join(logs, 'zeros.log.gz');
  const SIZE = 512 * 1024 * 1024;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a 512 MiB line and a 1 GiB gzip of zeros cost scan and analyze well under their size', async () => {
    writeFileSync(noNewline, '');
    truncateSync(noNewline, SIZE);
    const member = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    writeFileSync(bomb, Buffer.concat(Array.from({ length: 16 }, () => member)));
    const limitKb = 400 * 1024;
    for (const input of [noNewline, bomb]) {
      const name = input === bomb ? 'gzip bomb' : 'no newline';
      const scanRun = await runAlf(['scan', input, '--state', join(dir, `${name}.json`), '--out', join(dir, `${name}-out`), '--quiet']);
      const analyzeRun = await runAlf(['analyze', input, '--format', 'json', '--quiet']);
      console.log(`${name}: scan exit ${scanRun.code}, peak RSS ${Math.round(scanRun.maxRssKb! / 1024)} MB, ${scanRun.seconds.toFixed(1)} s; ` +
        `analyze exit ${analyzeRun.code}, peak RSS ${Math.round(analyzeRun.maxRssKb! / 1024)} MB, ${analyzeRun.seconds.toFixed(1)} s`);
      expect(scanRun.maxRssKb).toBeLessThan(limitKb);
      expect(analyzeRun.maxRssKb).toBeLessThan(limitKb);
      // Nothing in it is a log line: the scan names it and exits 2 rather than reporting all clear.
      expect(scanRun.code).toBe(2);
      expect(scanRun.stderr).toContain(input);
    }
  }, 180_000);
});
