import { randomUUID } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { FlowProducer, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expandLocal } from '../../sources/glob.js';
import { startsWithGzipMagic } from '../../sources/gzip-magic.js';
import { planSplit, type SplitSettings } from '../../parse/workers/byte-ranges.js';
import { createS3Client, listObjects } from '../../sources/s3-source.js';
import { isS3Url, parseS3Url } from '../../sources/s3-location.js';
import { InputError } from '../../model/errors.js';
import { describeOperational } from '../operational.js';
import type { RedisConnection } from './redis-url.js';
import { KEEP_TASKS, taskOptions } from './run-tasks.js';
import { indexJobId, planJobId, QUEUE_NAME, type MapSource, type MapTask, type PlanTask, type QueueOutcome, type TaskSettings } from './tasks.js';
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
  tasks: number;
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
  const maps: MapSource[] = [];
  const listFailures: { source: string; error: string }[] = [];
  const parse = workerSettings(options.settings).parse;
  let listed = 0;
  for (const spec of options.sources.filter((s) => !isS3Url(s))) {
    let files: string[];
    try {
      const listing = await expandLocal(spec, { followSymlinks: options.followSymlinks });
      for (const unreadable of listing.unreadable) listFailures.push({ source: unreadable.path, error: `cannot list: ${unreadable.error}` });
      files = listing.files;
    } catch (error) {
      listFailures.push({ source: spec, error: describeOperational(error) });
      continue;
    }
    for (const path of files.sort()) {
      const absolute = resolve(path);
      const real = await realpath(absolute).catch(() => null);
      if (real === null || real === realOut || real.startsWith(realOut + sep)) continue; // gone, or alf's own output
      const info = await stat(absolute).catch(() => null);
      if (!info?.isFile() || info.size === 0) continue;
      // As alf scan: a file last written before --since holds no request after it.
      if (options.settings.sinceMs !== null && info.mtimeMs < options.settings.sinceMs) continue;
      listed++;
      const gzip = await startsWithGzipMagic(absolute);
      const split = gzip ? null : await planSplit(absolute, absolute, info.size, { candidates: parse.candidates }, options.split ?? QUEUE_SPLIT);
      if (split === null) {
        maps.push({ kind: 'file', path: absolute, gzip, from: 0, end: info.size });
        continue;
      }
      for (const range of split.ranges) maps.push({ kind: 'file', path: absolute, gzip: false, from: range.start, end: range.end ?? info.size, formatId: split.format.id });
    }
  }
  for (const url of options.sources.filter(isS3Url)) {
    try {
      const client = createS3Client(options.settings.endpoint, options.settings.s3TimeoutMs);
      for await (const page of listObjects(client, parseS3Url(url), options.settings.sinceMs, Date.now())) {
        for (const object of page) {
          listed++;
          maps.push({ kind: 's3', bucket: object.bucket, key: object.key, etag: object.etag, size: object.size, lastModifiedMs: object.lastModifiedMs });
        }
      }
    } catch (error) {
      listFailures.push({ source: url, error: `listing failed: ${describeOperational(error)}` });
    }
  }

  const base = { runId, outDir, settings: options.settings };
  const plan: PlanTask = { ...base, listed, listFailures };
  const children = maps.map((source, i) => {
    const taskId = `m${String(i).padStart(7, '0')}`;
    const data: MapTask = { ...base, taskId, source };
    return { name: 'map', queueName: QUEUE_NAME, data, opts: taskOptions(`${runId}-${taskId}`) };
  });
  const flow = new FlowProducer({ connection: { ...options.connection, maxRetriesPerRequest: 1 } });
  try {
    await flow.add({ name: 'plan', queueName: QUEUE_NAME, data: plan, opts: { jobId: planJobId(runId), attempts: 3, removeOnComplete: KEEP_TASKS, removeOnFail: KEEP_TASKS }, children });
  } finally {
    await flow.close();
  }
  return { runId, listed, tasks: maps.length };
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
