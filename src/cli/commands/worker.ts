import { parseDuration } from '../../model/duration.js';
import { UsageError } from '../../model/errors.js';
import { ExitCode } from '../exit-codes.js';
import { terminalLine } from '../terminal-text.js';

export interface WorkerCommandOptions {
  queue: string;
  concurrency: string;
  lockDuration: string;
  quiet?: boolean;
}

/** Runs `alf worker` until SIGTERM; the tasks in hand finish first. */
export async function workerCommand(options: WorkerCommandOptions): Promise<number> {
  const concurrency = Number(options.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) throw new UsageError(`--concurrency must be an integer from 1 to 64, not "${options.concurrency}"`);
  const lockMs = parseDuration(options.lockDuration, '--lock-duration');
  if (!(lockMs >= 1000)) throw new UsageError(`--lock-duration must be at least 1s, not "${options.lockDuration}"`);
  const { parseQueueUrl } = await import('../../scan/queue/redis-url.js');
  const connection = parseQueueUrl(options.queue);
  const { startWorker } = await import('../../scan/queue/worker.js');
  const log = options.quiet === true ? () => undefined : (line: string) => { process.stderr.write(`alf worker ${process.pid}: ${terminalLine(line)}\n`); };
  const { worker, close } = startWorker({ connection, concurrency, lockMs, log });
  await worker.waitUntilReady();
  log(`ready on ${connection.host}:${connection.port}/${connection.db}, ${concurrency} at once`);
  await new Promise<void>((done) => process.once('SIGTERM', () => done()));
  log('SIGTERM: finishing the tasks in hand');
  await close();
  // CPU this worker used, for capacity planning (docs/queue.md reads it from the bench).
  const usage = process.resourceUsage();
  log(`stopped; CPU ${((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(3)} s`);
  return ExitCode.ok;
}
