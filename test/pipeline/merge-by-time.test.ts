import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeByTime, type DeferredStream, type MergeInput } from '../../src/pipeline/merge-by-time.js';

interface Item {
  stream: number;
  seq: number;
  time: number;
}

async function* batchesOf(items: Item[], sizes: number[]): AsyncGenerator<Item[]> {
  let at = 0;
  for (let i = 0; at < items.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield items.slice(at, at + size);
    at += size;
  }
  // Empty batches are allowed anywhere and mean nothing.
  yield [];
}

/** The merge's rule, one record at a time: the earliest head; on a tie, the lower-numbered stream. */
function mergedOneByOne(streams: Item[][]): Item[] {
  const at = streams.map(() => 0);
  const out: Item[] = [];
  for (;;) {
    let best = -1;
    for (let s = 0; s < streams.length; s++) {
      const head = streams[s]![at[s]!];
      if (head !== undefined && (best < 0 || head.time < streams[best]![at[best]!]!.time)) best = s;
    }
    if (best < 0) return out;
    out.push(streams[best]![at[best]!++]!);
  }
}

async function merged(streams: Item[][], sizes: number[]): Promise<{ items: Item[]; batches: Item[][] }> {
  const batches: Item[][] = [];
  for await (const batch of mergeByTime(streams.map((items) => batchesOf(items, sizes)), (item) => item.time)) batches.push(batch);
  return { items: batches.flat(), batches };
}

const stream = (id: number, times: number[]): Item[] => times.map((time, seq) => ({ stream: id, seq, time }));

describe('mergeByTime', () => {
  it('takes the earliest head each time, the lower-numbered stream on a tie, whatever the batch sizes and disorder', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
      async (timesPerStream, sizes) => {
        // Roughly ordered like a log: sorted, then a few neighbours swapped.
        const streams = timesPerStream.map((times, id) => {
          const sorted = [...times].sort((a, b) => a - b);
          for (let i = 1; i < sorted.length; i += 5) [sorted[i - 1], sorted[i]] = [sorted[i]!, sorted[i - 1]!];
          return stream(id, sorted);
        });
        const { items } = await merged(streams, sizes);
        expect(items).toEqual(mergedOneByOne(streams));
      },
    ), { numRuns: 300 });
  });

  it('hands on batches of exactly the batch size, whatever the streams\' batches were', async () => {
    const older = stream(1, [1, 2, 3, 4, 5, 6, 7]);
    const newer = stream(0, [10, 11, 12, 13, 14, 15]);
    const batches: Item[][] = [];
    for await (const batch of mergeByTime([batchesOf(newer, [4, 1]), batchesOf(older, [3])], (item) => item.time, 5)) batches.push(batch);
    expect(batches.map((batch) => batch.map((item) => item.time))).toEqual([[1, 2, 3, 4, 5], [6, 7, 10, 11, 12], [13, 14, 15]]);
  });

  it('merges deferred streams in the same order as open ones, opening each only when its first record is due', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }), fc.boolean()), { minLength: 1, maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
      async (specs, sizes) => {
        const streams = specs.map(([times], id) => stream(id, [...times].sort((a, b) => a - b)));
        const taken: Item[] = [];
        // When each deferred stream was opened: how many records the merge had handed on by then.
        const openedAfter = new Map<number, number>();
        const inputs: MergeInput<Item>[] = streams.map((items, id) => {
          if (!specs[id]![1]) return batchesOf(items, sizes);
          const deferred: DeferredStream<Item> = {
            deferred: true,
            first: items[0]!,
            open: () => {
              openedAfter.set(id, taken.length);
              return batchesOf(items, sizes);
            },
          };
          return deferred;
        });
        for await (const batch of mergeByTime(inputs, (item) => item.time, 1)) taken.push(...batch);
        expect(taken).toEqual(mergedOneByOne(streams));
        for (const [id, after] of openedAfter) {
          // Opened when its first record was the next to go: everything before it in the merge had gone.
          expect(taken.indexOf(streams[id]![0]!)).toBe(after);
        }
      },
    ), { numRuns: 300 });
  });

  it('hands one stream through untouched', async () => {
    const only = stream(0, [5, 1, 3]);
    const { batches } = await merged([only], [2]);
    expect(batches).toEqual([[only[0], only[1]], [only[2]], []]);
  });
});
