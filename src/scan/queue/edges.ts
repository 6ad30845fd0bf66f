import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_JOIN_OPTIONS } from '../../join/options.js';
import type { LogRecord } from '../../model/records.js';
import { createSegmentWriter, readSegment, type SegmentFileWriter } from '../segment-file.js';

/**
 * The edges of a window's segment: the records a neighbouring window's reduce may need, so it
 * reads those instead of the whole segment. Segments hold records by start time; a window's
 * reduce (src/scan/queue/reduce-task.ts) needs, of the windows before it, the records that
 * started within the join's horizon plus clock skew of its start (a proxy line logged in it,
 * an APM transaction its proxy lines may pair with), and of the window after it, the
 * transactions that started within the skew of its end. Written by the map that wrote the
 * segment, so this reading is spread over the maps rather than repeated by two reduces.
 */

/** How far before a window's start its reduce borrows records. */
export const BORROW_BEFORE_MS = DEFAULT_JOIN_OPTIONS.horizonMs + DEFAULT_JOIN_OPTIONS.maxSkewMs;
/** How far after a window's end its reduce borrows records. */
export const BORROW_AFTER_MS = DEFAULT_JOIN_OPTIONS.maxSkewMs;

export interface SegmentEdges {
  /** Records the window before may need (started within BORROW_AFTER_MS of this window's start); null: none. */
  head: string | null;
  /** Records the windows after may need (started within BORROW_BEFORE_MS of this window's end); null: none. */
  tail: string | null;
}

/**
 * Writes `head` and `tail` copies of the segment at `path` (a window starting at `startMs`).
 * A window no longer than the borrowing reach is all tail: the segment itself is named.
 */
export async function writeEdges(path: string, startMs: number, windowMs: number, headPath: string, tailPath: string): Promise<SegmentEdges> {
  const tailFrom = startMs + windowMs - BORROW_BEFORE_MS;
  const headUntil = startMs + BORROW_AFTER_MS;
  const wholeTail = tailFrom <= startMs;
  const head = await openWriter(headPath);
  const tail = wholeTail ? null : await openWriter(tailPath);
  let heads = 0;
  let tails = 0;
  try {
    for await (const batch of readSegment(path, () => undefined)) {
      const inHead: LogRecord[] = [];
      const inTail: LogRecord[] = [];
      for (const record of batch) {
        if (record.startMs < headUntil) inHead.push(record);
        if (!wholeTail && record.startMs >= tailFrom) inTail.push(record);
      }
      if (inHead.length > 0) await head.write(inHead);
      if (tail && inTail.length > 0) await tail.write(inTail);
      heads += inHead.length;
      tails += inTail.length;
    }
  } catch (error) {
    await head.abort();
    await tail?.abort();
    throw error;
  }
  const finish = async (writer: SegmentFileWriter | null, count: number, out: string): Promise<string | null> => {
    if (writer === null) return null;
    if (count === 0) {
      await writer.abort();
      return null;
    }
    await writer.close([]);
    return out;
  };
  return { head: await finish(head, heads, headPath), tail: wholeTail ? path : await finish(tail, tails, tailPath) };
}

async function openWriter(path: string): Promise<SegmentFileWriter> {
  await mkdir(dirname(path), { recursive: true });
  return createSegmentWriter(path);
}
