import { randomUUID } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expandLocal } from '../../sources/glob.js';
import { startsWithGzipMagic } from '../../sources/gzip-magic.js';
import { hasSettled } from '../file-plan.js';
import { planSplit, type SplitSettings } from '../../parse/workers/byte-ranges.js';
import { createS3Client, listObjects } from '../../sources/s3-source.js';
import { isS3Url, parseS3Url } from '../../sources/s3-location.js';
import { InputError } from '../../model/errors.js';
import { describeOperational } from '../operational.js';
import { readPrefix, sha1 } from '../fingerprint.js';
import { listedFile, loadObjectLedger, planFileReads, planObjectRead, type ListedFile, type ObjectRead } from './object-ledger.js';
import { releaseRunLock, runLockKey, takeRunLock } from './run-lock.js';
import type { RedisConnection } from './redis-url.js';
import { KEEP_TASKS, taskOptions } from './run-tasks.js';
import { indexJobId, planJobId, QUEUE_NAME, type MapSource, type MapTask, type ObjectVersion, type PlanTask, type QueueOutcome, type TaskSettings } from './tasks.js';
import { workerSettings } from './task-settings.js';

/**
 * `alf scan SOURCE --queue redis://…`: lists the sources and enqueues the run as one BullMQ flow:
 * a map task per object (a big plain file of a splittable format: per line-aligned byte range),
 * all children of a plan task that, once they are done, enqueues the reduces. Tasks are objects and
 * ranges, never whole logs hashed by name, so any worker takes the next one whatever its size.
 */

/**
 * Plain files from 128 MiB are cut into ranges of about 64 MiB: a task of a few seconds' parsing,
 * long enough that the queue's own cost (a few Redis round trips) is noise.
 */
export const QUEUE_SPLIT: SplitSettings = { minBytes: 128 * 1024 * 1024, rangeBytes: 64 * 1024 * 1024 };

export interface EnqueueOptions {
  sources: readonly string[];
  outDir: string;
  connection: RedisConnection;
  settings: TaskSettings;
  followSymlinks?: boolean;
  split?: SplitSettings;
}

export interface EnqueuedRun {
  runId: string;
  listed: number;
  /** Sources the object ledger holds as they are: not read again. */
  unchanged: number;
  tasks: number;
  /** Why the object ledger was not used (unreadable, or of other settings), or null. */
  ledgerNote: string | null;
}

/** Fails at once, with one line, when Redis cannot be reached (ioredis would otherwise retry forever). */
export async function checkRedis(connection: RedisConnection): Promise<void> {
  const client = new Redis({ ...connection, lazyConnect: true, connectTimeout: 5000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: Error | null = null;
  client.on('error', (error: Error) => { cause ??= error; }); // the socket's error says more than connect()'s
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    throw new InputError(`cannot reach Redis at ${connection.host}:${connection.port}: ${(cause ?? (error as Error)).message}`);
  } finally {
    client.disconnect();
  }
}

export async function enqueueScan(options: EnqueueOptions): Promise<EnqueuedRun> {
  await checkRedis(options.connection);
  const runId = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
  const outDir = resolve(options.outDir);
  const realOut = await realpath(outDir);
  const lockKey = runLockKey(realOut);
  await takeRunLock(options.connection, lockKey, outDir, runId);
  try {
    return await enqueueLocked(options, runId, outDir, realOut, lockKey);
  } catch (error) {
    await releaseRunLock(options.connection, lockKey, runId).catch(() => undefined);
    throw error;
  }
}

async function enqueueLocked(options: EnqueueOptions, runId: string, outDir: string, realOut: string, lockKey: string): Promise<EnqueuedRun> {
  const { ledger, note: ledgerNote } = await loadObjectLedger(outDir, options.settings);
  const { sinceMs, untilMs } = options.settings;
  // An object last written before --since, or before the --retain horizon, holds no request a
  // report is kept for: it is not listed (as alf scan does).
  const retainedSince = options.settings.retainMs ? Date.now() - options.settings.retainMs : null;
  const listedSince = sinceMs === null ? retainedSince : retainedSince === null ? sinceMs : Math.max(sinceMs, retainedSince);
  const maps: { source: MapSource; object: ObjectVersion; continues: string | null }[] = [];
  const renamed: PlanTask['renamed'] = [];
  let unchanged = 0;
  const listFailures: { source: string; error: string }[] = [];
  const parse = workerSettings(options.settings).parse;
  let listed = 0;
  const files: ListedFile[] = [];
  /** Files named as sources themselves (Source.listed). */
  const named = new Set<string>();
  for (const spec of options.sources.filter((s) => !isS3Url(s))) {
    let paths: string[];
    try {
      const listing = await expandLocal(spec, { followSymlinks: options.followSymlinks });
      for (const unreadable of listing.unreadable) listFailures.push({ source: unreadable.path, error: `cannot list: ${unreadable.error}` });
      paths = listing.files;
      if (listing.named === true) for (const path of paths) named.add(resolve(path));
    } catch (error) {
      listFailures.push({ source: spec, error: describeOperational(error) });
      continue;
    }
    for (const path of paths.sort()) {
      const absolute = resolve(path);
      const real = await realpath(absolute).catch(() => null);
      if (real === null || real === realOut || real.startsWith(realOut + sep)) continue; // gone, or alf's own output
      const info = await stat(absolute).catch(() => null);
      if (!info?.isFile() || info.size === 0) continue;
      if (listedSince !== null && info.mtimeMs < listedSince) continue;
      const prefix = await readPrefix(absolute).catch(() => null);
      if (prefix === null) {
        // Unreadable now: the map task names why (and the ledger does not remember it).
        files.push({ object: { id: absolute, head: '', headLength: 0, size: info.size, mtimeMs: info.mtimeMs, gzip: await startsWithGzipMagic(absolute) }, ownHead: null });
        continue;
      }
      const object = { id: absolute, head: sha1(prefix.bytes), headLength: prefix.bytes.length, size: info.size, mtimeMs: info.mtimeMs, gzip: prefix.gzip };
      files.push(listedFile(ledger, object, prefix.bytes));
    }
  }
  const reads = planFileReads(ledger, files, sinceMs, untilMs);
  for (const [i, file] of files.entries()) {
    listed++;
    const object = file.object;
    const read = reads[i]!;
    if (read.read === 'nothing') {
      unchanged++;
      if (read.renamedFrom !== null) renamed.push({ from: read.renamedFrom, to: object });
      continue;
    }
    // What is new of a plain file (all of it, or what grew) in line-aligned ranges when it is big.
    const from = read.read === 'rest' ? read.from : 0;
    const continues = read.read === 'rest' ? read.continues : null;
    const split = object.gzip ? null : await planSplit(object.id, object.id, object.size, { candidates: parse.candidates }, options.split ?? QUEUE_SPLIT, from);
    const settledTail = !object.gzip && hasSettled(object.mtimeMs, Date.now());
    if (split === null) {
      maps.push({ source: { kind: 'file', path: object.id, gzip: object.gzip, from, end: object.size, settledTail, ...(named.has(object.id) ? { named: true } : {}) }, object, continues });
      continue;
    }
    for (const range of split.ranges) {
      const end = range.end ?? object.size;
      maps.push({ source: { kind: 'file', path: object.id, gzip: false, from: range.start, end, formatId: split.format.id, settledTail: settledTail && end === object.size }, object, continues });
    }
  }
  for (const url of options.sources.filter(isS3Url)) {
    try {
      const client = createS3Client(options.settings.endpoint, options.settings.s3TimeoutMs);
      for await (const page of listObjects(client, parseS3Url(url), listedSince, Date.now())) {
        for (const found of page) {
          listed++;
          const object: ObjectVersion = { id: `s3://${found.bucket}/${found.key}`, head: found.etag, headLength: 0, size: found.size, mtimeMs: found.lastModifiedMs, gzip: false };
          const read: ObjectRead = planObjectRead(ledger, object, sinceMs, untilMs);
          if (read.read === 'nothing') {
            unchanged++;
            continue;
          }
          maps.push({ source: { kind: 's3', bucket: found.bucket, key: found.key, etag: found.etag, size: found.size, lastModifiedMs: found.lastModifiedMs }, object, continues: null });
        }
      }
    } catch (error) {
      listFailures.push({ source: url, error: `listing failed: ${describeOperational(error)}` });
    }
  }

  const base = { runId, outDir, settings: options.settings };
  const plan: PlanTask = { ...base, lockKey, listed, unchanged, renamed, listFailures };
  const children = maps.map((map, i) => {
    const taskId = `m${String(i).padStart(7, '0')}`;
    const data: MapTask = { ...base, taskId, ...map };
    return { name: 'map', queueName: QUEUE_NAME, data, opts: taskOptions(`${runId}-${taskId}`) };
  });
  const flow = new FlowProducer({ connection: { ...options.connection, maxRetriesPerRequest: 1 } });
  try {
    await flow.add({ name: 'plan', queueName: QUEUE_NAME, data: plan, opts: { jobId: planJobId(runId), attempts: 3, removeOnComplete: KEEP_TASKS, removeOnFail: KEEP_TASKS }, children });
  } finally {
    await flow.close();
  }
  return { runId, listed, unchanged, tasks: maps.length, ledgerNote };
}

/**
 * Waits for a run's index task and returns its outcome; a failed plan or index task (a task that
 * threw on every attempt) is an InputError naming why. Checks twice a second: the wait is for a
 * run of minutes to hours, and one Redis read each time.
 */
export async function waitForRun(connection: RedisConnection, runId: string, progress: ((counts: Record<string, number>) => void) | null): Promise<QueueOutcome> {
  const queue = new Queue(QUEUE_NAME, { connection: { ...connection, maxRetriesPerRequest: 1 } });
  queue.on('error', () => undefined); // a lost connection fails the next command, reported below
  try {
    for (;;) {
      const plan = await queue.getJob(planJobId(runId));
      if (!plan) throw new InputError(`run ${runId} is not in the queue (removed, or another Redis database?)`);
      const planState = await plan.getState();
      if (planState === 'failed') throw new InputError(`run ${runId} failed: ${plan.failedReason}`);
      const index = await queue.getJob(indexJobId(runId));
      if (index) {
        const state = await index.getState();
        if (state === 'completed') return index.returnvalue as QueueOutcome;
        if (state === 'failed') throw new InputError(`run ${runId} failed: ${index.failedReason}`);
      }
      if (progress) progress(await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'waiting-children'));
      await delay(500);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`lost Redis at ${connection.host}:${connection.port} while waiting for run ${runId} (it goes on if workers still reach it): ${(error as Error).message}`);
  } finally {
    await queue.close();
  }
}
