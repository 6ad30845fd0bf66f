import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import split2 from 'split2';

/**
 * Bytes to lines. Gzip is recognised by its magic bytes (1f 8b), not by the file name, so
 * `access.log.2.gz`, nginx `access_log ... gzip` output and concatenated members all read alike.
 * Lines come out in batches: one async step per batch, not per line, keeps the hot path cheap.
 */

export interface LineBatch {
  /** Line number of lines[0], 1-based. */
  firstLine: number;
  lines: string[];
}

const BATCH_LINES = 2048;

/** Resolves to a stream of decompressed bytes: peeks the first chunk and puts it back. */
export async function decompressIfGzip(stream: Readable): Promise<Readable> {
  const first = await readFirstChunk(stream);
  if (first === null) return stream;
  stream.unshift(first);
  if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = createGunzip();
    stream.on('error', (error) => gunzip.destroy(error));
    return stream.pipe(gunzip);
  }
  return stream;
}

function readFirstChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk === null) return;
      cleanup();
      resolve(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
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

/** Splits a byte stream into batches of lines, dropping a trailing CR (CRLF files). */
export async function* readLineBatches(input: Readable): AsyncGenerator<LineBatch> {
  const bytes = await decompressIfGzip(input);
  let batch: string[] = [];
  let nextLine = 1;
  // split2's mapper gathers lines; returning undefined pushes nothing, so only full batches travel.
  const splitter = split2('\n', (line: string): string[] | undefined => {
    batch.push(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
    if (batch.length < BATCH_LINES) return undefined;
    const full = batch;
    batch = [];
    return full;
  });
  bytes.on('error', (error) => splitter.destroy(error));
  for await (const full of bytes.pipe(splitter) as AsyncIterable<string[]>) {
    yield { firstLine: nextLine, lines: full };
    nextLine += full.length;
  }
  if (batch.length > 0) yield { firstLine: nextLine, lines: batch };
}
