import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { analyze } from '../../src/pipeline/analyze.js';
import { parseWindowLabel } from '../../src/scan/windows.js';
import { freePort, waitUntil } from '../e2e/processes.js';
import { quietLine, runAlf } from './cli.js';
import { windowReports } from './helpers.js';
import { REDIS_SERVER, startRedis, startWorker, type RunningProcess } from './queue-processes.js';

const ROOT = resolve(import.meta.dirname, '../..');
const INCIDENT = join(ROOT, 'samples/incident');
const WINDOW_MS = 600_000;

/**
 * The join's counts that must agree. Not the clock-offset estimate: a reduce merges the records a
 * window borrows from its neighbour by time, a file's reader in file order, and the estimate may
 * move by a millisecond with the order pairs arrive in (seen: 351 ms against 352 ms).
 */
function pairCounts(join: Record<string, unknown>): unknown {
  const { proxyRecords, apmRecords, joinedById, joinedHeuristic, lowConfidence, unjoinedProxy, unjoinedApm } = join;
  return { proxyRecords, apmRecords, joinedById, joinedHeuristic, lowConfidence, unjoinedProxy, unjoinedApm };
}

/** The incident's nginx log and New Relic export, copied into `logs`; `conf` is its log_format. */
function incidentIn(logs: string): { logs: string; conf: string } {
  mkdirSync(logs);
  copyFileSync(join(INCIDENT, 'access.log'), join(logs, 'access.log'));
  copyFileSync(join(INCIDENT, 'newrelic-transactions.csv'), join(logs, 'newrelic-transactions.csv'));
  return { logs, conf: join(INCIDENT, 'nginx-log-format.conf') };
}

describe.skipIf(REDIS_SERVER === null)('alf scan --queue with alf worker processes (Redis, BullMQ)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-queue-'));
  const workers: RunningProcess[] = [];
  let stopRedis: (() => Promise<void>) | null = null;
  let url = '';
  beforeAll(async () => {
    const redis = await startRedis(dir);
    stopRedis = redis.stop;
    url = redis.url;
    for (let i = 0; i < 4; i++) workers.push(await startWorker(url, ['--lock-duration', '8s']));
  }, 60_000);
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await stopRedis?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('four workers, one SIGKILLed mid-task, write the reports of one process per window, boundary pairs joined once', async () => {
    // The incident (an hour of nginx lines and their New Relic export) in 10-minute windows: the
    // proxy log as one file cut into byte-range tasks, and again as parts, in two directories.
    const { logs, conf } = incidentIn(join(dir, 'logs'));

    const out = join(dir, 'out');
    const scan = runAlf(['scan', logs, '--log-format', conf, '--window', '10m', '--queue', url, '--out', out, '--quiet',
      '--split-min-bytes', '65536', '--split-range-bytes', '100000']);
    // The first worker to start a reduce is killed at once, holding it.
    let killed: { worker: RunningProcess; task: string } | null = null;
    await waitUntil('a worker to start a reduce task', () => {
      for (const worker of workers) {
        const task = /start reduce (\S+)/.exec(worker.stderr())?.[1];
        if (task) {
          worker.child.kill('SIGKILL');
          killed = { worker, task };
          return true;
        }
      }
      return false;
    }, 60_000, 10);
    const run = await scan;
    expect(run.code, `${run.stderr}\n${workers.map((w) => w.stderr()).join("")}`).toBe(0);
    const outcome = quietLine(run);
    expect(outcome.failures).toEqual([]);
    expect(outcome.unparsed).toEqual([]);
    expect(outcome.tasks).toBeGreaterThan(1);

    // The killed task ran to its end on another worker, handed on by BullMQ's stalled-job check.
    const { worker: victim, task } = killed!;
    expect(victim.stderr()).not.toContain(`done reduce ${task}`);
    const others = workers.filter((w) => w !== victim).map((w) => w.stderr()).join('');
    expect(others).toContain(`done reduce ${task}`);
    // Reduces of different windows ran on different workers.
    expect(workers.filter((w) => w.stderr().includes('done reduce')).length).toBeGreaterThanOrEqual(2);
    // The log was read in byte ranges: several map tasks for access.log.
    expect(outcome.tasks).toBeGreaterThan(3);

    // Each window's report equals `alf analyze` of every input, sliced to that window, in one process.
    const { format } = loadLogFormat(conf, undefined, []);
    const reports = windowReports(out);
    expect(reports.size).toBeGreaterThanOrEqual(6);
    let joined = 0;
    let findings = 0;
    for (const [name, report] of reports) {
      const startMs = parseWindowLabel(/^alf-(.*)\.json$/.exec(name)![1]!)!;
      const one = await analyze({
        inputs: [logs], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false,
        slice: { since: { ms: startMs, text: 'since' }, until: { ms: startMs + WINDOW_MS, text: 'until' }, where: [] },
      });
      expect(JSON.parse(JSON.stringify(report.findings)), name).toEqual(JSON.parse(JSON.stringify(one.findings)));
      expect(pairCounts(report.join as unknown as Record<string, unknown>), name).toEqual(pairCounts(one.join as unknown as Record<string, unknown>));
      const j = report.join as unknown as { joinedById: number; joinedHeuristic: number };
      joined += j.joinedById + j.joinedHeuristic;
      findings += report.findings.length;
    }
    expect(findings).toBeGreaterThan(0);
    // Pairs split by a window boundary are joined, once: as many pairs as one unsliced run joins.
    const whole = await analyze({ inputs: [logs], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
    expect(joined).toBe(whole.join.joinedById + whole.join.joinedHeuristic);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { windows: Record<string, unknown> };
    expect(Object.keys(manifest.windows).length).toBe(reports.size);
  }, 90_000);

  it('runs into one --out add up: a later run bounded by --since keeps the windows before it, and the report of the window --since cuts through', async () => {
    const { logs, conf } = incidentIn(join(dir, 'since-logs'));
    const scan = (out: string, ...extra: string[]) => runAlf(['scan', logs, '--log-format', conf, '--window', '10m', '--queue', url, '--out', out, '--quiet', ...extra]);
    const out = join(dir, 'since-out');
    const first = await scan(out);
    expect(first.code, first.stderr).toBe(0);
    const windowsOf = (path: string) => JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8')) as { lastRun: number; windows: Record<string, { updatedAt: string; incomplete?: unknown[] }> };
    const before = windowsOf(out);
    const cutLabel = '20170314T0920Z';
    expect(Object.keys(before.windows)).toContain(cutLabel);
    const cutReport = readFileSync(join(out, `alf-${cutLabel}.json`), 'utf8');

    // The incident runs 09:00-10:00 UTC; 09:25 cuts through the 09:20 window.
    const since = Date.parse('2017-03-14T09:25:00Z');
    const second = await scan(out, '--since', '2017-03-14T09:25:00Z');
    expect(second.code, second.stderr).toBe(0);
    const outcome = quietLine(second) as { windows: string[]; keptWindows: string[] };
    expect(outcome.keptWindows).toContain(cutLabel);
    for (const label of outcome.keptWindows) expect(parseWindowLabel(label)!).toBeLessThan(since);
    for (const label of outcome.windows) expect(parseWindowLabel(label)!).toBeGreaterThanOrEqual(since);
    expect(outcome.windows.length).toBeGreaterThan(0);
    const after = windowsOf(out);
    expect(after.lastRun).toBe(before.lastRun + 1);
    expect(Object.keys(after.windows).sort()).toEqual(Object.keys(before.windows).sort());
    expect(after.windows[cutLabel]).toEqual(before.windows[cutLabel]);
    expect(readFileSync(join(out, `alf-${cutLabel}.json`), 'utf8')).toBe(cutReport);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain(`alf-${Object.keys(before.windows).sort()[0]}`);

    // With no earlier report to keep, the cut window is written and marked incomplete.
    const fresh = join(dir, 'since-fresh');
    const alone = await scan(fresh, '--since', '2017-03-14T09:25:00Z');
    expect(alone.code, alone.stderr).toBe(0);
    expect(windowsOf(fresh).windows[cutLabel]?.incomplete).toHaveLength(1);
    expect(windowsOf(fresh).windows['20170314T0930Z']?.incomplete).toBeUndefined();

    // Another --window into the same --out is refused before any work.
    const other = await scan(out, '--window', '5m');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('holds windows of --window 10m');
  }, 90_000);

  it('names a source no format fits, and one that cannot be read, and exits 2 like a local scan', async () => {
    const logs = join(dir, 'bad-logs');
    mkdirSync(logs);
    copyFileSync(join(INCIDENT, 'newrelic-transactions.csv'), join(logs, 'newrelic-transactions.csv'));
    writeFileSync(join(logs, 'notes.txt'), 'not a log line\nnor this one\n');
    writeFileSync(join(logs, 'broken.log.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]));
    const run = await runAlf(['scan', logs, '--window', '10m', '--queue', url, '--out', join(dir, 'bad-out'), '--quiet']);
    expect(run.code, run.stderr).toBe(2);
    const outcome = quietLine(run) as { unparsed: { source: string }[]; failures: { source: string }[]; records: number };
    expect(outcome.unparsed.map((u) => u.source)).toEqual([join(logs, 'notes.txt')]);
    expect(outcome.failures.map((f) => f.source)).toEqual([join(logs, 'broken.log.gz')]);
    expect(outcome.records).toBe(4859);
  }, 60_000);

  it('names a --queue that is not a Redis URL, or a Redis that does not answer, before any work (exit 2)', async () => {
    const run = await runAlf(['scan', dir, '--queue', 'http://127.0.0.1:1', '--out', join(dir, 'never')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--queue must be redis:\/\//);
    const closed = await freePort();
    const unreachable = await runAlf(['scan', dir, '--queue', `redis://127.0.0.1:${closed}`, '--out', join(dir, 'never')]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toBe(`alf: cannot reach Redis at 127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}\n`);
  }, 30_000);
});

if (REDIS_SERVER === null) {
  describe('alf scan --queue', () => {
    it.skip('needs redis-server (Debian package redis-server; .ci/run installs it)', () => undefined);
  });
}
