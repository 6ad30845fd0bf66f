import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FileStats } from '../ingest/file-stats.js';
import { readLineBatches } from '../ingest/lines.js';
import type { LogRecord } from '../model/records.js';

/**
 * How one spool segment is encoded on disk: today gzipped NDJSON, one record a line, then one
 * trailer line per source with its counters. Everything that writes or reads segment bytes goes
 * through this file (the spool router, replay's merges, checksums), so the encoding can be
 * replaced by another without touching how segments are named, committed or replayed.
 */

export const SEGMENT_EXTENSION = '.ndjson.gz';
const TRAILER_PREFIX = '{"alfSegment":';

/** Size and checksum of a segment file as written, kept in the manifest to find loss and damage. */
export interface SegmentDigest {
  bytes: number;
  sha256: string;
}

export interface SegmentFileWriter {
  write(records: readonly LogRecord[]): Promise<void>;
  /** Writes the trailer (counters of each source in the segment) and closes; resolves once on disk. */
  close(stats: readonly FileStats[]): Promise<SegmentDigest>;
  /** Stops writing and removes the file. */
  abort(): Promise<void>;
}

export function createSegmentWriter(path: string): SegmentFileWriter {
  // Level 1: spooling is on the hot path, and NDJSON records still shrink about 5x.
  const gzip = createGzip({ level: 1 });
  const hash = createHash('sha256');
  let bytes = 0;
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  // pipeline, not pipe: a failed write (ENOSPC, EFBIG) destroys the gzip stream too, so a writer
  // waiting for 'drain' is rejected instead of waiting forever.
  const done = pipeline(gzip, createWriteStream(path));
  done.catch(() => undefined); // observed by write/close/abort
  const flushed = async (ok: boolean): Promise<void> => {
    if (!ok) await Promise.race([once(gzip, 'drain'), done]);
  };
  return {
    async write(records) {
      let text = '';
      for (const record of records) text += `${JSON.stringify(record)}\n`;
      await flushed(gzip.write(text));
    },
    async close(stats) {
      let trailer = '';
      for (const s of stats) trailer += `${TRAILER_PREFIX}1,"stats":${JSON.stringify(s)}}\n`;
      gzip.end(trailer);
      await done;
      return { bytes, sha256: hash.digest('hex') };
    },
    async abort() {
      gzip.destroy();
      await done.catch(() => undefined);
      await rm(path, { force: true });
    },
  };
}

/** A segment's records in file order; each trailer's counters go to `onStats`. */
export async function* readSegment(path: string, onStats: (stats: FileStats) => void): AsyncGenerator<LogRecord[]> {
  for await (const batch of readLineBatches(createReadStream(path, { highWaterMark: 64 * 1024 }))) {
    const records: LogRecord[] = [];
    for (const line of batch.lines) {
      if (line.length === 0) continue;
      if (line.startsWith(TRAILER_PREFIX)) {
        onStats((JSON.parse(line) as { stats: FileStats }).stats);
        continue;
      }
      records.push(JSON.parse(line) as LogRecord);
    }
    if (records.length > 0) yield records;
  }
}

/** Size and checksum of a segment file as it is now. */
export async function digestSegment(path: string): Promise<SegmentDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
