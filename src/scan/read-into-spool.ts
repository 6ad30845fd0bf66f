import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FormatDef } from '../../parsers/format.js';
import { CompleteLines } from '../ingest/complete-lines.js';
import type { FileStats } from '../ingest/file-stats.js';
import type { LogRecord } from '../model/records.js';
import { parseSource } from '../ingest/parse-source.js';
import type { Source } from '../ingest/sources.js';
import { SpoolRouter } from './spool.js';

/** How records are read: detection candidates, and a way to force a remembered format. */
export interface ParseSettings {
  candidates: readonly FormatDef[];
  formatById: (id: string) => FormatDef | undefined;
  keyField?: string;
  /** Records outside this test are not spooled (`--since` / `--until`); none: every record. */
  keep?: (record: LogRecord) => boolean;
}

export interface SpoolTarget {
  spoolRoot: string;
  windowMs: number;
  run: number;
}

export interface ReadResult {
  stats: FileStats;
  /** Spool-relative paths of the segments written. */
  segments: string[];
  windows: number[];
  /** Decompressed bytes consumed (up to the last complete line for files). */
  bytes: number;
}

/**
 * The new part of a local file as a Source: plain files are read from `from` up to the size seen
 * at planning (a writer appending meanwhile is seen next run); gzip files are decompressed and
 * the first `from` bytes skipped. Only complete lines pass.
 */
export function fileRangeSource(path: string, from: number, size: number, gzip: boolean): { source: Source; counter: () => CompleteLines | null } {
  let trimmer: CompleteLines | null = null;
  return {
    counter: () => trimmer,
    source: {
      name: path,
      open(): Readable {
        const out = new PassThrough();
        if (!gzip && size <= from) {
          trimmer = new CompleteLines(0);
          out.end();
          return out;
        }
        const raw = gzip ? createReadStream(path) : createReadStream(path, { start: from, end: size - 1 });
        trimmer = new CompleteLines(gzip ? from : 0);
        const forward = (error: Error): void => { out.destroy(error); };
        raw.on('error', forward);
        trimmer.on('error', forward);
        if (gzip) {
          const gunzip = createGunzip();
          gunzip.on('error', forward);
          raw.pipe(gunzip).pipe(trimmer).pipe(out);
        } else {
          raw.pipe(trimmer).pipe(out);
        }
        return out;
      },
    },
  };
}

/** Parses one source and spools its records by window. On failure nothing it wrote remains. */
export async function readIntoSpool(
  source: Source, identity: string, from: number, forced: FormatDef | undefined, settings: ParseSettings, target: SpoolTarget, lineOffset = 0,
): Promise<ReadResult> {
  const router = new SpoolRouter(target.spoolRoot, target.windowMs, identity, source.name, from, target.run);
  const parsed = parseSource(source, { candidates: settings.candidates, forced, keyField: settings.keyField, keepGoing: false, lineOffset });
  try {
    const keep = settings.keep;
    for await (const batch of parsed.batches) await router.add(keep ? batch.filter(keep) : batch);
    await router.close(parsed.stats);
  } catch (error) {
    await router.abort();
    throw error;
  }
  return { stats: parsed.stats, segments: [...router.written], windows: router.windows(), bytes: 0 };
}
