import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { analyze } from '../../src/pipeline/analyze.js';
import { parseWindowLabel } from '../../src/scan/windows.js';
import { freePort, waitUntil } from '../e2e/processes.js';
import { quietLine, runAlf } from './cli.js';
import { albLines, totalProxyRequests, windowReports } from './helpers.js';
import { startS3Server } from './s3-server.js';
import { REDIS_SERVER, startRedis, startWorker, type RunningProcess } from './queue-processes.js';
import { parseQueueUrl } from '../../src/scan/queue/redis-url.js';
import { releaseRunLock, runLockKey, takeRunLock } from '../../src/scan/queue/run-lock.js';
import { planJobId, QUEUE_NAME } from '../../src/scan/queue/tasks.js';

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

/**
 * Each window's report in `out` equals `alf analyze` of every input, sliced to that window, in one
 * process; pairs split by a window boundary are joined once (as many as one unsliced run joins).
 */
async function expectReportsOfOneProcess(out: string, logs: string, conf: string): Promise<void> {
  const { format } = loadLogFormat(conf, undefined, []);
  const reports = windowReports(out);
  expect(reports.size).toBeGreaterThanOrEqual(6);
  let joined = 0;
  let proxyRecords = 0;
  let apmRecords = 0;
  let unjoinedApm = 0;
  let findings = 0;
  for (const [name, report] of reports) {
    const startMs = parseWindowLabel(/^alf-(.*)\.json$/.exec(name)![1]!)!;
    const one = await analyze({
      inputs: [logs], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false,
      slice: { since: { ms: startMs, text: 'since' }, until: { ms: startMs + WINDOW_MS, text: 'until' }, where: [] },
    });
    expect(JSON.parse(JSON.stringify(report.findings)), name).toEqual(JSON.parse(JSON.stringify(one.findings)));
    expect(pairCounts(report.join as unknown as Record<string, unknown>), name).toEqual(pairCounts(one.join as unknown as Record<string, unknown>));
    const j = report.join as unknown as { joinedById: number; joinedHeuristic: number; proxyRecords: number; apmRecords: number; unjoinedApm: number };
    joined += j.joinedById + j.joinedHeuristic;
    proxyRecords += j.proxyRecords;
    apmRecords += j.apmRecords;
    unjoinedApm += j.unjoinedApm;
    findings += report.findings.length;
  }
  expect(findings).toBeGreaterThan(0);
  // The windows' join figures are their own requests' and add up to one process's over everything:
  // no pair lost or made twice at a boundary, no transaction of a neighbour's margin counted.
  const whole = await analyze({ inputs: [logs], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
  expect(joined).toBe(whole.join.joinedById + whole.join.joinedHeuristic);
  expect([proxyRecords, apmRecords, unjoinedApm]).toEqual([whole.join.proxyRecords, whole.join.apmRecords, whole.join.unjoinedApm]);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { windows: Record<string, unknown> };
  expect(Object.keys(manifest.windows).length).toBe(reports.size);
}

describe.skipIf(REDIS_SERVER === null)('alf scan --queue with alf worker processes (Redis, BullMQ)', () => {
  // For the S3 test: the workers, started below, inherit them (the local S3 server takes any key).
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  process.env.AWS_REGION = 'us-east-1';
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

    await expectReportsOfOneProcess(out, logs, conf);
  }, 90_000);

  it('runs again read only what is new: a grown log from where the last run stopped, a rotated one not at all; the windows equal one process over everything', async () => {
    const logs = join(dir, 'grow-logs');
    mkdirSync(logs);
    const conf = join(INCIDENT, 'nginx-log-format.conf');
    copyFileSync(join(INCIDENT, 'newrelic-transactions.csv'), join(logs, 'newrelic-transactions.csv'));
    const lines = readFileSync(join(INCIDENT, 'access.log'), 'utf8').split(/(?<=\n)/);
    const half = Math.floor(lines.length / 2);
    const access = join(logs, 'access.log');
    writeFileSync(access, lines.slice(0, half).join(''));
    const out = join(dir, 'grow-out');
    const scan = async () => {
      // Small byte ranges: the log's first half, and then what it grew by, are each read in several.
      const run = await runAlf(['scan', logs, '--log-format', conf, '--window', '10m', '--queue', url, '--out', out, '--quiet',
        '--split-min-bytes', '65536', '--split-range-bytes', '100000']);
      expect(run.code, run.stderr).toBe(0);
      return quietLine(run) as { sourcesListed: number; sourcesUnchanged: number; records: number; linesRead: number; windows: string[]; maps: number };
    };
    const manifestOf = () => JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { windows: Record<string, { updatedAt: string }> };

    const first = await scan();
    expect([first.sourcesListed, first.sourcesUnchanged]).toEqual([2, 0]);
    const before = manifestOf();

    // The log grows by its second half: only those lines are read, and only the windows they fall
    // in (and those that borrow from them) are written again.
    appendFileSync(access, lines.slice(half).join(''));
    const grown = await scan();
    expect([grown.sourcesListed, grown.sourcesUnchanged]).toEqual([2, 1]);
    expect(grown.linesRead).toBe(lines.length - half);
    expect(grown.maps).toBeGreaterThan(1); // the growth, read in byte ranges
    const after = manifestOf();
    const firstLabel = Object.keys(before.windows).sort()[0]!;
    expect(grown.windows).not.toContain(firstLabel);
    expect(after.windows[firstLabel]).toEqual(before.windows[firstLabel]);
    expect(grown.windows.length).toBeGreaterThan(0);
    await expectReportsOfOneProcess(out, logs, conf);
    const reportsOf = () => new Map(readdirSync(out).filter((name) => /^alf-.*\.json$/.test(name)).map((name) => [name, readFileSync(join(out, name), 'utf8')]));
    const reports = reportsOf();

    // Nothing new: nothing read, no window written.
    const same = await scan();
    expect([same.sourcesUnchanged, same.linesRead, same.windows]).toEqual([2, 0, []]);

    // Rotated: access.log renamed to access.log.1, a new empty access.log; then .1 compressed
    // into .2.gz. The renamed log is known by its first kilobyte, and nothing is read twice.
    renameSync(access, `${access}.1`);
    writeFileSync(access, '');
    const renamed = await scan();
    expect([renamed.sourcesListed, renamed.sourcesUnchanged, renamed.linesRead, renamed.windows]).toEqual([2, 2, 0, []]);
    writeFileSync(`${access}.2.gz`, gzipSync(readFileSync(`${access}.1`)));
    rmSync(`${access}.1`);
    const compressed = await scan();
    expect([compressed.sourcesListed, compressed.linesRead, compressed.records, compressed.windows]).toEqual([2, 0, 0, []]);

    // The ledger knows the two objects by their names now, and the queue directory keeps only
    // the segments its entries name.
    const ledger = JSON.parse(readFileSync(join(out, 'queue', 'objects.json'), 'utf8')) as { objects: Record<string, { parts: { segments: { path: string }[] }[] }> };
    expect(Object.keys(ledger.objects).sort()).toEqual([`${access}.2.gz`, join(logs, 'newrelic-transactions.csv')].sort());
    const named = new Set(Object.values(ledger.objects).flatMap((entry) => entry.parts.flatMap((part) => part.segments.map((segment) => segment.path.split('/').slice(0, 4).join('/')))));
    const onDisk = new Set<string>();
    for (const run of readdirSync(join(out, 'queue')).filter((name) => name !== 'objects.json')) {
      expect(readdirSync(join(out, 'queue', run)), run).toEqual(['maps']);
      for (const task of readdirSync(join(out, 'queue', run, 'maps'))) {
        for (const execution of readdirSync(join(out, 'queue', run, 'maps', task))) onDisk.add([run, 'maps', task, execution].join('/'));
      }
    }
    expect(onDisk).toEqual(named);
    // No report was written again since the log grew (evidence still names access.log, as logged).
    expect(reportsOf()).toEqual(reports);
  }, 120_000);

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

    // The incident runs 09:00-10:00 UTC; 09:25 cuts through the 09:20 window. The log is written
    // anew without its first line (the object ledger reads a file whose first bytes changed
    // again, whole); the export is as it was, and is not read again.
    const access = join(logs, 'access.log');
    writeFileSync(access, readFileSync(access, 'utf8').replace(/^[^\n]*\n/, ''));
    const since = Date.parse('2017-03-14T09:25:00Z');
    const second = await scan(out, '--since', '2017-03-14T09:25:00Z');
    expect(second.code, second.stderr).toBe(0);
    const outcome = quietLine(second) as { windows: string[]; keptWindows: string[]; sourcesListed: number; sourcesUnchanged: number };
    expect([outcome.sourcesListed, outcome.sourcesUnchanged]).toEqual([2, 1]);
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

  it('with --retain, drops the windows that ended before it, with their reports and segments, and forgets objects last written before it', async () => {
    const { logs, conf } = incidentIn(join(dir, 'retain-logs'));
    const out = join(dir, 'retain-out');
    const scan = async (...extra: string[]) => {
      const run = await runAlf(['scan', logs, '--log-format', conf, '--window', '10m', '--queue', url, '--out', out, '--quiet', ...extra]);
      expect(run.code, run.stderr).toBe(0);
      return quietLine(run) as { sourcesListed: number; sourcesUnchanged: number; linesRead: number; windows: string[]; prunedWindows: number };
    };
    // The export was last written two hours ago; the incident's windows (2017) are far past an hour.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(logs, 'newrelic-transactions.csv'), twoHoursAgo, twoHoursAgo);
    const first = await scan();
    expect(first.windows.length).toBeGreaterThanOrEqual(6);
    const retained = await scan('--retain', '1h');
    expect([retained.sourcesListed, retained.sourcesUnchanged, retained.linesRead, retained.windows, retained.prunedWindows]).toEqual([1, 1, 0, [], first.windows.length]);
    expect(readdirSync(out).filter((name) => name.startsWith('alf-'))).toEqual([]);
    expect(Object.keys((JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { windows: object }).windows)).toEqual([]);
    // The log is still known (read, and written within the hour); its segments are gone.
    const ledger = JSON.parse(readFileSync(join(out, 'queue', 'objects.json'), 'utf8')) as { objects: Record<string, { parts: { segments: unknown[] }[] }> };
    expect(Object.keys(ledger.objects)).toEqual([join(logs, 'access.log')]);
    expect(ledger.objects[join(logs, 'access.log')]!.parts.flatMap((part) => part.segments)).toEqual([]);
    expect(readdirSync(join(out, 'queue'))).toEqual(['objects.json']);
    // Without --retain the export is listed again, and read again: the ledger forgot it.
    const again = await scan();
    expect([again.sourcesListed, again.sourcesUnchanged]).toEqual([2, 1]);
    expect(again.linesRead).toBe(readFileSync(join(logs, 'newrelic-transactions.csv'), 'utf8').split('\n').length - 1);
  }, 90_000);

  it('over an S3 prefix, reads an object once, and again only when its ETag changed', async () => {
    const s3 = await startS3Server(join(dir, 's3'));
    try {
      const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
      await client.send(new CreateBucketCommand({ Bucket: 'alf-logs' }));
      const put = (key: string, body: string | Uint8Array) => client.send(new PutObjectCommand({ Bucket: 'alf-logs', Key: key, Body: body }));
      const start = Date.UTC(2024, 4, 1, 10);
      await put('alb/a.log.gz', gzipSync(albLines(start, 0, 40)));
      await put('alb/b.log', albLines(start + 40_000, 40, 25));
      const out = join(dir, 's3-out');
      const scan = async () => {
        const run = await runAlf(['scan', 's3://alf-logs/alb/', '--endpoint', s3.endpoint, '--window', '10m', '--queue', url, '--out', out, '--quiet']);
        expect(run.code, run.stderr).toBe(0);
        return quietLine(run) as { sourcesListed: number; sourcesUnchanged: number; records: number; windows: string[] };
      };
      expect(await scan()).toMatchObject({ sourcesListed: 2, sourcesUnchanged: 0, records: 65 });
      expect(await scan()).toMatchObject({ sourcesListed: 2, sourcesUnchanged: 2, records: 0, windows: [] });
      // b.log written anew (new ETag) with 5 more lines, and a new object: those two are read, and
      // the window counts b.log's lines once.
      await put('alb/b.log', albLines(start + 40_000, 40, 30));
      await put('alb/c.log', albLines(start + 120_000, 100, 10));
      expect(await scan()).toMatchObject({ sourcesListed: 3, sourcesUnchanged: 1, records: 40 });
      expect(totalProxyRequests(out)).toBe(80);
    } finally {
      await s3.stop();
    }
  }, 60_000);

  it('lets one run at a time change an out directory: a second is refused while the first goes on, and takes over once it failed', async () => {
    // Database 1, where no worker listens: the first run's plan stays waiting as long as the test wants.
    const connection = { ...parseQueueUrl(url), db: 1 };
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      const key = runLockKey('/lock-test/out');
      const plan = await queue.add('plan', {}, { jobId: planJobId('run-a') });
      await takeRunLock(connection, key, 'out', 'run-a');
      await expect(takeRunLock(connection, key, 'out', 'run-b')).rejects.toThrow('a queued run into out is still going (run run-a)');
      // The first run failed (its plan is gone): the second takes over; the first gives back nothing it no longer holds.
      await plan.remove();
      await takeRunLock(connection, key, 'out', 'run-b');
      await releaseRunLock(connection, key, 'run-a');
      await expect(takeRunLock(connection, key, 'out', 'run-c')).resolves.toBeUndefined(); // run-b has no plan either
      await releaseRunLock(connection, key, 'run-c');
      const client = new Redis(connection);
      expect(await client.exists(key)).toBe(0);
      client.disconnect();
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }, 30_000);

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
