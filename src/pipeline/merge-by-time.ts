/**
 * Merges several roughly time-ordered batch streams into one, record by record, always taking
 * the earliest head. Files of the same layer (rotated logs, one log per load-balancer node)
 * then reach the join in time order. One stream passes through untouched.
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
  }
  const cursors: Cursor[] = [];
  for (const stream of streams) {
    const iterator = stream[Symbol.asyncIterator]();
    const cursor: Cursor = { iterator, batch: [], index: 0 };
    if (await refill(cursor)) cursors.push(cursor);
  }
  async function refill(cursor: Cursor): Promise<boolean> {
    for (;;) {
      const next = await cursor.iterator.next();
      if (next.done) return false;
      if (next.value.length > 0) {
        cursor.batch = next.value;
        cursor.index = 0;
        return true;
      }
    }
  }
  let out: T[] = [];
  while (cursors.length > 0) {
    let best = 0;
    let bestTime = timeOf(cursors[0]!.batch[cursors[0]!.index]!);
    for (let i = 1; i < cursors.length; i++) {
      const cursor = cursors[i]!;
      const time = timeOf(cursor.batch[cursor.index]!);
      if (time < bestTime) {
        best = i;
        bestTime = time;
      }
    }
    const cursor = cursors[best]!;
    out.push(cursor.batch[cursor.index++]!);
    if (cursor.index >= cursor.batch.length && !(await refill(cursor))) cursors.splice(best, 1);
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}
