import { FlowProducer, Worker, type Job } from 'bullmq';
import { runMapTask } from './map-task.js';
import { runReduceTask } from './reduce-task.js';
import type { RedisConnection } from './redis-url.js';
import { runIndexTask, runPlanTask } from './run-tasks.js';
import { QUEUE_NAME, type IndexTask, type MapTask, type PlanTask, type ReduceTask } from './tasks.js';

/**
 * `alf worker`: takes tasks of every kind from the queue until stopped (SIGTERM lets the tasks in
 * hand finish). A worker that dies holding a task stops renewing its lock; after `lockMs` BullMQ's
 * stalled-job check hands the task to another worker.
 */
export interface WorkerOptions {
  connection: RedisConnection;
  concurrency: number;
  /** How long a task's lock lasts without renewal (renewed every half of it while the task runs). */
  lockMs: number;
  /** Told when a task starts and ends, one line each. */
  log: (line: string) => void;
}

/** Times a task may be found stalled (its worker gone) and handed on before it counts as failed. */
const MAX_STALLED = 3;

export function startWorker(options: WorkerOptions): { worker: Worker; close: () => Promise<void> } {
  const connection = { ...options.connection, maxRetriesPerRequest: null };
  const flow = new FlowProducer({ connection });
  const processor = async (job: Job): Promise<unknown> => {
    const id = job.id ?? '?';
    options.log(`start ${job.name} ${id}`);
    const started = performance.now();
    let result: unknown;
    switch (job.name) {
      case 'map': result = await runMapTask((job as Job<MapTask>).data); break;
      case 'reduce': result = await runReduceTask((job as Job<ReduceTask>).data); break;
      case 'plan': result = await runPlanTask(job as Job<PlanTask>, flow); break;
      case 'index': result = await runIndexTask(job as Job<IndexTask>, options.connection); break;
      default: throw new Error(`unknown task kind "${job.name}"`);
    }
    options.log(`done ${job.name} ${id} in ${((performance.now() - started) / 1000).toFixed(3)} s`);
    return result;
  };
  const worker = new Worker(QUEUE_NAME, processor, {
    connection, concurrency: options.concurrency, lockDuration: options.lockMs,
    stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)), maxStalledCount: MAX_STALLED,
  });
  worker.on('error', (error) => options.log(`error: ${error.message}`));
  worker.on('failed', (job, error) => options.log(`failed ${job?.name ?? '?'} ${job?.id ?? '?'}: ${error.message}`));
  return {
    worker,
    async close() {
      await worker.close();
      await flow.close();
    },
  };
}
