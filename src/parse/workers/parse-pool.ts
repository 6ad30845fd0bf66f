import { Worker } from 'node:worker_threads';
import { InternalError } from '../../model/errors.js';
import type { BatchMessage, DoneMessage, FromWorker, ParseTask, ToWorker } from './worker-protocol.js';

/**
 * A small pool of parse workers for `alf analyze --jobs N`, with a channel per task.
 *
 * Not piscina: a task here is not a call with one result but a stream of record batches with
 * credit-based backpressure, and tasks must run side by side in one worker (see parse-worker.ts),
 * which a call-per-task pool does not model.
 *
 * Two kinds of task:
 *   - whole files, credit-limited: each starts at once on the least busy worker (several files
 *     may share one), and runs ahead of the main thread by at most its credit;
 *   - byte ranges of one big file ("bounded"): a range runs to its end without waiting for the
 *     main thread, so each worker runs at most one at a time and the others queue. The main
 *     thread reads ranges in file order, so a range's worker must not also be slowed by the next.
 */

export type TaskSpec = Omit<ParseTask, 'id'>;

/** Where the worker entry is: next to this module, built (.js) or as TypeScript sources (.ts, under vitest or tsx). */
export function parseWorkerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.js', import.meta.url);
}

/**
 * Starts a worker thread on the entry. A TypeScript entry (tests and `tsx`, never the built
 * package) is loaded through tsx's module hooks, registered inside the worker: a worker thread
 * does not inherit the hooks of the thread that starts it, nor honour `--import` in execArgv on
 * Node 20.
 */
function startWorker(entry: URL): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true });
}

interface PoolWorker {
  worker: Worker;
  tasks: Map<number, TaskChannel>;
  /** The byte-range task this worker runs, if any. */
  bounded: TaskChannel | null;
}

export class ParsePool {
  private readonly workers: PoolWorker[] = [];
  private readonly queuedRanges: { channel: TaskChannel; spec: TaskSpec }[] = [];
  private nextId = 1;
  private closing = false;

  constructor(private readonly size: number, private readonly workerUrl: URL = parseWorkerUrl()) {}

  get workerCount(): number {
    return this.workers.length;
  }

  /** Starts reading a whole file; its batches come back through the channel. */
  startFile(spec: TaskSpec): TaskChannel {
    const channel = new TaskChannel(this.nextId++);
    const host = this.idleWorker() ?? this.spawn() ?? this.leastBusy();
    this.dispatch(host, channel, spec);
    return channel;
  }

  /** Queues a byte range; it starts as soon as a worker has no other range running. */
  startRange(spec: TaskSpec): TaskChannel {
    const channel = new TaskChannel(this.nextId++);
    this.queuedRanges.push({ channel, spec });
    this.startQueuedRanges();
    return channel;
  }

  /** Terminates every worker (at the end of a run, or when it fails). */
  async close(): Promise<void> {
    this.closing = true;
    this.queuedRanges.length = 0;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers.length = 0;
  }

  private startQueuedRanges(): void {
    while (this.queuedRanges.length > 0) {
      const host = this.workers.find((w) => w.bounded === null && w.tasks.size === 0) ?? this.spawn() ?? this.workers.find((w) => w.bounded === null);
      if (host === undefined) return;
      const { channel, spec } = this.queuedRanges.shift()!;
      if (channel.cancelled) continue;
      host.bounded = channel;
      this.dispatch(host, channel, spec);
    }
  }

  private dispatch(host: PoolWorker, channel: TaskChannel, spec: TaskSpec): void {
    host.tasks.set(channel.id, channel);
    channel.attach((message) => host.worker.postMessage(message));
    const message: ToWorker = { type: 'task', task: { ...spec, id: channel.id } };
    host.worker.postMessage(message);
  }

  private idleWorker(): PoolWorker | undefined {
    return this.workers.find((w) => w.tasks.size === 0);
  }

  private leastBusy(): PoolWorker {
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.tasks.size < best.tasks.size) best = w;
    return best;
  }

  private spawn(): PoolWorker | undefined {
    if (this.workers.length >= this.size || this.closing) return undefined;
    // Not unref'd: while the main thread awaits a batch, the worker is what keeps the process
    // alive. analyze() closes the pool in a finally, on success and on every error.
    const worker = startWorker(this.workerUrl);
    const host: PoolWorker = { worker, tasks: new Map(), bounded: null };
    worker.on('message', (message: FromWorker) => this.receive(host, message));
    worker.on('error', (error) => this.fail(host, `a parse worker failed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(host, `a parse worker exited (code ${code})`);
    });
    this.workers.push(host);
    return host;
  }

  private receive(host: PoolWorker, message: FromWorker): void {
    const channel = host.tasks.get(message.id);
    if (channel === undefined) return;
    if (message.type === 'waiting') {
      channel.workerWaits();
      return;
    }
    if (message.type !== 'batch') this.finished(host, channel);
    if (message.type === 'failed') channel.fail(new InternalError(`parse worker: ${message.message}`));
    else channel.push(message);
  }

  private finished(host: PoolWorker, channel: TaskChannel): void {
    host.tasks.delete(channel.id);
    if (host.bounded === channel) {
      host.bounded = null;
      this.startQueuedRanges();
    }
  }

  private fail(host: PoolWorker, reason: string): void {
    for (const channel of host.tasks.values()) channel.fail(new InternalError(reason));
    host.tasks.clear();
    host.bounded = null;
  }
}

type Message = BatchMessage | DoneMessage;

/** The main thread's end of one task: messages in order, credit back per consumed batch. */
export class TaskChannel {
  cancelled = false;
  private readonly queue: Message[] = [];
  private head = 0;
  private waiting: { resolve: (message: Message) => void; reject: (error: Error) => void } | null = null;
  private failure: Error | null = null;
  private done = false;
  private send: ((message: ToWorker) => void) | null = null;
  private waited = false;
  private waitWatchers: (() => void)[] = [];

  constructor(readonly id: number) {}

  /**
   * Resolves once the worker has said it used up its credit: every batch it sent before is
   * buffered by then. Shows backpressure holding without guessing how long the worker needs.
   */
  workerWaited(): Promise<void> {
    if (this.waited) return Promise.resolve();
    return new Promise((resolve) => { this.waitWatchers.push(resolve); });
  }

  workerWaits(): void {
    this.waited = true;
    for (const resolve of this.waitWatchers.splice(0)) resolve();
  }

  /** Messages received and not yet taken: what backpressure bounds. */
  get buffered(): number {
    return this.queue.length - this.head;
  }

  attach(send: (message: ToWorker) => void): void {
    this.send = send;
  }

  /** The next batch, or the final stats. */
  next(): Promise<Message> {
    if (this.head < this.queue.length) {
      const message = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Message;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return Promise.resolve(message);
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
  }

  /** One batch consumed: the worker may parse one more. */
  ack(): void {
    if (!this.done && !this.cancelled) this.send?.({ type: 'credit', id: this.id });
  }

  /** The main thread no longer wants this task (a failure, or a range after a read error). */
  cancel(): void {
    if (this.done || this.cancelled) return;
    this.cancelled = true;
    this.send?.({ type: 'cancel', id: this.id });
  }

  push(message: Message): void {
    if (message.type === 'done') this.done = true;
    if (this.waiting !== null) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  fail(error: Error): void {
    this.done = true;
    this.failure ??= error;
    if (this.waiting !== null) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(error);
    }
  }
}
