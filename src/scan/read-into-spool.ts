import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FormatDef } from '../../parsers/format.js';
import { CompleteLines } from '../lines/complete-lines.js';
import type { FileStats } from '../model/file-stats.js';
import type { LogRecord } from '../model/records.js';
import { parseSource, type FormatMemo } from '../parse/parse-source.js';
import type { Source } from '../sources/sources.js';
import { InputError } from '../model/errors.js';
import { describeOperational, ScanAbort } from './operational.js';
import { SpoolRouter, type WrittenSegment } from './spool.js';

/** How records are read: detection candidates, and a way to force a remembered format. */
export interface ParseSettings {
  candidates: readonly FormatDef[];
  formatById: (id: string) => FormatDef | undefined;
  keyField?: string;
  /** `--timezone`: the zone of local times a format writes without an offset (remembered by the state: src/scan/state.ts). */
  timeZone?: string;
  /** Records outside this test are not spooled (`--since` / `--until`); none: every record. */
  keep?: (record: LogRecord) => boolean;
  /** The scan's last detected format, tried first on the next object (parse-source.ts). */
  memo?: FormatMemo;
}

export interface SpoolTarget {
  spoolRoot: string;
  windowMs: number;
  run: number;
}

export interface ReadResult {
  stats: FileStats;
  /** The segments written (spool-relative paths, counts, checksums). */
  segments: WrittenSegment[];
  /** Why no format fits the source (nothing was spooled: it is not done), or null. */
  undetected: string | null;
  windows: number[];
  /** Decompressed bytes consumed (up to the last complete line for files). */
  bytes: number;
}

/**
 * The new part of a local file as a Source: plain files are read from `from` up to the size seen
 * at planning (a writer appending meanwhile is seen next run); gzip files are decompressed and
 * the first `from` bytes skipped. Only complete lines pass.
 */
export function fileRangeSource(path: string, from: number, size: number, gzip: boolean, settledTail = false): { source: Source; counter: () => CompleteLines | null } {
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
        // A gzip file is complete once it decodes to its end (one still being written fails as
        // truncated), so its last line counts even without a newline; a plain file's waits,
        // unless the file has settled (file-plan.ts, SETTLED_TAIL_MS).
        trimmer = new CompleteLines(gzip ? from : 0, gzip || settledTail);
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

/** A source that could not be read to the end (I/O error, truncated gzip, network): it is retried next run. */
export class SourceReadError extends InputError {
  override name = 'SourceReadError';
}

/**
 * Parses one source and spools its records by window. On failure nothing it wrote remains: a
 * failed read of the source is a SourceReadError (that source fails, the run goes on); a failed
 * write of the spool is a ScanAbort (the run cannot go on).
 */
export async function readIntoSpool(
  source: Source, identity: string, from: number, forced: FormatDef | undefined, settings: ParseSettings, target: SpoolTarget, lineOffset = 0,
): Promise<ReadResult> {
  const router = new SpoolRouter(target.spoolRoot, target.windowMs, identity, source.name, from, target.run);
  // The stream's own error, kept: parsing records only its message, and a caller tells a dead
  // endpoint (stop trying its other objects) from one bad object by it.
  let streamError: unknown = null;
  const tracked: Source = {
    ...source,
    open() {
      const stream = source.open();
      stream.once('error', (error) => { streamError ??= error; });
      return stream;
    },
  };
  const parsed = parseSource(tracked, { candidates: settings.candidates, forced, keyField: settings.keyField, timeZone: settings.timeZone, keepGoing: true, lineOffset, stopWhenUndetected: true, memo: settings.memo });
  const spoolFailure = (error: unknown): ScanAbort => new ScanAbort(`cannot write the spool in ${target.spoolRoot}: ${describeOperational(error)}`);
  try {
    const keep = settings.keep;
    for await (const batch of parsed.batches) await router.add(keep ? batch.filter(keep) : batch).catch((error: unknown) => { throw spoolFailure(error); });
    if (parsed.stats.error !== null) throw new SourceReadError(parsed.stats.error, { cause: streamError ?? undefined });
    if (parsed.stats.format === null && parsed.stats.undetected !== null) {
      await router.abort();
      return { stats: parsed.stats, segments: [], windows: [], bytes: 0, undetected: parsed.stats.undetected };
    }
    await router.close(parsed.stats).catch((error: unknown) => { throw spoolFailure(error); });
  } catch (error) {
    await router.abort().catch(() => undefined);
    throw error;
  }
  return { stats: parsed.stats, segments: [...router.written], windows: router.windows(), bytes: 0, undetected: null };
}
