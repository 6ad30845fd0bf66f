import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { parseSource } from '../parse-source.js';
import { countingSource } from '../../sources/progress.js';
import { BatchEncoder, transferList } from './record-codec.js';
import { READ_CHUNK_BYTES, type Source } from '../../sources/sources.js';
import { formatChoiceFrom } from './worker-formats.js';
import type { BatchMessage, DoneMessage, FailedMessage, ParseTask, ToWorker, WaitingMessage } from './worker-protocol.js';

/**
 * A parse worker (`alf analyze --jobs N`): reads, decompresses, splits and parses what the main
 * thread asks for, exactly as parseSource does on one thread, and sends the records back encoded
 * (src/parse/workers/record-codec.ts). It runs every task it is given at once, interleaved batch by
 * batch: the main thread merges files by time, so it may need the next batch of any of them, and a
 * task waiting for another one to finish could wait forever.
 */

interface Running {
  credit: number;
  cancelled: boolean;
  /** Resolves a task paused for lack of credit. */
  wake: (() => void) | null;
}

const port = parentPort;
if (port === null) throw new Error('parse-worker.js is a worker thread entry, not a program');
const running = new Map<number, Running>();

port.on('message', (message: ToWorker) => {
  if (message.type === 'task') {
    void run(message.task);
    return;
  }
  const task = running.get(message.id);
  if (task === undefined) return;
  if (message.type === 'credit') task.credit++;
  else task.cancelled = true;
  task.wake?.();
  task.wake = null;
});

async function run(task: ParseTask): Promise<void> {
  const state: Running = { credit: task.credit, cancelled: false, wake: null };
  running.set(task.id, state);
  let bytes = 0;
  try {
    const file: Source = {
      name: task.name,
      listed: task.listed,
      // createReadStream's `end` is inclusive.
      open: () => createReadStream(task.path, { start: task.start, end: task.end === undefined ? undefined : task.end - 1, highWaterMark: READ_CHUNK_BYTES }),
    };
    const source = countingSource(file, (n) => { bytes += n; });
    // keepGoing: a read error ends up in the stats; the main thread decides whether it fails the run.
    const parsed = parseSource(source, { ...formatChoiceFrom(task.format), keepGoing: true });
    const encoder = new BatchEncoder();
    for await (const records of parsed.batches) {
      if (state.cancelled) break;
      const batch = encoder.encode(records);
      const message: BatchMessage = { type: 'batch', id: task.id, batch, format: parsed.stats.format, kind: parsed.stats.kind, bytes };
      port!.postMessage(message, transferList(batch));
      bytes = 0;
      state.credit--;
      // Backpressure: parse no further than the main thread has room for.
      if (state.credit <= 0 && !state.cancelled) {
        const waiting: WaitingMessage = { type: 'waiting', id: task.id };
        port!.postMessage(waiting);
      }
      while (state.credit <= 0 && !state.cancelled) await new Promise<void>((resolve) => { state.wake = resolve; });
      if (state.cancelled) break;
    }
    // Also after a cancel: the pool frees the task's place when its last message arrives.
    const done: DoneMessage = { type: 'done', id: task.id, stats: parsed.stats, bytes };
    port!.postMessage(done);
  } catch (error) {
    const failed: FailedMessage = { type: 'failed', id: task.id, message: (error as Error)?.stack ?? String(error) };
    port!.postMessage(failed);
  } finally {
    running.delete(task.id);
  }
}
