import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isAscii } from 'node:buffer';
import { hasGzipMagic } from '../sources/gzip-magic.js';
import { LineCap, MAX_LINE_BYTES } from './line-cap.js';
import { ObjectPerLine, opensBackToBack } from './back-to-back-json.js';

/**
 * Bytes to lines. Gzip is recognised by its magic bytes (1f 8b), not by the file name, so
 * `access.log.2.gz`, nginx `access_log ... gzip` output and concatenated members all read alike.
 * Lines come out in batches: one async step per batch, not per line, keeps the hot path cheap.
 */

export interface LineBatch {
  /** Line number of lines[0], 1-based. */
  firstLine: number;
  lines: string[];
  /** Lines of this batch longer than the cap (absolute numbers): their text is only a short sample. */
  tooLong?: number[];
}

/**
 * Lines per batch; a split file is put back into batches on the same line boundaries
 * (worker-sources.ts), and merges of several files or segments cut theirs at this size too
 * (merge-by-time.ts). A batch's lines and records are what each young-generation collection finds
 * alive and copies: 2,048 -> 512 took `alf analyze` of the bench's 1 M high-cardinality `combined`
 * lines from 3.32 to 3.06 s CPU (GC pauses 272 -> 187 ms, `--trace-gc-nvp`), 1 M ALB lines from
 * 6.91 to 6.28 s, and a first `alf scan --format json` of the 24 rotated files from 7.74 to 7.18 s
 * (medians of 3-5 alternating runs; 256 was no better). The joined run, whose records outlive the
 * batch in the join window anyway, stayed at 9.7 s.
 */
export const BATCH_LINES = 512;

/** Resolves to a stream of decompressed bytes: peeks the first chunk (readFirstChunk puts it back). */
export async function decompressIfGzip(stream: Readable): Promise<Readable> {
  const first = await readFirstChunk(stream);
  if (first === null) return stream;
  if (hasGzipMagic(first)) {
    const gunzip = createGunzip();
    stream.on('error', (error) => gunzip.destroy(error));
    return stream.pipe(gunzip);
  }
  return stream;
}

/** A stream of JSON objects back to back (Firehose to S3) as one object a line (back-to-back-json.ts); any other as it is. */
async function objectsAsLines(stream: Readable): Promise<Readable> {
  const first = await readFirstChunk(stream);
  if (first === null || !opensBackToBack(first)) return stream;
  const split = new ObjectPerLine();
  stream.on('error', (error) => split.destroy(error));
  return stream.pipe(split);
}

function readFirstChunk(stream: Readable): Promise<Buffer | null> {
  // Peeked before (decompressIfGzip, then objectsAsLines) and found empty: 'end' will not come again.
  if (stream.readableEnded) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk === null) return;
      cleanup();
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // Put it back now, not after the await: when this was the last chunk, 'end' is already
      // scheduled and an unshift one tick later is lost (in-memory streams lost all their data).
      stream.unshift(bytes);
      resolve(bytes);
    };
    const onEnd = (): void => { cleanup(); resolve(null); };
    const onError = (error: Error): void => { cleanup(); reject(error); };
    const cleanup = (): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * Splits a byte stream into batches of lines, dropping a trailing CR (CRLF files).
 * Lines are cut at 0x0A in the bytes (it never occurs inside a UTF-8 sequence) and each is
 * decoded on its own: with latin1Slice when its chunk is all ASCII (isAscii, one SIMD pass; the
 * same characters, without UTF-8 decoding), else as UTF-8 (invalid bytes become U+FFFD, as
 * before). This replaced split2 and its string decoder (issue 26): on the high-cardinality bench
 * profile (1 M combined lines) splitting and decoding took 1.43 s of 4.9 s CPU in split2 and
 * StringDecoder; this loop is what the bare Node baseline does. (For issue 8 an indexOf splitter
 * had measured within noise of split2; it decoded UTF-8 per line and lost to nothing else then.)
 */
export async function* readLineBatches(input: Readable, maxLineBytes: number = MAX_LINE_BYTES, firstBatchLines: number = BATCH_LINES): AsyncGenerator<LineBatch> {
  try {
    yield* lineBatches(input, maxLineBytes, firstBatchLines);
  } finally {
    // A reader that stops early (a file read up to its first record, then closed) leaves the input
    // unread: ending the pipe after it does not close it, and its file handle stayed open.
    input.destroy();
  }
}

async function* lineBatches(input: Readable, maxLineBytes: number, firstBatchLines: number): AsyncGenerator<LineBatch> {
  const bytes = await objectsAsLines(await decompressIfGzip(input));
  let batch: string[] = [];
  let nextLine = 1;
  /** Lines of the batch being filled: the first may be shorter (a look at a file's first lines). */
  let batchLines = firstBatchLines;
  // Over-long lines are cut before decoding (bounded memory); `cut` says which, `tooLong` collects them.
  const cap = new LineCap(maxLineBytes);
  const tooLong: number[] = [];
  let lineNumber = 0;
  const push = (line: string): void => {
    lineNumber++;
    if (cap.cut[0] === lineNumber) {
      cap.cut.shift();
      tooLong.push(lineNumber);
      // A fresh copy: a slice would keep the whole (up to 1 MiB) line alive in issue examples.
      line = Buffer.from(line.slice(0, CUT_SAMPLE_CHARS)).toString();
    }
    batch.push(line);
  };
  /** The bytes of a line that began in an earlier chunk (at most the cap, LineCap sees to it). */
  let carry: Buffer | null = null;
  bytes.on('error', (error) => cap.destroy(error));
  for await (const chunk of bytes.pipe(cap) as AsyncIterable<Buffer>) {
    const ascii = isAscii(chunk);
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      if (carry !== null) {
        const whole = Buffer.concat([carry, chunk.subarray(0, newline)]);
        carry = null;
        const end = whole.length > 0 && whole[whole.length - 1] === 0x0d ? whole.length - 1 : whole.length;
        push(whole.toString('utf8', 0, end));
      } else {
        const end = newline > start && chunk[newline - 1] === 0x0d ? newline - 1 : newline;
        push(chunk.toString(ascii ? 'latin1' : 'utf8', start, end));
      }
      start = newline + 1;
      if (batch.length >= batchLines) {
        yield withTooLong({ firstLine: nextLine, lines: batch }, tooLong);
        nextLine += batch.length;
        batch = [];
        batchLines = BATCH_LINES;
      }
    }
    if (start < chunk.length) carry = carry === null ? Buffer.from(chunk.subarray(start)) : Buffer.concat([carry, chunk.subarray(start)]);
  }
  if (carry !== null && carry.length > 0) {
    const end = carry[carry.length - 1] === 0x0d ? carry.length - 1 : carry.length;
    push(carry.toString('utf8', 0, end));
  }
  if (batch.length > 0) yield withTooLong({ firstLine: nextLine, lines: batch }, tooLong);
}

/** Enough of a cut line for an issue's excerpt. */
const CUT_SAMPLE_CHARS = 1024;

/** Moves the cut line numbers that fall in `batch` from the front of `pending` onto it. */
function withTooLong(batch: LineBatch, pending: number[]): LineBatch {
  if (pending.length === 0 || pending[0]! >= batch.firstLine + batch.lines.length) return batch;
  let n = 0;
  while (n < pending.length && pending[n]! < batch.firstLine + batch.lines.length) n++;
  batch.tooLong = pending.splice(0, n);
  return batch;
}
