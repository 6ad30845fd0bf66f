/**
 * Join throughput and memory: 1 M proxy records against about 1 M APM transactions, generated in
 * process (no files, no parsing), so the figures are the join's own.
 *
 *   npx tsx test/bench/join.bench.ts [proxyRecords=1000000] [runs=5]
 *
 * 1. Streamed: both sides generated lazily and pulled by the join, so nothing but the join's window
 *    is held; peak RSS (resourceUsage().maxRSS) is taken after the first such run. Each run is
 *    paired with a generator-only run; the join's cost is the difference (median over runs).
 * 2. Pre-generated: the records are generated into arrays first, then the join alone is timed over
 *    them, `runs` times (median). Simpler to read, but the 2 M records held by the benchmark make
 *    every major GC dearer than in real use.
 * Each run checks its precision and recall against the generator's truth.
 */
import { loadavg } from 'node:os';
import { emptyJoinStats, type JoinStats } from '../../src/join/join-stats.js';
import { joinStreams } from '../../src/join/join-streams.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import type { ApmTransaction, ProxyRecord } from '../../src/model/records.js';
import { JoinScenario, inBatches, type JoinScenarioOptions } from '../generators/join-scenarios.js';

const target = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 5);
// 500 req/s in all: 150 on the hottest URL, the rest over four routes; 2% lost on each side.
const rate = 500;
const scenario: Partial<JoinScenarioOptions> = {
  seed: 42, resolution: 'ms', skewMs: 1200, hotRatePerSecond: 150, backgroundRatePerSecond: rate - 150,
  durationSeconds: Math.ceil(target / rate / 0.98), missingProxyShare: 0.02, missingApmShare: 0.02, abortedShare: 0.01,
};

interface Outcome { seconds: number; cpuSeconds: number; stats: JoinStats; precision: number; recall: number }

async function join(proxies: AsyncIterable<ProxyRecord[]>, apm: AsyncIterable<ApmTransaction[]>, truePairs: () => number): Promise<Outcome> {
  const stats = emptyJoinStats();
  let claimed = 0;
  let correct = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for await (const batch of joinStreams(proxies, apm, DEFAULT_JOIN_OPTIONS, stats)) {
    for (const request of batch) {
      if (request.proxy === null || request.apm === null) continue;
      claimed++;
      if (request.proxy.raw === request.apm.raw) correct++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, stats, precision: correct / claimed, recall: correct / truePairs() };
}

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024);
const middle = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

// 1. Streamed: memory, and the join's cost as (generator + join) minus generator alone.
async function generateOnly(): Promise<{ seconds: number; cpuSeconds: number }> {
  const generator = new JoinScenario(scenario);
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const proxies = generator.proxyBatches();
  const apm = generator.apmBatches();
  let done = 0;
  while (done < 2) {
    done = 0;
    if ((await proxies.next()).done) done++;
    if ((await apm.next()).done) done++;
  }
  const used = process.cpuUsage(cpu);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}

const baselineRss = process.memoryUsage().rss;
let memoryRun: Outcome | null = null;
let streamedMaxRssMb = 0;
const streamedWall: number[] = [];
const streamedCpu: number[] = [];
for (let run = 0; run < runs; run++) {
  const streamed = new JoinScenario(scenario);
  const outcome = await join(streamed.proxyBatches(), streamed.apmBatches(), () => streamed.truePairs);
  if (memoryRun === null) {
    memoryRun = outcome;
    streamedMaxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  }
  const generation = await generateOnly();
  streamedWall.push(outcome.seconds - generation.seconds);
  streamedCpu.push(outcome.cpuSeconds - generation.cpuSeconds);
  process.stderr.write(
    `streamed run ${run + 1}: generator + join ${outcome.seconds.toFixed(2)} s wall / ${outcome.cpuSeconds.toFixed(2)} s CPU, ` +
      `generator alone ${generation.seconds.toFixed(2)} s / ${generation.cpuSeconds.toFixed(2)} s\n`,
  );
}

// 2. Pre-generated: throughput of the join alone.
const generator = new JoinScenario(scenario);
const { proxies, transactions } = generator.collect();
const times: number[] = [];
const cpuTimes: number[] = [];
let last: Outcome = memoryRun!;
for (let run = 0; run < runs; run++) {
  last = await join(inBatches(proxies), inBatches(transactions), () => generator.truePairs);
  times.push(last.seconds);
  cpuTimes.push(last.cpuSeconds);
  process.stderr.write(`run ${run + 1}: ${last.seconds.toFixed(3)} s wall, ${last.cpuSeconds.toFixed(3)} s CPU, ${Math.round(last.stats.proxyRecords / last.seconds)} proxy records/s\n`);
}
const median = middle(times);
const cpuMedian = middle(cpuTimes);
console.log(JSON.stringify({
  bench: 'join',
  // Pre-generated arrays (section 2 above); 'streamed' below is the join in its real setting.
  proxyRecords: last.stats.proxyRecords,
  apmTransactions: last.stats.apmRecords,
  runs,
  joinSecondsMedian: Number(median.toFixed(3)),
  proxyRecordsPerSecond: Math.round(last.stats.proxyRecords / median),
  // The host may be shared: CPU time (user + system, GC threads included) is steadier than wall time.
  proxyRecordsPerCpuSecond: Math.round(last.stats.proxyRecords / cpuMedian),
  loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
  recordsPerSecondBothSides: Math.round((last.stats.proxyRecords + last.stats.apmRecords) / median),
  streamed: {
    proxyRecordsPerSecond: Math.round(memoryRun!.stats.proxyRecords / middle(streamedWall)),
    proxyRecordsPerCpuSecond: Math.round(memoryRun!.stats.proxyRecords / middle(streamedCpu)),
    maxRssMb: streamedMaxRssMb,
    baselineRssMb: mb(baselineRss),
    peakBufferedRecords: memoryRun!.stats.peakBufferedRecords,
  },
  joinedShare: last.stats.joinedShare,
  precision: Number(last.precision.toFixed(4)),
  recall: Number(last.recall.toFixed(4)),
}, null, 2));
