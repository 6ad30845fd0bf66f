import { BATCH_LINES } from '../lines/lines.js';

/**
 * Merges several roughly time-ordered batch streams into one, record by record, always taking
 * the earliest head (the lowest-numbered stream on a tie). Files of the same layer (rotated logs,
 * one log per load-balancer node) then reach the join in time order. One stream passes through
 * untouched.
 *
 * Records are taken in runs: while the chosen stream's next record would be chosen again (it is
 * earlier than every other head, which cannot change meanwhile), it is taken without looking at the
 * other streams. Rotated files of one log barely overlap, so their merge is mostly long runs. The
 * merge this replaced compared every head for every record. The output comes in batches of exactly
 * `batchSize`, whatever the inputs' batches were, as before.
 *
 * A stream may be deferred: its first record is known, and it is opened only when that record's
 * turn comes. The merge looks at nothing but each stream's head, so the order is the same as with
 * the stream open from the start; what a deferred stream saves is what an open one holds while it
 * waits (a file handle, a read buffer, a batch of lines: see src/pipeline/analyze.ts).
 */

/** A stream opened only when the merge reaches its first record. */
export interface DeferredStream<T> {
  readonly deferred: true;
  /** The stream's first record, which open() yields again. */
  readonly first: T;
  open(): AsyncIterable<T[]>;
}

export type MergeInput<T> = AsyncIterable<T[]> | DeferredStream<T>;

export function isDeferred<T>(stream: MergeInput<T>): stream is DeferredStream<T> {
  return (stream as Partial<DeferredStream<T>>).deferred === true;
}

export async function* mergeByTime<T>(
  streams: readonly MergeInput<T>[],
  timeOf: (item: T) => number,
  batchSize = BATCH_LINES,
): AsyncGenerator<T[]> {
  if (streams.length === 1) {
    const only = streams[0]!;
    yield* isDeferred(only) ? only.open() : only;
    return;
  }
  if (streams.length === 0) return;
  interface Cursor {
    /** Null while the stream is deferred. */
    iterator: AsyncIterator<T[]> | null;
    deferred: DeferredStream<T> | null;
    batch: T[];
    index: number;
    /** The time of batch[index] (of the first record, while deferred). */
    head: number;
  }
  // In stream order, so that ties go to the lower-numbered stream.
  const cursors: Cursor[] = [];
  for (const stream of streams) {
    if (isDeferred(stream)) {
      cursors.push({ iterator: null, deferred: stream, batch: [], index: 0, head: timeOf(stream.first) });
      continue;
    }
    const cursor: Cursor = { iterator: stream[Symbol.asyncIterator](), deferred: null, batch: [], index: 0, head: 0 };
    if (await refill(cursor)) cursors.push(cursor);
  }
  async function refill(cursor: Cursor): Promise<boolean> {
    for (;;) {
      const next = await cursor.iterator!.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        cursor.batch = next.value;
        cursor.index = 0;
        cursor.head = timeOf(next.value[0]!);
        return true;
      }
    }
  }
  /**
   * An ended stream leaves the merge without its last batch. A cursor lives long enough to be in
   * the old generation, and a dead old object still holds what it points to through scavenges until
   * the next full collection: each ended file's last batch was copied and promoted. 250 files of
   * 4,000 `combined` lines: 338 -> 31 MB promoted, scavenges 893 -> 392 ms.
   */
  function drop(at: number): void {
    const cursor = cursors[at]!;
    cursor.batch = [];
    cursor.iterator = null;
    cursors.splice(at, 1);
  }
  let out: T[] = [];
  while (cursors.length > 0) {
    let best = 0;
    for (let i = 1; i < cursors.length; i++) if (cursors[i]!.head < cursors[best]!.head) best = i;
    // The chosen stream keeps the turn while its next record is earlier than the heads before it
    // and no later than the heads after it.
    let before = Number.POSITIVE_INFINITY;
    let after = Number.POSITIVE_INFINITY;
    for (let i = 0; i < cursors.length; i++) {
      if (i < best) before = Math.min(before, cursors[i]!.head);
      else if (i > best) after = Math.min(after, cursors[i]!.head);
    }
    const cursor = cursors[best]!;
    if (cursor.deferred !== null) {
      // Its turn: open it, and choose again on the head it really has.
      cursor.iterator = cursor.deferred.open()[Symbol.asyncIterator]();
      cursor.deferred = null;
      if (!(await refill(cursor))) drop(best);
      continue;
    }
    const { batch } = cursor;
    const from = cursor.index;
    let to = from + 1;
    let nextTime = Number.NaN;
    for (; to < batch.length; to++) {
      nextTime = timeOf(batch[to]!);
      if (!(nextTime < before && nextTime <= after)) break;
    }
    if (to < batch.length) {
      cursor.index = to;
      cursor.head = nextTime;
    }
    for (let i = from; i < to; i++) {
      out.push(batch[i]!);
      if (out.length === batchSize) {
        yield out;
        out = [];
      }
    }
    if (to === batch.length && !(await refill(cursor))) drop(best);
  }
  if (out.length > 0) yield out;
}
