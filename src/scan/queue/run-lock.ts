import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { InputError } from '../../model/errors.js';
import type { RedisConnection } from './redis-url.js';
import { indexJobId, planJobId, QUEUE_NAME } from './tasks.js';

/**
 * One queued run at a time per out directory: the object ledger (object-ledger.ts) a run plans
 * from must be the one its index task then changes, and a run must not drop segments another
 * run's reduces still read. The enqueuer takes a key in Redis (SET NX, so one of two enqueuers
 * racing wins) holding its run id; the run's index task gives it back once the ledger is saved.
 * A run that failed (a task that threw on every attempt) never reaches its index task: a later
 * enqueuer finds the holder's plan or index failed, or gone from Redis, and takes the key over.
 */

/** The key is kept this long at most: a week, as long as Redis keeps a run's tasks. */
const HOLD_SECONDS = 7 * 24 * 3600;

export function runLockKey(realOutDir: string): string {
  return `alf-scan:out:${createHash('sha1').update(realOutDir).digest('hex')}`;
}

function client(connection: RedisConnection): Redis {
  return new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 1 });
}

/** Is the run that holds the key still going: its plan or index waiting, running or waiting for children? */
async function stillRunning(connection: RedisConnection, runId: string): Promise<boolean> {
  const queue = new Queue(QUEUE_NAME, { connection: { ...connection, maxRetriesPerRequest: 1 } });
  queue.on('error', () => undefined);
  try {
    const plan = await queue.getJob(planJobId(runId));
    if (!plan || (await plan.getState()) === 'failed') return false;
    const index = await queue.getJob(indexJobId(runId));
    if (!index) return true; // the plan has not enqueued it yet
    const state = await index.getState();
    return state !== 'completed' && state !== 'failed';
  } finally {
    await queue.close();
  }
}

/** Takes the out directory's key for `runId`, or fails with the run that holds it (exit 2). */
export async function takeRunLock(connection: RedisConnection, key: string, outDir: string, runId: string): Promise<void> {
  const redis = client(connection);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await redis.set(key, runId, 'EX', HOLD_SECONDS, 'NX')) === 'OK') return;
      const holder = await redis.get(key);
      if (holder === null) continue; // given back meanwhile
      if (await stillRunning(connection, holder)) {
        throw new InputError(`a queued run into ${outDir} is still going (run ${holder}): one run at a time changes an out directory; try again when it is done`);
      }
      // The holder failed or is gone: take the key over, unless another enqueuer did first.
      const swapped = await redis.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]); return 1 end; return 0",
        1, key, holder, runId, String(HOLD_SECONDS));
      if (swapped === 1) return;
    }
    throw new InputError(`could not take the run lock of ${outDir} in Redis (other runs keep taking it)`);
  } finally {
    redis.disconnect();
  }
}

/** Gives the key back if `runId` still holds it (a retried index task gives it back once). */
export async function releaseRunLock(connection: RedisConnection, key: string, runId: string): Promise<void> {
  const redis = client(connection);
  try {
    await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end; return 0", 1, key, runId);
  } finally {
    redis.disconnect();
  }
}
