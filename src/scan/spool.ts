import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';
import { emptyFileStats, type FileStats } from '../ingest/file-stats.js';
import { readLineBatches } from '../ingest/lines.js';
import type { LogRecord } from '../model/records.js';
import { fnv1a } from './shard.js';
import { syncDirectory } from './atomic-write.js';
import { windowLabel, windowStart } from './windows.js';

/**
 * The spool: every record a scan parsed, normalised, as gzipped NDJSON under
 * `<out>/spool/<window>/`. One segment per (source read, window). Window reports are replayed
 * from all live segments of the window, so a late APM export joins the proxy lines it belongs
 * to, a killed run's debris is simply ignored (its run number is above the committed one), and
 * `alf merge` joins shards exactly as one run would.
 *
 * Segment name: `<source hash>-<start offset>-<kind>-r<run>.ndjson.gz`. Replays order segments
 * by name without the run, a canonical order that does not depend on which run or shard
 * read what. The last line is a trailer with the source's counters for that window.
 */

export const SPOOL_DIR = 'spool';
const TRAILER_PREFIX = '{"alfSegment":';

export interface SegmentName {
  file: string;
  sortKey: string;
  kind: 'proxy' | 'apm';
  run: number;
}

const NAME = /^([0-9a-f]{8}-[0-9a-f]{8}-\d{14})-(proxy|apm)-r(\d{6})\.ndjson\.gz$/;

export function parseSegmentName(file: string): SegmentName | null {
  const match = NAME.exec(file);
  if (!match) return null;
  return { file, sortKey: `${match[1]}-${match[2]}`, kind: match[2] as 'proxy' | 'apm', run: Number(match[3]) };
}

function segmentFile(identity: string, path: string, from: number, kind: 'proxy' | 'apm', run: number): string {
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  return `${hex(fnv1a(identity))}-${hex(fnv1a(path))}-${String(from).padStart(14, '0')}-${kind}-r${String(run).padStart(6, '0')}.ndjson.gz`;
}

class SegmentWriter {
  readonly gzip: Gzip;
  readonly file: WriteStream;
  readonly stats: FileStats;

  constructor(readonly path: string, sourceName: string) {
    // Level 1: spooling is on the hot path, and NDJSON records still shrink about 5x.
    this.gzip = createGzip({ level: 1 });
    this.file = createWriteStream(path);
    this.gzip.pipe(this.file);
    this.stats = emptyFileStats(sourceName);
  }

  async write(text: string): Promise<void> {
    if (!this.gzip.write(text)) await once(this.gzip, 'drain');
  }

  async close(): Promise<void> {
    this.gzip.end(`${TRAILER_PREFIX}1,"stats":${JSON.stringify(this.stats)}}\n`);
    await once(this.file, 'close');
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await rm(this.path, { force: true });
  }
}

/** Routes one source read's records to a segment per window. */
export class SpoolRouter {
  private readonly writers = new Map<number, SegmentWriter>();
  private firstWindow: number | null = null;
  readonly written: string[] = [];

  constructor(
    private readonly spoolRoot: string,
    private readonly windowMs: number,
    private readonly identity: string,
    private readonly sourceName: string,
    private readonly from: number,
    private readonly run: number,
  ) {}

  async add(records: readonly LogRecord[]): Promise<void> {
    for (const record of records) {
      const start = windowStart(record.startMs, this.windowMs);
      let writer = this.writers.get(start);
      if (!writer) writer = await this.open(start, record.kind);
      writer.stats.records++;
      writer.stats.linesRead++;
      if (writer.stats.firstTimeMs === null || record.startMs < writer.stats.firstTimeMs) writer.stats.firstTimeMs = record.startMs;
      if (writer.stats.lastTimeMs === null || record.startMs > writer.stats.lastTimeMs) writer.stats.lastTimeMs = record.startMs;
      await writer.write(`${JSON.stringify(record)}\n`);
    }
  }

  private async open(start: number, kind: 'proxy' | 'apm'): Promise<SegmentWriter> {
    const directory = join(this.spoolRoot, windowLabel(start));
    await mkdir(directory, { recursive: true });
    const name = segmentFile(this.identity, this.sourceName, this.from, kind, this.run);
    const writer = new SegmentWriter(join(directory, name), this.sourceName);
    this.writers.set(start, writer);
    this.firstWindow ??= start;
    this.written.push(join(windowLabel(start), name));
    return writer;
  }

  /**
   * Closes every segment. The lines that were not records (skipped, ignored) are counted in
   * the first window this read touched, so a window's read = parsed + skipped + ignored.
   */
  async close(source: FileStats): Promise<void> {
    if (this.firstWindow !== null) {
      const first = this.writers.get(this.firstWindow)!.stats;
      first.format = source.format;
      first.kind = source.kind;
      first.linesRead += source.skipped + source.ignored;
      first.skipped += source.skipped;
      first.ignored += source.ignored;
      first.issuesByCode = { ...source.issuesByCode };
      first.firstIssues = [...source.firstIssues];
      first.error = source.error;
      first.undetected = source.undetected;
      for (const writer of this.writers.values()) {
        writer.stats.format = source.format;
        writer.stats.kind = source.kind;
      }
    }
    for (const writer of this.writers.values()) await writer.close();
  }

  async abort(): Promise<void> {
    for (const writer of this.writers.values()) await writer.abort();
    this.written.length = 0;
  }

  windows(): number[] {
    return [...this.writers.keys()];
  }
}

/** A segment's records in file order; its trailer's counters go to `onStats`. */
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

/**
 * Makes a run's segments durable before the state that counts them is written: one pass at the
 * end, in parallel, rather than an fsync per source on the read path.
 */
export async function syncSegments(spoolRoot: string, relativePaths: readonly string[]): Promise<void> {
  const directories = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < relativePaths.length) {
      const path = join(spoolRoot, relativePaths[next++]!);
      directories.add(dirname(path));
      const handle = await open(path, 'r');
      await handle.sync();
      await handle.close();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  for (const directory of directories) await syncDirectory(directory);
}

export interface WindowSegments {
  label: string;
  segments: SegmentName[];
}

/** Every window directory of a spool and its segments (debris and retracted ones included). */
export async function listSpool(spoolRoot: string): Promise<WindowSegments[]> {
  let labels: string[];
  try {
    labels = (await readdir(spoolRoot)).filter((name) => !name.startsWith('.')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: WindowSegments[] = [];
  for (const label of labels) {
    const files = await readdir(join(spoolRoot, label));
    const segments = files.map(parseSegmentName).filter((s): s is SegmentName => s !== null);
    out.push({ label, segments });
  }
  return out;
}
