import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { EXTENDED_LOG_FORMAT, generate, type GeneratedCounts } from './generate.js';

/**
 * The queued scan's rows (`npm run bench -- --only queue`, or `tsx test/bench/queue.ts [lines] [runs]`):
 * wall time of `alf scan --queue` drained by 1 and by 2 `alf worker` processes on this machine's
 * cores, in rounds (1, 2, then local scan, each round), medians; and what one window's reduce
 * costs. Needs /usr/bin/redis-server; each run gets a fresh out directory and the same Redis.
 * Every run is checked: no failed task, every generated record read.
 */

export interface QueueFigures {
  lines: number;
  runs: number;
  windows: number;
  tasks: number;
  oneWorkerMs: number;
  twoWorkersMs: number;
  localScanMs: number;
  /** CPU seconds all workers used per run (median), and the local scan's. */
  workerCpuS: number;
  localCpuS: number;
  /** Median and largest reduce of one window (2-worker runs), seconds. */
  reduceMedianS: number;
  reduceMaxS: number;
  recordsPerWindow: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function waitFor(child: ChildProcess, stream: 'stdout' | 'stderr', text: string): Promise<void> {
  return new Promise((done, fail) => {
    let seen = '';
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) done();
    });
    child.once('exit', (code) => fail(new Error(`exited ${code} before "${text}": ${seen.slice(-500)}`)));
  });
}

/** The CPU a stopped worker reports on its last line. */
function workerCpu(stderr: string): number {
  const match = /stopped; CPU ([0-9.]+) s/.exec(stderr);
  if (!match) throw new Error(`no CPU line from the worker: ${stderr.slice(-300)}`);
  return Number(match[1]);
}

/** Runs a command to its end under /usr/bin/time: wall, its CPU (user + sys) and its stderr. */
function run(command: string, args: readonly string[]): Promise<{ ms: number; stderr: string; cpuS: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'alf-bench-cpu %U %S', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('close', (code) => {
      if (code !== 0) {
        fail(new Error(`${args.join(' ')} exited ${code}: ${stderr.slice(-1000)}`));
        return;
      }
      const cpu = /alf-bench-cpu ([0-9.]+) ([0-9.]+)/.exec(stderr);
      done({ ms: performance.now() - started, stderr: stderr.replace(/alf-bench-cpu .*\n?/, ''), cpuS: cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN });
    });
  });
}

async function inputs(dir: string, lines: number): Promise<{ paths: string[]; records: number }> {
  mkdirSync(dir, { recursive: true });
  let records = 0;
  const paths: string[] = [];
  for (const [kind, name] of [['extended', `queue-proxy-${lines}.log`], ['newrelic', `queue-apm-${lines}.csv`]] as const) {
    const path = join(dir, name);
    const sidecar = join(dir, '..', `${name}.counts.json`);
    let counts: GeneratedCounts;
    if (existsSync(sidecar)) counts = JSON.parse(readFileSync(sidecar, 'utf8')) as GeneratedCounts;
    else {
      counts = await generate(kind, lines / 2, createWriteStream(path));
      writeFileSync(sidecar, JSON.stringify(counts));
    }
    records += counts.records;
    paths.push(path);
  }
  return { paths, records };
}

export async function measureQueue(alfMain: string, dir: string, lines = 600_000, runs = 3, log: (line: string) => void = () => undefined): Promise<QueueFigures> {
  const { paths, records } = await inputs(join(dir, `queue-inputs-${lines}`), lines);
  const logs = join(dir, `queue-inputs-${lines}`);
  const port = await freePort();
  const redis = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  await waitFor(redis, 'stdout', 'Ready to accept connections');
  const url = `redis://127.0.0.1:${port}`;
  const formatFile = EXTENDED_LOG_FORMAT;
  // 8 MiB ranges: enough tasks for two workers to share the proxy log.
  const scanArgs = (out: string): string[] => [alfMain, 'scan', logs, '--log-format', formatFile, '--window', '2m', '--queue', url, '--out', out, '--quiet',
    '--split-min-bytes', String(16 << 20), '--split-range-bytes', String(8 << 20)];
  const one: number[] = [];
  const two: number[] = [];
  const local: number[] = [];
  const reduces: number[] = [];
  const cpu: number[] = [];
  const localCpu: number[] = [];
  let windows = 0;
  let tasks = 0;
  let recordsSeen = 0;
  try {
    for (let round = 0; round < runs; round++) {
      for (const count of [1, 2]) {
        const workers = Array.from({ length: count }, () => spawn(process.execPath, [alfMain, 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'] }));
        const workerLogs = workers.map((w) => {
          let text = '';
          w.stderr.on('data', (chunk: Buffer) => { text += chunk.toString(); });
          return () => text;
        });
        await Promise.all(workers.map((w) => waitFor(w, 'stderr', ': ready on ')));
        const out = join(dir, `queue-out-${count}`);
        rmSync(out, { recursive: true, force: true });
        const { ms, stderr, cpuS } = await run(process.execPath, scanArgs(out));
        for (const w of workers) w.kill('SIGTERM');
        await Promise.all(workers.map((w) => new Promise((done) => w.once('exit', done))));
        if (count === 2) cpu.push(cpuS + workerLogs.reduce((sum, text) => sum + workerCpu(text()), 0));
        const outcome = JSON.parse(stderr.trim().split('\n').pop()!) as { records: number; failures: unknown[]; windows: string[]; tasks: number; reduceSeconds: Record<string, number> };
        if (outcome.failures.length > 0 || outcome.records !== records) throw new Error(`queued scan read ${outcome.records} of ${records} records, ${outcome.failures.length} failures`);
        (count === 1 ? one : two).push(ms);
        if (count === 2) reduces.push(...Object.values(outcome.reduceSeconds));
        windows = outcome.windows.length;
        tasks = outcome.tasks;
        recordsSeen = outcome.records;
        log(`queue: ${count} worker(s): ${(ms / 1000).toFixed(1)} s, ${outcome.windows.length} windows`);
      }
      const out = join(dir, 'queue-out-local');
      rmSync(out, { recursive: true, force: true });
      const { ms, cpuS } = await run(process.execPath, [alfMain, 'scan', logs, '--log-format', formatFile, '--window', '2m', '--state', join(out, 'state.json'), '--out', out, '--quiet']);
      local.push(ms);
      localCpu.push(cpuS);
      log(`queue: local alf scan: ${(ms / 1000).toFixed(1)} s`);
    }
  } finally {
    redis.kill('SIGTERM');
  }
  return {
    lines: paths.length === 2 ? lines : 0, runs, windows, tasks,
    oneWorkerMs: median(one), twoWorkersMs: median(two), localScanMs: median(local), workerCpuS: median(cpu), localCpuS: median(localCpu),
    reduceMedianS: median(reduces), reduceMaxS: Math.max(...reduces), recordsPerWindow: Math.round(recordsSeen / Math.max(1, windows)),
  };
}

export function renderQueue(f: QueueFigures): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return [
    `| queued scan, ${f.lines.toLocaleString('en-US')} lines (extended + New Relic), 2 min windows (median of ${f.runs} rounds) | wall | vs 1 worker |`,
    '| --- | --- | --- |',
    `| alf scan (local, one process) | ${s(f.localScanMs)} | ${(f.oneWorkerMs / f.localScanMs).toFixed(2)}× |`,
    `| alf scan --queue, 1 alf worker | ${s(f.oneWorkerMs)} | 1.00× |`,
    `| alf scan --queue, 2 alf workers | ${s(f.twoWorkersMs)} | ${(f.oneWorkerMs / f.twoWorkersMs).toFixed(2)}× |`,
    '',
    `CPU (user + sys, 2-worker runs: scan and workers): ${f.workerCpuS.toFixed(1)} s, ${Math.round(f.lines / f.workerCpuS).toLocaleString('en-US')} lines per CPU-second; local scan ${f.localCpuS.toFixed(1)} s.`,
    `Reduce of one window (${f.recordsPerWindow.toLocaleString('en-US')} records, ${f.windows} windows, ${f.tasks} tasks): median ${f.reduceMedianS.toFixed(2)} s, largest ${f.reduceMaxS.toFixed(2)} s.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { resolve } = await import('node:path');
  const root = resolve(import.meta.dirname, '../..');
  const figures = await measureQueue(join(root, 'dist/src/cli/main.js'), join(root, '.bench'), Number(process.argv[2] ?? 600_000), Number(process.argv[3] ?? 3), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${renderQueue(figures)}\n${JSON.stringify(figures)}\n`);
}
