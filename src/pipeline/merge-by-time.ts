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
 */
export async function* mergeByTime<T>(
  streams: readonly AsyncIterable<T[]>[],
  timeOf: (item: T) => number,
  batchSize = 2048,
): AsyncGenerator<T[]> {
  if (streams.length === 1) {
    yield* streams[0]!;
    return;
  }
  if (streams.length === 0) return;
  interface Cursor {
    iterator: AsyncIterator<T[]>;
    batch: T[];
    index: number;
    /** The time of batch[index]. */
    head: number;
  }
  // In stream order, so that ties go to the lower-numbered stream.
  const cursors: Cursor[] = [];
  for (const stream of streams) {
    const iterator = stream[Symbol.asyncIterator]();
    const cursor: Cursor = { iterator, batch: [], index: 0, head: 0 };
    if (await refill(cursor)) cursors.push(cursor);
  }
  async function refill(cursor: Cursor): Promise<boolean> {
    for (;;) {
      const next = await cursor.iterator.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        cursor.batch = next.value;
        cursor.index = 0;
        cursor.head = timeOf(next.value[0]!);
        return true;
      }
    }
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
    if (to === batch.length && !(await refill(cursor))) cursors.splice(best, 1);
  }
  if (out.length > 0) yield out;
}
