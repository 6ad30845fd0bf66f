import { mkdir, open, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { emptyFileStats, type FileStats } from '../model/file-stats.js';
import type { LogRecord } from '../model/records.js';
import { fnv1a } from './shard.js';
import { syncDirectory } from './atomic-write.js';
import { createSegmentWriter, LEGACY_SEGMENT_EXTENSION, SEGMENT_EXTENSION, type SegmentDigest, type SegmentFileWriter } from './segment-file.js';
import { windowLabel, windowStart } from './windows.js';

/**
 * The spool: every record a scan parsed, normalised, in binary segments under
 * `<out>/spool/<window>/` (encoded by segment-file.ts). One segment per (source read, window). Window reports are replayed
 * from all live segments of the window, so a late APM export joins the proxy lines it belongs
 * to, a killed run's debris is simply ignored (its run number is above the committed one), and
 * `alf merge` joins shards exactly as one run would.
 *
 * Segment name: `<source hash>-<start offset>-<kind>-r<run>.alfseg` (`.ndjson.gz` from alf before
 * issue 26, still listed and read). Replays order segments
 * by name without the run, a canonical order that does not depend on which run or shard
 * read what. The last line is a trailer with the source's counters for that window.
 */

export const SPOOL_DIR = 'spool';

export interface SegmentName {
  file: string;
  sortKey: string;
  kind: 'proxy' | 'apm';
  run: number;
}

const NAME = new RegExp(`^(([0-9a-f]{8})-[0-9a-f]{8}-(\\d{14}))-(proxy|apm)-r(\\d{6})(?:${SEGMENT_EXTENSION.replaceAll('.', '\\.')}|${LEGACY_SEGMENT_EXTENSION.replaceAll('.', '\\.')})$`);

export interface SegmentName {
  file: string;
  sortKey: string;
  kind: 'proxy' | 'apm';
  run: number;
  /** fnv1a of the source identity (hex): which file entry or object version wrote it. */
  identityHash: string;
  /** Decompressed byte offset of the source where the read that wrote it started. */
  from: number;
}

export function parseSegmentName(file: string): SegmentName | null {
  const match = NAME.exec(file);
  if (!match) return null;
  return { file, sortKey: `${match[1]}-${match[4]}`, kind: match[4] as 'proxy' | 'apm', run: Number(match[5]), identityHash: match[2]!, from: Number(match[3]) };
}

export function identityHash(identity: string): string {
  return fnv1a(identity).toString(16).padStart(8, '0');
}

function segmentFile(identity: string, path: string, from: number, kind: 'proxy' | 'apm', run: number): string {
  return `${identityHash(identity)}-${identityHash(path)}-${String(from).padStart(14, '0')}-${kind}-r${String(run).padStart(6, '0')}${SEGMENT_EXTENSION}`;
}

/** A segment this run wrote: spool-relative path, what it holds, and its checksum for the manifest. */
export interface WrittenSegment extends SegmentDigest {
  path: string;
  records: number;
}

class SegmentWriter {
  readonly file: SegmentFileWriter;
  readonly stats: FileStats;

  constructor(readonly path: string, sourceName: string) {
    this.file = createSegmentWriter(path);
    this.stats = emptyFileStats(sourceName);
  }
}

/** Routes one source read's records to a segment per window. */
export class SpoolRouter {
  private readonly writers = new Map<number, SegmentWriter>();
  private firstWindow: number | null = null;
  private readonly names = new Map<number, string>();
  readonly written: WrittenSegment[] = [];

  constructor(
    private readonly spoolRoot: string,
    private readonly windowMs: number,
    private readonly identity: string,
    private readonly sourceName: string,
    private readonly from: number,
    private readonly run: number,
  ) {}

  async add(records: readonly LogRecord[]): Promise<void> {
    // Records of a batch go to their window's segment in runs, one write per run of a window.
    let run: LogRecord[] = [];
    let runWriter: SegmentWriter | null = null;
    for (const record of records) {
      const start = windowStart(record.startMs, this.windowMs);
      let writer = this.writers.get(start);
      if (!writer) writer = await this.open(start, record.kind);
      if (writer !== runWriter) {
        if (runWriter && run.length > 0) await runWriter.file.write(run);
        run = [];
        runWriter = writer;
      }
      writer.stats.records++;
      writer.stats.linesRead++;
      if (writer.stats.firstTimeMs === null || record.startMs < writer.stats.firstTimeMs) writer.stats.firstTimeMs = record.startMs;
      if (writer.stats.lastTimeMs === null || record.startMs > writer.stats.lastTimeMs) writer.stats.lastTimeMs = record.startMs;
      run.push(record);
    }
    if (runWriter && run.length > 0) await runWriter.file.write(run);
  }

  private async open(start: number, kind: 'proxy' | 'apm'): Promise<SegmentWriter> {
    const directory = join(this.spoolRoot, windowLabel(start));
    await mkdir(directory, { recursive: true });
    const name = segmentFile(this.identity, this.sourceName, this.from, kind, this.run);
    const writer = new SegmentWriter(join(directory, name), this.sourceName);
    this.writers.set(start, writer);
    this.firstWindow ??= start;
    this.names.set(start, join(windowLabel(start), name));
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
        if (source.container !== undefined) writer.stats.container = source.container;
      }
    }
    for (const [start, writer] of this.writers) {
      const digest = await writer.file.close([writer.stats]);
      this.written.push({ path: this.names.get(start)!, records: writer.stats.records, ...digest });
    }
  }

  async abort(): Promise<void> {
    for (const writer of this.writers.values()) await writer.file.abort();
    this.written.length = 0;
  }

  windows(): number[] {
    return [...this.writers.keys()];
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
  for (const label of labels) out.push({ label, segments: await listWindow(spoolRoot, label) });
  return out;
}

/** The segments in one window's directory (none when it does not exist). */
export async function listWindow(spoolRoot: string, label: string): Promise<SegmentName[]> {
  let files: string[];
  try {
    files = await readdir(join(spoolRoot, label));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
  return files.map(parseSegmentName).filter((s): s is SegmentName => s !== null);
}
