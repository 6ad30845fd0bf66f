import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { FormatDef } from '../../../parsers/format.js';
import { FORMATS } from '../../../parsers/registry.js';
import { APACHE_LOG_FORMAT_ID } from '../../../parsers/apache-log-format.js';
import { emptyFileStats } from '../../model/file-stats.js';
import { startsWithGzipMagic } from '../../sources/gzip-magic.js';
import { readLineBatches } from '../../lines/lines.js';
import { pickFormat, type FormatChoice } from '../parse-source.js';
import { READ_CHUNK_BYTES } from '../../sources/sources.js';

/**
 * Splitting one big plain file into line-aligned byte ranges, so several workers parse it at once
 * (`alf analyze --jobs N`). The main thread reads the ranges back in file order; each range's
 * records count lines from the range's start, and the main thread adds the lines of the ranges
 * before it (src/parse/workers/worker-sources.ts): no pass over the file to count newlines first.
 */

/** [start, end) in bytes; the last range has no end and reads to EOF, as a single-threaded read would. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface SplitSettings {
  /** Plain files at least this large are split. */
  minBytes: number;
  /** About this many bytes per range (cut at the next line start). */
  rangeBytes: number;
}

/**
 * 64 MiB: below it, a file is read by one worker while the main thread joins and detects, which is
 * most of the gain on two cores. Ranges of 8 MiB (~50 k combined lines): small enough that several
 * are parsed ahead of the main thread with bounded memory, large enough that a range's start-up
 * (a read stream, a fresh string table) is noise.
 */
export const DEFAULT_SPLIT: SplitSettings = { minBytes: 64 * 1024 * 1024, rangeBytes: 8 * 1024 * 1024 };

/**
 * Formats whose parser keeps no state from line to line, so a range can be parsed on its own: each
 * format says so in its traits (not: CSV and CloudFront, whose header names the columns; the JSON
 * document formats; Apache with %D/%T, judged on the whole file's durations). A `--log-format`
 * compiles under the id `nginx`. test/parse/workers/byte-ranges.test.ts checks each against a whole-file parse.
 */
export const SPLITTABLE_FORMATS: ReadonlySet<string> = new Set(
  [...FORMATS.filter((format) => format.traits.splittable).map((format) => format.id), 'nginx', APACHE_LOG_FORMAT_ID],
);

export interface SplitPlan {
  format: FormatDef;
  ranges: ByteRange[];
}

/**
 * Whether and how to split `path`: only a plain (not gzip) regular file of at least `minBytes`,
 * whose format (given, or detected from its first lines exactly as parseSource would) is
 * splittable. Null means: read it whole, in one worker. An unreadable file is not split either;
 * its worker then reports the error as a single-threaded run would.
 */
export async function planSplit(path: string, name: string, size: number | undefined, choice: FormatChoice, settings: SplitSettings, from = 0): Promise<SplitPlan | null> {
  if (size === undefined || size - from < settings.minBytes) return null;
  try {
    if (await startsWithGzipMagic(path)) return null;
    const format = await fileFormat(path, name, choice);
    if (format === null || !format.traits.splittable) return null;
    const ranges = await lineAlignedRanges(path, size, settings.rangeBytes, from);
    return ranges.length < 2 ? null : { format, ranges };
  } catch {
    return null;
  }
}

/** The format parseSource would pick for a file: the one given, or detected from its first lines. */
export async function fileFormat(path: string, name: string, choice: FormatChoice): Promise<FormatDef | null> {
  return choice.forced ?? (await detectFromHead(path, name, choice.candidates));
}

/** The format parseSource would pick: the same first batch of lines, the same detection. */
async function detectFromHead(path: string, name: string, candidates: readonly FormatDef[]): Promise<FormatDef | null> {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const batch of readLineBatches(stream)) return pickFormat(name, batch.lines, candidates, emptyFileStats(name));
    return null;
  } finally {
    stream.destroy();
  }
}

/** Ranges of about `rangeBytes` from `from` (a line's start: 0, or where an earlier read stopped), each starting just after a newline. */
export async function lineAlignedRanges(path: string, size: number, rangeBytes: number, from = 0): Promise<ByteRange[]> {
  const handle = await open(path, 'r');
  try {
    const ranges: ByteRange[] = [];
    let start = from;
    for (;;) {
      const boundary = start + rangeBytes < size ? await nextLineStart(handle, start + rangeBytes, size) : null;
      if (boundary === null) break;
      ranges.push({ start, end: boundary });
      start = boundary;
    }
    ranges.push({ start });
    return ranges;
  } finally {
    await handle.close();
  }
}

const SCAN_BYTES = 64 * 1024;

/** The first position at or after `from` that follows a newline, below `size`; null when there is none. */
async function nextLineStart(handle: FileHandle, from: number, size: number): Promise<number | null> {
  const buffer = Buffer.alloc(SCAN_BYTES);
  // Start one byte early: if the byte before `from` is a newline, `from` itself starts a line.
  for (let at = from - 1; at < size; at += SCAN_BYTES) {
    const { bytesRead } = await handle.read(buffer, 0, SCAN_BYTES, at);
    if (bytesRead === 0) return null;
    const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
    if (newline >= 0) {
      const boundary = at + newline + 1;
      return boundary < size ? boundary : null;
    }
  }
  return null;
}
