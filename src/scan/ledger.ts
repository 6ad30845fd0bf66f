import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isOperational } from './operational.js';
import type { Manifest, SegmentRecord, WindowDamage } from './manifest.js';
import { renderWindow, type LiveSegment, type RenderedWindow } from './render-windows.js';
import type { ReplaySettings } from './replay.js';
import { digestSegment, readSegment, SegmentFormatError } from './segment-file.js';
import { identityHash, listWindow, parseSegmentName, type SegmentName, type WindowSegments, type WrittenSegment } from './spool.js';
import type { ScanState } from './state.js';

/**
 * What the spool should hold, checked against what it holds. The manifest records every live
 * segment's record count, size and sha256; a run finds a recorded segment missing (at start, by
 * name) or damaged (before replaying its window, by checksum), says so, marks the window
 * incomplete, and has the source that wrote it read again: a file from the offset that segment
 * started at (every segment it wrote from there on is replaced), an S3 object whole (as if
 * replaced). When the source is gone, the window stays marked incomplete.
 */

interface Rebuild {
  source: string;
  key: string;
  segments: number;
}

export interface RenderOutcome {
  window: RenderedWindow | null;
  damaged: { file: string; problem: string }[];
}

export class SpoolLedger {
  private readonly retractedPaths = new Set<string>();
  private readonly writtenRecords = new Map<string, SegmentRecord>();
  private readonly rebuilds = new Map<string, Rebuild>();
  private objectBySegment: Map<string, string> | null = null;

  constructor(
    private readonly spoolRoot: string,
    private readonly state: ScanState,
    private readonly spool: readonly WindowSegments[],
    readonly manifest: Manifest,
    private readonly run: number,
  ) {}

  /**
   * Segments the manifest records that are gone or no longer of their recorded size (a stat
   * each: checksums are checked when a window is replayed): each is retracted and scheduled for
   * a rebuild from its source, in this run.
   */
  async findMissing(): Promise<{ window: string; file: string; problem: string }[]> {
    const present = new Map(this.spool.map((w) => [w.label, new Set(w.segments.map((s) => s.file))]));
    const lost: { window: string; file: string; problem: string }[] = [];
    for (const [label, window] of Object.entries(this.manifest.windows)) {
      for (const [file, record] of Object.entries(window.segments ?? {})) {
        const records = record.records === null ? '' : ` (${record.records} records)`;
        let problem: string;
        if (!present.get(label)?.has(file)) {
          problem = `lost${records}`;
        } else {
          const bytes = await stat(join(this.spoolRoot, label, file)).then((info) => info.size, () => -1);
          if (bytes === record.bytes) continue;
          problem = `damaged${records}: ${bytes} bytes, ${record.bytes} written`;
          this.retractedPaths.add(join(label, file));
        }
        const damage = this.damage(label, file, parseSegmentName(file), problem);
        lost.push({ window: label, file, problem: damage.source ? `${damage.problem}: re-reading ${damage.source}` : `${damage.problem}: no known source wrote it` });
      }
    }
    return lost;
  }

  written(segments: readonly WrittenSegment[]): void {
    for (const s of segments) this.writtenRecords.set(s.path, { records: s.records, bytes: s.bytes, sha256: s.sha256 });
  }

  writtenPaths(): string[] {
    return [...this.writtenRecords.keys()];
  }

  /** Retracts segments (spool-relative) when this run commits; returns their windows. */
  retract(paths: readonly string[]): string[] {
    const labels = new Set<string>();
    for (const path of paths) {
      this.retractedPaths.add(path);
      labels.add(path.split(/[\\/]/)[0]!);
    }
    // An object read again replaces all its segments: damage it caused is repaired.
    const key = paths.length > 0 ? this.objectKeyOf(paths[0]!) : null;
    if (key !== null) this.repaired(`s3:${key}`);
    return [...labels];
  }

  /**
   * A file read again from `from` after a loss: its committed segments from that offset on are
   * retracted (the new read holds their records); returns the windows touched.
   */
  replaceFileSegments(hash: string, from: number, fresh: readonly WrittenSegment[]): string[] {
    const keep = new Set(fresh.map((s) => s.path));
    const paths: string[] = [];
    for (const window of this.spool) {
      for (const segment of window.segments) {
        const path = join(window.label, segment.file);
        if (segment.identityHash === hash && segment.from >= from && segment.run < this.run && !keep.has(path)) paths.push(path);
      }
    }
    this.repaired(`file:${hash}`);
    return this.retract(paths);
  }

  retracted(): string[] {
    return [...this.retractedPaths];
  }

  /** Sources scheduled for a rebuild this run that were not read (gone, or failed). */
  unrebuilt(): { source: string; segments: number; why: string }[] {
    const out: { source: string; segments: number; why: string }[] = [];
    for (const rebuild of this.rebuilds.values()) {
      const [kind, id] = [rebuild.key.slice(0, rebuild.key.indexOf(':')), rebuild.key.slice(rebuild.key.indexOf(':') + 1)];
      const pending = kind === 's3' ? this.state.objects[id]?.etag === '' : this.state.files.some((e) => e.rebuildFrom !== undefined && identityHash(e.id) === id);
      if (pending) out.push({ source: rebuild.source, segments: rebuild.segments, why: 'its source was not read this run (gone, failed or not listed); the window stays incomplete' });
    }
    return out;
  }

  dropWindows(labels: readonly string[]): void {
    for (const label of labels) delete this.manifest.windows[label];
  }

  /**
   * Replays one window from its live segments, each checked against its record first, and
   * records the result in the manifest. A damaged segment is left out, retracted, and its
   * source read again next run.
   */
  async render(label: string, settings: ReplaySettings, outDir: string): Promise<RenderOutcome> {
    const previous = this.manifest.windows[label];
    const damaged: { file: string; problem: string }[] = [];
    const records: Record<string, SegmentRecord> = {};
    const good: LiveSegment[] = [];
    const directory = join(this.spoolRoot, label);
    for (const segment of await listWindow(this.spoolRoot, label)) {
      const path = join(label, segment.file);
      if (segment.run > this.run || this.retractedPaths.has(path)) continue;
      const written = this.writtenRecords.get(path);
      const expected = written ?? previous?.segments?.[segment.file];
      // A segment this run wrote was hashed as it was written: its size is checked here and every
      // frame's CRC-32 as it is replayed, so it is not read a second time just to hash it (1.2% of
      // a first scan's CPU, 1 M high-cardinality lines in 24 files). Older segments may have been
      // damaged at rest: their frame headers are hashed (digestSegment), their payloads' CRC-32s
      // checked as they are replayed.
      const actual = written ? { bytes: (await stat(join(directory, segment.file))).size, sha256: written.sha256 } : await digestSegment(join(directory, segment.file));
      if (expected && (expected.bytes !== actual.bytes || expected.sha256 !== actual.sha256)) {
        damaged.push(this.corrupt(label, segment, `damaged (${actual.bytes} of ${expected.bytes} bytes, checksum differs)`));
        continue;
      }
      records[segment.file] = { records: expected?.records ?? null, bytes: actual.bytes, sha256: actual.sha256 };
      good.push({ directory, segment });
    }
    let window: RenderedWindow | null = null;
    if (good.length > 0) {
      try {
        window = await renderWindow(outDir, label, good, settings);
      } catch (error) {
        // A segment that passed its digest (or had no record to check: a rebuilt manifest) but does
        // not decode: a payload damaged at rest fails its CRC-32 here.
        if (!isOperational(error) && !(error instanceof SyntaxError) && !(error instanceof SegmentFormatError) && (error as NodeJS.ErrnoException).code?.startsWith('Z_') !== true) throw error;
        const readable: LiveSegment[] = [];
        for (const live of good) {
          if (await decodes(join(directory, live.segment.file))) readable.push(live);
          else {
            delete records[live.segment.file];
            damaged.push(this.corrupt(label, live.segment, 'does not decode'));
          }
        }
        window = readable.length > 0 ? await renderWindow(outDir, label, readable, settings) : null;
      }
    }
    if (!window) {
      // Nothing left to replay: a window emptied by retractions goes; one emptied by damage stays
      // listed, marked incomplete, with its last reports.
      const kept = this.manifest.windows[label];
      if (kept?.incomplete?.length) kept.segments = records;
      else delete this.manifest.windows[label];
      return { window: null, damaged };
    }
    const total = Object.values(records).reduce((sum, r) => sum + (r.records ?? 0), 0);
    const incomplete = this.manifest.windows[label]?.incomplete ?? [];
    this.manifest.windows[label] = { ...window.summary, records: total, segments: records, ...(incomplete.length > 0 ? { incomplete } : {}) };
    return { window, damaged };
  }

  private corrupt(label: string, segment: SegmentName, what: string): { file: string; problem: string } {
    const path = join(label, segment.file);
    this.retractedPaths.add(path);
    const damage = this.damage(label, segment.file, segment, what);
    return { file: join(this.spoolRoot, path), problem: `${damage.problem}: left out of the report${damage.source ? `; ${damage.source} is read again next run` : '; no known source wrote it'}` };
  }

  /** Marks the window incomplete and schedules the segment's source for a rebuild. */
  private damage(label: string, file: string, name: SegmentName | null, problem: string): WindowDamage {
    const path = join(label, file);
    let source: string | null = null;
    let key: string | null = null;
    const objectKey = this.objectKeyOf(path);
    if (objectKey !== null) {
      this.state.objects[objectKey]!.etag = ''; // read again, as a replaced object would be
      source = `s3://${objectKey}`;
      key = `s3:${objectKey}`;
    } else if (name) {
      const entry = this.state.files.find((e) => identityHash(e.id) === name.identityHash);
      if (entry) {
        entry.rebuildFrom = Math.min(entry.rebuildFrom ?? Infinity, name.from);
        entry.size = -1; // never "unchanged" until rebuilt
        source = entry.path;
        key = `file:${name.identityHash}`;
      }
    }
    if (key !== null && source !== null) {
      const rebuild = this.rebuilds.get(key) ?? { source, key, segments: 0 };
      rebuild.segments++;
      this.rebuilds.set(key, rebuild);
    }
    const damage: WindowDamage = { segment: path, problem, source, key };
    const window = this.manifest.windows[label];
    if (window) {
      delete window.segments?.[file];
      window.incomplete = [...(window.incomplete ?? []).filter((d) => d.segment !== path), damage];
    }
    return damage;
  }

  /** Damage a source's rebuild repaired is no longer a reason to call its windows incomplete. */
  private repaired(key: string): void {
    this.rebuilds.delete(key);
    for (const window of Object.values(this.manifest.windows)) {
      if (!window.incomplete) continue;
      window.incomplete = window.incomplete.filter((d) => d.key !== key);
      if (window.incomplete.length === 0) delete window.incomplete;
    }
  }

  private objectKeyOf(path: string): string | null {
    if (this.objectBySegment === null) {
      this.objectBySegment = new Map();
      for (const [key, entry] of Object.entries(this.state.objects)) for (const segment of entry.segments) this.objectBySegment.set(segment, key);
    }
    return this.objectBySegment.get(path) ?? null;
  }
}

async function decodes(path: string): Promise<boolean> {
  try {
    for await (const batch of readSegment(path, () => undefined)) void batch;
    return true;
  } catch {
    return false;
  }
}
