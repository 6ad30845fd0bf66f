import { Transform } from 'node:stream';
import type { Source } from './sources.js';

/** Receives how far ingest got; the CLI draws a bar from it on a TTY, and nothing otherwise. */
export interface ProgressSink {
  start(totalBytes: number | null, files: number): void;
  advance(bytes: number): void;
  stop(): void;
}

/** A source whose raw bytes (before gunzip) are counted as they are read. */
export function countingSource(source: Source, onBytes: (bytes: number) => void): Source {
  return {
    // The rest as it was: whether the source was listed decides how a file without requests is taken.
    ...source,
    open() {
      const raw = source.open();
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      });
      raw.on('error', (error) => counter.destroy(error));
      return raw.pipe(counter);
    },
  };
}

/** Total size when every source knows its size (stdin does not). */
export function totalSize(sources: readonly Source[]): number | null {
  let total = 0;
  for (const source of sources) {
    if (source.size === undefined) return null;
    total += source.size;
  }
  return total;
}
