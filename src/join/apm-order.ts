import type { ApmTransaction } from '../model/records.js';
import type { JoinStats } from './join-stats.js';

/**
 * APM exports usually run oldest first, but NRQL results and many UI exports come newest first.
 * A descending file cannot be streamed in start order without reading it to its end (its oldest
 * record is its last line), so it is read whole, sorted, and the report says so (JoinStats
 * `apmDescendingFiles`, `notes`). Ascending inputs pass through untouched, in bounded memory.
 *
 * The decision is made per file on its first records, counting steps between consecutive records
 * of the same file (so files merged by time are judged one by one).
 */

const PROBE_RECORDS = 256;

export async function* orderApm(
  batches: AsyncIterable<ApmTransaction[]>,
  stats: JoinStats,
): AsyncGenerator<ApmTransaction[]> {
  const iterator = batches[Symbol.asyncIterator]();
  const probed: ApmTransaction[][] = [];
  let count = 0;
  let done = false;
  while (count < PROBE_RECORDS) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    probed.push(next.value);
    count += next.value.length;
  }
  const descending = descendingFiles(probed);
  if (descending.length === 0) {
    yield* probed;
    if (!done) yield* { [Symbol.asyncIterator]: () => iterator };
    return;
  }
  stats.apmDescendingFiles.push(...descending);
  const all: ApmTransaction[] = probed.flat();
  for (;;) {
    if (done) break;
    const next = await iterator.next();
    if (next.done) break;
    for (const transaction of next.value) all.push(transaction);
  }
  // Mostly reversed already: reversing first makes the sort nearly linear.
  all.reverse();
  all.sort((a, b) => a.startMs - b.startMs);
  stats.notes.push(
    `APM export${descending.length > 1 ? 's' : ''} ${descending.join(', ')} ran newest first; ` +
      `${all.length} transactions were held in memory and sorted (the join window is bounded only for oldest-first exports)`,
  );
  for (let i = 0; i < all.length; i += 2048) yield all.slice(i, i + 2048);
}

function descendingFiles(batches: readonly ApmTransaction[][]): string[] {
  const last = new Map<string, number>();
  const up = new Map<string, number>();
  const down = new Map<string, number>();
  for (const batch of batches) {
    for (const transaction of batch) {
      const previous = last.get(transaction.file);
      last.set(transaction.file, transaction.startMs);
      if (previous === undefined || previous === transaction.startMs) continue;
      const counter = transaction.startMs > previous ? up : down;
      counter.set(transaction.file, (counter.get(transaction.file) ?? 0) + 1);
    }
  }
  const files: string[] = [];
  for (const [file, steps] of down) {
    // Exports sorted by start have no descending steps at all; allow a little jitter.
    if (steps >= 3 && steps > 3 * (up.get(file) ?? 0)) files.push(file);
  }
  return files;
}
