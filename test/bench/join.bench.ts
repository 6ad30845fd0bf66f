/**
 * Join throughput and memory: 1 M proxy records against about 1 M APM transactions, generated in
 * process (no files, no parsing), so the figures are the join's own.
 *
 *   npx tsx test/bench/join.bench.ts [proxyRecords=1000000] [runs=5]
 *
 * 1. Memory: one run with both sides generated lazily and streamed into the join, so nothing but
 *    the join's window is held; peak RSS (resourceUsage().maxRSS) is taken right after it.
 * 2. Throughput: the records are generated into arrays first, then the join alone is timed over
 *    them, `runs` times; the median is reported (the host is shared, single runs are noisy).
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

// 1. Streamed: memory.
const baselineRss = process.memoryUsage().rss;
const streamed = new JoinScenario(scenario);
const memoryRun = await join(streamed.proxyBatches(), streamed.apmBatches(), () => streamed.truePairs);
const streamedMaxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stderr.write(`streamed run (generator + join): ${memoryRun.seconds.toFixed(2)} s, max RSS ${streamedMaxRssMb} MB\n`);

// 2. Pre-generated: throughput of the join alone.
const generator = new JoinScenario(scenario);
const { proxies, transactions } = generator.collect();
const times: number[] = [];
const cpuTimes: number[] = [];
let last: Outcome = memoryRun;
for (let run = 0; run < runs; run++) {
  last = await join(inBatches(proxies), inBatches(transactions), () => generator.truePairs);
  times.push(last.seconds);
  cpuTimes.push(last.cpuSeconds);
  process.stderr.write(`run ${run + 1}: ${last.seconds.toFixed(3)} s wall, ${last.cpuSeconds.toFixed(3)} s CPU, ${Math.round(last.stats.proxyRecords / last.seconds)} proxy records/s\n`);
}
const middle = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const median = middle(times);
const cpuMedian = middle(cpuTimes);
console.log(JSON.stringify({
  bench: 'join',
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
    maxRssMb: streamedMaxRssMb,
    baselineRssMb: mb(baselineRss),
    peakBufferedRecords: memoryRun.stats.peakBufferedRecords,
    secondsWithGeneration: Number(memoryRun.seconds.toFixed(2)),
  },
  joinedShare: last.stats.joinedShare,
  precision: Number(last.precision.toFixed(4)),
  recall: Number(last.recall.toFixed(4)),
}, null, 2));
