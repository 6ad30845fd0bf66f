import { randomUUID } from 'node:crypto';
import { join, relative as relative_ } from 'node:path';
import { createS3Client, s3ObjectSource } from '../../sources/s3-source.js';
import type { Source } from '../../sources/sources.js';
import { describeOperational, isOperational } from '../operational.js';
import { fileRangeSource, readIntoSpool, SourceReadError } from '../read-into-spool.js';
import { syncSegments } from '../spool.js';
import { parseWindowLabel } from '../windows.js';
import { writeEdges } from './edges.js';
import { QUEUE_DIR, type MapResult, type MapTask } from './tasks.js';
import { workerSettings } from './task-settings.js';

/**
 * A map task: one object, or one line-aligned byte range of a big plain file, parsed into spool
 * segments (one per window it touches) through the scan's own reader and segment files.
 *
 * Every execution writes under a directory of its own, `maps/<task id>/<execution>/`, and returns
 * the paths it wrote: only the result BullMQ records for the task is ever read. An execution
 * killed midway (SIGKILL, a lost machine) leaves a directory nobody refers to, and one that was
 * only thought dead (a stalled lock) cannot overwrite the segments of the execution that counts.
 */
export async function runMapTask(task: MapTask): Promise<MapResult> {
  const settings = workerSettings(task.settings);
  const runDir = join(task.outDir, QUEUE_DIR, task.runId);
  const relative = join('maps', task.taskId, randomUUID().slice(0, 12));
  const spoolRoot = join(runDir, relative);
  const { source, from, forcedId, counter } = mapSource(task);
  const result: MapResult = {
    source: source.name, object: task.object, continues: task.continues, from, end: from, complete: false,
    segments: [], linesRead: 0, records: 0, skipped: 0, failure: null, unparsed: null,
  };
  try {
    const forced = forcedId === undefined ? undefined : settings.parse.formatById(forcedId);
    const identity = task.source.kind === 's3' ? `${source.name}@${task.source.etag}` : `${task.source.path}#${from}`;
    const read = await readIntoSpool(source, identity, from, forced, settings.parse, { spoolRoot, windowMs: task.settings.windowMs, run: 1 });
    if (read.undetected !== null) {
      result.unparsed = read.undetected;
      return result;
    }
    const written: string[] = read.segments.map((s) => s.path);
    for (const segment of read.segments) {
      const window = segment.path.split(/[\\/]/)[0]!;
      const edges = await writeEdges(join(spoolRoot, segment.path), parseWindowLabel(window)!, task.settings.windowMs,
        join(spoolRoot, 'head', segment.path), join(spoolRoot, 'tail', segment.path));
      const edge = (path: string | null): string | null => (path === null ? null : relative_(spoolRoot, path));
      for (const path of [edges.head, edges.tail]) if (path !== null && edge(path) !== segment.path) written.push(edge(path)!);
      result.segments.push({ path: join(relative, segment.path), window, records: segment.records,
        head: edges.head === null ? null : join(relative, edge(edges.head)!), tail: edges.tail === null ? null : join(relative, edge(edges.tail)!) });
    }
    await syncSegments(spoolRoot, written);
    result.linesRead = read.stats.linesRead;
    result.records = read.stats.records;
    result.skipped = read.stats.skipped;
    // The next run reads on from the last complete line (S3 objects are read whole, or again).
    result.end = from + (counter?.()?.passed ?? task.object.size);
    result.complete = true;
    // A run's reports cannot wait for a line still being written: it is named, and the next run
    // reads it once it ends (the object ledger remembers where this read stopped).
    const pending = counter?.()?.unterminatedBytes ?? 0;
    if (pending > 0) result.failure = `${pending} bytes at its end hold no newline (a line still being written?): not read yet`;
  } catch (error) {
    // A source that cannot be read is named in the outcome (exit 2), as alf scan does; the task
    // itself succeeds, so BullMQ does not retry what would fail the same way.
    if (!(error instanceof SourceReadError) && !isOperational(error)) throw error;
    result.failure = describeOperational(error);
  }
  return result;
}

function mapSource(task: MapTask): { source: Source; from: number; forcedId?: string; counter?: () => { passed: number; unterminatedBytes: number } | null } {
  const s = task.source;
  if (s.kind === 's3') {
    const client = createS3Client(task.settings.endpoint, task.settings.s3TimeoutMs);
    return { source: s3ObjectSource(client, { bucket: s.bucket, key: s.key, etag: s.etag, size: s.size, lastModifiedMs: s.lastModifiedMs }), from: 0 };
  }
  const { source, counter } = fileRangeSource(s.path, s.from, s.end, s.gzip, s.settledTail);
  return { source: { ...source, listed: s.named !== true }, from: s.from, forcedId: s.formatId, counter };
}
