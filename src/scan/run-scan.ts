import { mkdir, readdir, rm } from 'node:fs/promises';
import { roundTo } from '../model/round.js';
import { join, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { expandLocal } from '../ingest/glob.js';
import { createS3Client, isS3Url, listObjects, parseS3Url, s3ObjectSource, type S3ObjectInfo } from '../ingest/s3-source.js';
import { severityRank, type Severity } from '../model/finding.js';
import { planFiles, type FileRead } from './file-plan.js';
import { sha1 } from './fingerprint.js';
import { loadManifest, saveManifest, type Manifest } from './manifest.js';
import { writeIndex } from './output.js';
import { forEachLimited } from './pool.js';
import { fileRangeSource, readIntoSpool, type ParseSettings, type ReadResult, type SpoolTarget } from './read-into-spool.js';
import type { ReplaySettings } from './replay.js';
import { renderWindow, type LiveSegment } from './render-windows.js';
import { inShard, type Shard } from './shard.js';
import { listSpool, SPOOL_DIR, syncSegments } from './spool.js';
import { FORGET_AFTER_MS, loadState, saveState, type ScanState } from './state.js';
import { windowLabel } from './windows.js';

/**
 * One scheduled scan:
 *   1. load the state; delete the spool debris of a run killed before its commit;
 *   2. list sources (files by identity, S3 objects by key + ETag) and read only what is new,
 *      with a bounded number in flight, into the spool, one segment per source and window;
 *   3. replay every window this run touched from its live segments and write its reports;
 *   4. write the index, the manifest, then the state (atomically): the commit point;
 *   5. delete segments the commit retracted (replaced S3 objects).
 * Killed anywhere, the next run redoes exactly the uncommitted work: every request counts once.
 */

export interface ScanOptions {
  sources: readonly string[];
  /** Local files that are not logs (a directory's own log_format .conf). */
  exclude: readonly string[];
  statePath: string;
  outDir: string;
  windowMs: number;
  sinceMs: number | null;
  nowMs: number;
  shard: Shard | null;
  endpoint?: string;
  concurrency: number;
  parse: ParseSettings;
  replay: ReplaySettings;
  progress: ((text: string) => void) | null;
}

export interface ScanSummary {
  run: number;
  shard: string | null;
  sourcesListed: number;
  sourcesRead: number;
  sourcesUnchanged: number;
  sourcesFailed: number;
  failures: { source: string; error: string }[];
  linesRead: number;
  records: number;
  skippedLines: number;
  windows: string[];
  findings: Partial<Record<Severity, number>>;
  worst: Severity | null;
  seconds: { list: number; read: number; report: number };
}

function describe(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

export async function runScan(options: ScanOptions): Promise<ScanSummary> {
  const outDir = resolve(options.outDir);
  const spoolRoot = join(outDir, SPOOL_DIR);
  await mkdir(spoolRoot, { recursive: true });
  const statePath = resolve(options.statePath);

  // 1. State, and the debris of a killed run.
  const state = await loadState(statePath, options.windowMs);
  const run = state.lastRun + 1;
  const dirty = new Set<string>();
  for (const window of await listSpool(spoolRoot)) {
    for (const segment of window.segments) {
      if (segment.run > state.lastRun) {
        await rm(join(spoolRoot, window.label, segment.file), { force: true });
        dirty.add(window.label); // its report may have been written with them
      }
    }
  }
  for (const stale of await readdir(spoolRoot)) if (stale.startsWith('.tmp-')) await rm(join(spoolRoot, stale), { recursive: true, force: true });
  for (const path of state.retracted) await rm(join(spoolRoot, path), { force: true });
  const retracted: string[] = [];

  const summary: ScanSummary = {
    run, shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null,
    sourcesListed: 0, sourcesRead: 0, sourcesUnchanged: 0, sourcesFailed: 0, failures: [],
    linesRead: 0, records: 0, skippedLines: 0, windows: [], findings: {}, worst: null, seconds: { list: 0, read: 0, report: 0 },
  };
  const touched = new Set<string>(dirty);
  const target: SpoolTarget = { spoolRoot, windowMs: options.windowMs, run };
  let lastProgress = 0;
  const progress = (force = false): void => {
    if (!options.progress) return;
    const now = Date.now();
    if (!force && now - lastProgress < 200) return;
    lastProgress = now;
    options.progress(`alf scan: ${summary.sourcesListed} listed, ${summary.sourcesRead} read, ${summary.sourcesUnchanged} unchanged, ${summary.records} records, ${touched.size} windows`);
  };
  const written: string[] = [];
  const note = (result: ReadResult): void => {
    written.push(...result.segments);
    summary.sourcesRead++;
    summary.linesRead += result.stats.linesRead;
    summary.records += result.stats.records;
    summary.skippedLines += result.stats.skipped;
    for (const start of result.windows) touched.add(windowLabel(start));
    progress();
  };
  const fail = (source: string, error: unknown): void => {
    summary.sourcesFailed++;
    summary.failures.push({ source, error: describe(error) });
  };

  // 2. Read what is new.
  const started = Date.now();
  let listSeconds = 0;
  const local = options.sources.filter((s) => !isS3Url(s));
  const remote = options.sources.filter(isS3Url);
  if (local.length > 0) {
    const listStart = Date.now();
    const notLogs = new Set(options.exclude.map((p) => resolve(p)));
    const excluded = (path: string): boolean => notLogs.has(path) || path === statePath || path.startsWith(outDir + sep) || path.startsWith(`${statePath}.`);
    const paths = new Set<string>();
    for (const spec of local) for (const path of await expandLocal(spec)) if (!excluded(path)) paths.add(path);
    const plan = await planFiles([...paths].sort(), state.files, { sinceMs: options.sinceMs, shard: options.shard, nowMs: options.nowMs });
    listSeconds += (Date.now() - listStart) / 1000;
    summary.sourcesListed += paths.size;
    summary.sourcesUnchanged += plan.unchanged;
    const dropped = new Set<string>();
    await forEachLimited(plan.groups, options.concurrency, async (group) => {
      for (const read of group) await readFile(read, state, target, options.parse, note, fail, dropped);
    });
    state.files = state.files.filter((e) => !dropped.has(e.id));
  }
  if (remote.length > 0) {
    const client = createS3Client(options.endpoint);
    for (const url of remote) {
      const location = parseS3Url(url);
      let listStart = Date.now();
      for await (const page of listObjects(client, location, options.sinceMs, options.nowMs)) {
        listSeconds += (Date.now() - listStart) / 1000;
        const fresh: S3ObjectInfo[] = [];
        for (const object of page) {
          const key = `${object.bucket}/${object.key}`;
          if (!inShard(key, options.shard)) continue;
          summary.sourcesListed++;
          const entry = state.objects[key];
          if (entry && entry.etag === object.etag) {
            entry.seenAtMs = options.nowMs;
            summary.sourcesUnchanged++;
          } else {
            fresh.push(object);
          }
        }
        progress();
        // One page at a time: memory holds a page of keys, never the bucket's.
        await forEachLimited(fresh, options.concurrency, (object) => readObject(client, object, state, target, options, note, fail, retracted, touched));
        listStart = Date.now();
      }
    }
  }
  summary.seconds.list = roundTo(listSeconds, 3);
  summary.seconds.read = roundTo((Date.now() - started) / 1000 - listSeconds, 3);
  progress(true);

  // Forget what has been gone for a long time (state stays bounded by retention, not history).
  const horizon = options.nowMs - FORGET_AFTER_MS;
  state.files = state.files.filter((e) => e.seenAtMs >= horizon);
  for (const [key, entry] of Object.entries(state.objects)) if (entry.seenAtMs < horizon) delete state.objects[key];

  // 3. Replay touched windows (the spool made durable first: reports and state count on it).
  const reportStart = Date.now();
  await syncSegments(spoolRoot, written);
  const manifest: Manifest = (await loadManifest(outDir)) ?? { version: 1, windowMs: options.windowMs, lastRun: 0, retracted: [], shard: summary.shard, windows: {} };
  const retractedSet = new Set(retracted);
  const spool = await listSpool(spoolRoot);
  for (const window of spool) {
    if (!touched.has(window.label)) continue;
    const live: LiveSegment[] = window.segments
      .filter((s) => s.run <= run && !retractedSet.has(join(window.label, s.file)))
      .map((segment) => ({ directory: join(spoolRoot, window.label), segment }));
    if (live.length === 0) {
      delete manifest.windows[window.label];
      continue;
    }
    const rendered = await renderWindow(outDir, window.label, live, options.replay);
    manifest.windows[window.label] = rendered.summary;
    summary.windows.push(window.label);
    for (const [severity, n] of Object.entries(rendered.summary.findings)) {
      summary.findings[severity as Severity] = (summary.findings[severity as Severity] ?? 0) + (n ?? 0);
    }
    if (rendered.worst && (summary.worst === null || severityRank(rendered.worst) > severityRank(summary.worst))) summary.worst = rendered.worst;
    if (options.progress) options.progress(`alf scan: report ${window.label} written`);
  }
  summary.seconds.report = roundTo((Date.now() - reportStart) / 1000, 3);

  // 4. Commit: index and manifest, then the state.
  manifest.lastRun = run;
  manifest.retracted = retracted;
  manifest.shard = summary.shard;
  await writeIndex(outDir, manifest);
  await saveManifest(outDir, manifest);
  state.lastRun = run;
  state.retracted = retracted;
  await saveState(statePath, state);

  // 5. Retracted segments are no longer counted by anyone: delete them.
  for (const path of retracted) await rm(join(spoolRoot, path), { force: true });
  return summary;
}

async function readFile(
  read: FileRead, state: ScanState, target: SpoolTarget, parse: ParseSettings,
  note: (r: ReadResult) => void, fail: (source: string, error: unknown) => void, dropped: Set<string>,
): Promise<void> {
  const entry = read.entry;
  const snapshot = { ...entry };
  // A plain file shorter than what was read of it was truncated (copytruncate): start over.
  const from = !read.gzip && read.size < entry.offset ? 0 : entry.offset;
  const forced = from > 0 && entry.format !== null ? parse.formatById(entry.format) : undefined;
  const { source, counter } = fileRangeSource(read.path, from, read.size, read.gzip);
  try {
    const linesBefore = from === 0 ? 0 : entry.lines ?? 0;
    const result = await readIntoSpool(source, entry.id, from, forced, parse, target, linesBefore);
    const trimmer = counter();
    const passed = trimmer?.passed ?? 0;
    entry.offset = from + passed;
    entry.lines = linesBefore + result.stats.linesRead;
    entry.dev = read.dev;
    entry.ino = read.ino;
    entry.size = read.size;
    entry.mtimeMs = read.mtimeMs;
    entry.path = read.path;
    if (from === 0 && result.stats.format !== null) entry.format = result.stats.format;
    if (read.prefix.length > entry.fpLength) {
      entry.fpHash = sha1(read.prefix);
      entry.fpLength = read.prefix.length;
    }
    note(result);
  } catch (error) {
    // Never read successfully: forget it; otherwise keep what earlier reads achieved.
    if (read.before === null && snapshot.size === 0) dropped.add(entry.id);
    else Object.assign(entry, snapshot);
    fail(read.path, error);
  }
  void state;
}

async function readObject(
  client: S3Client, object: S3ObjectInfo, state: ScanState, target: SpoolTarget, options: ScanOptions,
  note: (r: ReadResult) => void, fail: (source: string, error: unknown) => void, retracted: string[], touched: Set<string>,
): Promise<void> {
  const key = `${object.bucket}/${object.key}`;
  const source = s3ObjectSource(client, object);
  try {
    const result = await readIntoSpool(source, `${source.name}@${object.etag}`, 0, undefined, options.parse, target);
    const old = state.objects[key];
    if (old) {
      // A replaced object: its old records stop counting when this run commits.
      for (const path of old.segments) {
        retracted.push(path);
        touched.add(path.split(/[\\/]/)[0]!);
      }
    }
    state.objects[key] = { etag: object.etag, segments: result.segments, seenAtMs: options.nowMs };
    note(result);
  } catch (error) {
    fail(source.name, error);
  }
}
