import { mkdir, readdir, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { expandLocal } from '../sources/glob.js';
import { MAX_LINE_BYTES } from '../lines/line-cap.js';
import { isS3Url, parseS3Url, type S3ObjectInfo } from '../sources/s3-location.js';
import { severityRank, type Severity } from '../model/finding.js';
import { roundTo } from '../model/round.js';
import { planFiles, type FileRead } from './file-plan.js';
import { sha1 } from './fingerprint.js';
import { SpoolLedger } from './ledger.js';
import { loadManifest, saveManifest, type Manifest, type SourceProblem } from './manifest.js';
import { describeOperational, isOperational, ScanAbort } from './operational.js';
import { writeIndex } from './output.js';
import { forEachLimited } from './pool.js';
import { fileRangeSource, readIntoSpool, SourceReadError, type ParseSettings, type ReadResult, type SpoolTarget } from './read-into-spool.js';
import type { ReplaySettings } from './replay.js';
import { pruneWindows, retainedFrom } from './retention.js';
import { inShard, type Shard } from './shard.js';
import { identityHash, listSpool, SPOOL_DIR, syncSegments, type WindowSegments } from './spool.js';
import { FORGET_AFTER_MS, loadState, saveState, type FileEntry, type ScanState } from './state.js';
import { takeLock, type HeldLock } from './state-lock.js';
import { removeStaleTemps } from './atomic-write.js';
import { windowLabel } from './windows.js';

/** The S3 reader, imported when a scan names an S3 location. */
type S3Module = typeof import('../sources/s3-source.js');

/**
 * One scheduled scan:
 *   1. lock the state and the out directory; remove a killed run's temp files and spool debris;
 *      load the state and the manifest (rebuilt from the spool when it is damaged); check that
 *      every segment the manifest records is still there, and plan re-reads for the lost ones;
 *   2. list sources (files by identity, S3 objects by key + ETag) and read only what is new,
 *      with a bounded number in flight, into the spool, one segment per source and window; a
 *      source that fails, or that no format fits, is named and left for the next run;
 *   3. replay every window this run touched from its live segments (each checked against its
 *      recorded checksum first) and write its reports;
 *   4. write the index, the manifest, then the state (atomically): the commit point;
 *   5. delete segments the commit retracted, and windows past `--retain`.
 * Killed anywhere, the next run redoes exactly the uncommitted work: every request counts once.
 */

/**
 * Local files read at once by default. Parsing runs on this one thread, so more files at once
 * only overlap their reads with parsing, and each holds its batches of records through the others'
 * turns: records that outlive the young generation are copied to the old one. A first scan of the
 * bench's 1 M high-profile `combined` lines in 24 files (JSON reports) took 11.6-12.2 s CPU and
 * 8.5-9.2 s wall with 8 at once, 8.4-9.8 s and 6.9-7.8 s with 2, 8.6-10.3 s and 7.1-8.5 s with 1;
 * peak RSS 269-280 against ~205 MB (3 rounds, alternating).
 */
const LOCAL_READS_AT_ONCE = 2;
/** S3 objects read at once by default: each waits on the network more than on parsing. */
const S3_READS_AT_ONCE = 8;

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
  /** Connect and silence timeout of S3 requests (`--s3-timeout`). */
  s3TimeoutMs?: number;
  /** Sources read at once (`--concurrency`); unset: LOCAL_READS_AT_ONCE files, S3_READS_AT_ONCE objects. */
  concurrency?: number;
  /** Follow symlinks out of a source directory (`--follow-symlinks`). */
  followSymlinks?: boolean;
  /** How long to wait for another run holding the lock (`--lock-wait`); 0 exits at once. */
  lockWaitMs?: number;
  /** Windows that ended longer ago than this are pruned with their spool (`--retain`); null keeps all. */
  retainMs?: number | null;
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
  /** Sources that could not be read (retried next run). */
  failures: { source: string; error: string }[];
  /** Sources no format fits: not marked read, tried again on every run until one fits. */
  unparsed: { source: string; reason: string }[];
  /** Lost or damaged spool segments, a damaged manifest: what was found and done. */
  integrity: { file: string; problem: string }[];
  /** Symlinks leading out of a source's root, not followed (no --follow-symlinks). */
  symlinksSkipped: string[];
  linesRead: number;
  records: number;
  skippedLines: number;
  windows: string[];
  /** Windows whose report may lack records (a lost or damaged segment not rebuilt yet). */
  incompleteWindows: string[];
  /** Windows pruned by --retain this run. */
  prunedWindows: number;
  findings: Partial<Record<Severity, number>>;
  worst: Severity | null;
  seconds: { list: number; read: number; report: number };
}

/** A run that could not finish: the summary so far, and why (an operational error or a bug). */
export class ScanFailed extends Error {
  constructor(readonly summary: ScanSummary, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'ScanFailed';
  }
}

/**
 * Whether a run read everything it should: false means exit 2. A window left incomplete by a
 * loss whose source is gone stays marked so in the index and the JSON line, but fails runs only
 * while its rebuild is pending (reported under `integrity`, until the source's entry is
 * forgotten): a loss that can never be repaired must not fail every run forever.
 */
export function scanComplete(summary: ScanSummary): boolean {
  return summary.failures.length === 0 && summary.unparsed.length === 0 && summary.integrity.length === 0;
}

function emptySummary(shard: Shard | null): ScanSummary {
  return {
    run: 0, shard: shard ? `${shard.index}/${shard.count}` : null,
    sourcesListed: 0, sourcesRead: 0, sourcesUnchanged: 0, sourcesFailed: 0, failures: [], unparsed: [], integrity: [], symlinksSkipped: [],
    linesRead: 0, records: 0, skippedLines: 0, windows: [], incompleteWindows: [], prunedWindows: 0, findings: {}, worst: null,
    seconds: { list: 0, read: 0, report: 0 },
  };
}

export async function runScan(options: ScanOptions): Promise<ScanSummary> {
  const summary = emptySummary(options.shard);
  const locks: HeldLock[] = [];
  try {
    const outDir = resolve(options.outDir);
    const statePath = resolve(options.statePath);
    for (const directory of [join(outDir, SPOOL_DIR), dirname(statePath)]) {
      try {
        await mkdir(directory, { recursive: true });
      } catch (error) {
        throw new ScanAbort(`cannot create ${directory}: ${describeOperational(error)}`);
      }
    }
    // The state's lock first, then the out directory's: two states writing one spool collide too.
    locks.push(await takeLock(`${statePath}.lock`, `the state ${statePath}`, options.lockWaitMs ?? 0));
    locks.push(await takeLock(join(outDir, '.alf-scan.lock'), `the out directory ${outDir}`, options.lockWaitMs ?? 0));
    await scanLocked(options, outDir, statePath, summary);
    return summary;
  } catch (error) {
    throw new ScanFailed(summary, error);
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
}

/** One run of a scan: what its steps share. */
interface ScanRun {
  options: ScanOptions;
  outDir: string;
  statePath: string;
  spoolRoot: string;
  /** This run's number (the state's last run + 1). */
  run: number;
  summary: ScanSummary;
  state: ScanState;
  /** How sources are parsed: the run's settings, in the zone the state was started with when the run names none. */
  parse: ParseSettings;
  /** The spool's windows as found at the start, after the debris of a killed run went. */
  spool: WindowSegments[];
  ledger: SpoolLedger;
  /** Windows whose report this run writes again. */
  touched: Set<string>;
}

async function scanLocked(options: ScanOptions, outDir: string, statePath: string, summary: ScanSummary): Promise<void> {
  const scan = await recover(options, outDir, statePath, summary);
  await readNew(scan);
  forgetLongGone(scan.state, options.nowMs);
  const keepFrom = await replayTouched(scan);
  await commit(scan, keepFrom);
}

/** 1. Debris of a killed run, the state, the manifest and the segments it records. */
async function recover(options: ScanOptions, outDir: string, statePath: string, summary: ScanSummary): Promise<ScanRun> {
  const spoolRoot = join(outDir, SPOOL_DIR);
  await removeStaleTemps(outDir, statePath);
  const state = await loadState(statePath, options.windowMs, options.parse.timeZone);
  // The zone the state was started with, when this run names none.
  const parse: ParseSettings = { ...options.parse, timeZone: state.timeZone, memo: { last: null } };
  const run = state.lastRun + 1;
  summary.run = run;
  const touched = new Set<string>();
  let spool = await listSpool(spoolRoot);
  for (const window of spool) {
    for (const segment of window.segments) {
      if (segment.run > state.lastRun) {
        await rm(join(spoolRoot, window.label, segment.file), { force: true });
        touched.add(window.label); // its report may have been written with them
      }
    }
  }
  for (const stale of await readdir(spoolRoot)) if (stale.startsWith('.tmp-')) await rm(join(spoolRoot, stale), { recursive: true, force: true });
  for (const path of state.retracted) await rm(join(spoolRoot, path), { force: true });
  spool = await listSpool(spoolRoot);

  const loaded = await loadManifest(outDir);
  const ledger = new SpoolLedger(spoolRoot, state, spool, loaded.manifest ?? freshManifest(options.windowMs, summary.shard), run);
  if (loaded.corrupt !== null || (loaded.manifest === null && state.lastRun > 0 && spool.length > 0)) {
    // Every committed window is re-rendered from its live segments; their checksums are taken anew.
    const what = loaded.corrupt !== null ? `is ${loaded.corrupt}` : 'is missing';
    for (const window of spool) touched.add(window.label);
    summary.integrity.push({ file: join(outDir, 'manifest.json'), problem: `${what}: rebuilt from the spool (${spool.length} windows re-rendered)` });
  } else {
    for (const lost of await ledger.findMissing()) {
      touched.add(lost.window);
      summary.integrity.push({ file: join(spoolRoot, lost.window, lost.file), problem: lost.problem });
    }
  }
  return { options, outDir, statePath, spoolRoot, run, summary, state, parse, spool, ledger, touched };
}

/** 2. Read what is new. */
async function readNew(scan: ScanRun): Promise<void> {
  const { options, summary, state, parse, ledger, touched } = scan;
  const target: SpoolTarget = { spoolRoot: scan.spoolRoot, windowMs: options.windowMs, run: scan.run };
  let lastProgress = 0;
  const progress = (force = false): void => {
    if (!options.progress) return;
    const now = Date.now();
    if (!force && now - lastProgress < 200) return;
    lastProgress = now;
    options.progress(`alf scan: ${summary.sourcesListed} listed, ${summary.sourcesRead} read, ${summary.sourcesUnchanged} unchanged, ${summary.records} records, ${touched.size} windows`);
  };
  const reader: Reader = {
    state, target, parse, ledger,
    note(result) {
      ledger.written(result.segments);
      summary.sourcesRead++;
      summary.linesRead += result.stats.linesRead;
      summary.records += result.stats.records;
      summary.skippedLines += result.stats.skipped;
      for (const start of result.windows) touched.add(windowLabel(start));
      progress();
    },
    fail(source, error) {
      // The run cannot go on (its own spool cannot be written): not a failure of this source.
      if (error instanceof ScanAbort) throw error;
      if (!(error instanceof SourceReadError) && !isOperational(error)) throw error;
      summary.sourcesFailed++;
      summary.failures.push({ source, error: describeOperational(error) });
    },
    unparsed(source, reason) {
      summary.unparsed.push({ source, reason });
    },
    touch(label) {
      touched.add(label);
    },
  };

  const started = Date.now();
  let listSeconds = 0;
  const local = options.sources.filter((s) => !isS3Url(s));
  const remote = options.sources.filter(isS3Url);
  if (local.length > 0) {
    const listStart = Date.now();
    const { paths, named } = await listLocal(scan, local, reader);
    const plan = await planFiles(paths, state.files, { sinceMs: options.sinceMs, shard: options.shard, nowMs: options.nowMs });
    listSeconds += (Date.now() - listStart) / 1000;
    summary.sourcesListed += paths.length;
    summary.sourcesUnchanged += plan.unchanged;
    const dropped = new Set<string>();
    await forEachLimited(plan.groups, options.concurrency ?? LOCAL_READS_AT_ONCE, async (group) => {
      for (const read of group) await readFile(read, reader, dropped, !named.has(read.path));
    });
    state.files = state.files.filter((e) => !dropped.has(e.id));
  }
  if (remote.length > 0) {
    // Loaded only when an S3 location is named (see s3-location.ts).
    const s3 = await import('../sources/s3-source.js');
    const client = s3.createS3Client(options.endpoint, options.s3TimeoutMs);
    for (const url of remote) listSeconds += await scanPrefix(scan, s3, client, url, reader, progress);
  }
  summary.seconds.list = roundTo(listSeconds, 3);
  summary.seconds.read = roundTo((Date.now() - started) / 1000 - listSeconds, 3);
  progress(true);
  for (const pending of ledger.unrebuilt()) {
    summary.integrity.push({ file: pending.source, problem: `cannot rebuild ${pending.segments} lost segment(s): ${pending.why}` });
  }
}

/** Forget what has been gone for a long time (state stays bounded by retention, not history). */
function forgetLongGone(state: ScanState, nowMs: number): void {
  const horizon = nowMs - FORGET_AFTER_MS;
  state.files = state.files.filter((e) => e.seenAtMs >= horizon);
  for (const [key, entry] of Object.entries(state.objects)) if (entry.seenAtMs < horizon) delete state.objects[key];
}

/**
 * 3. Replay touched windows (the spool made durable first: reports and state count on it).
 * Returns the first window label retention keeps, or null without --retain.
 */
async function replayTouched(scan: ScanRun): Promise<string | null> {
  const { options, summary, ledger } = scan;
  const reportStart = Date.now();
  await syncSegments(scan.spoolRoot, ledger.writtenPaths());
  const keepFrom = options.retainMs ? retainedFrom(options.nowMs, options.retainMs, options.windowMs) : null;
  for (const label of [...scan.touched].sort()) {
    if (keepFrom !== null && label < keepFrom) continue; // past retention: pruned below, not rendered
    const rendered = await ledger.render(label, options.replay, scan.outDir);
    for (const damage of rendered.damaged) summary.integrity.push({ file: damage.file, problem: damage.problem });
    if (!rendered.window) continue;
    summary.windows.push(label);
    for (const [severity, n] of Object.entries(rendered.window.summary.findings)) {
      summary.findings[severity as Severity] = (summary.findings[severity as Severity] ?? 0) + (n ?? 0);
    }
    const worst = rendered.window.worst;
    if (worst && (summary.worst === null || severityRank(worst) > severityRank(summary.worst))) summary.worst = worst;
    if (options.progress) options.progress(`alf scan: report ${label} written`);
  }
  summary.seconds.report = roundTo((Date.now() - reportStart) / 1000, 3);
  return keepFrom;
}

/**
 * 4. Commit: index and manifest, then the state. 5. Retracted segments are no longer counted by
 * anyone; windows past retention go.
 */
async function commit(scan: ScanRun, keepFrom: string | null): Promise<void> {
  const { summary, ledger, state, outDir } = scan;
  const manifest = ledger.manifest;
  const pruned = keepFrom === null ? [] : [...new Set([...Object.keys(manifest.windows), ...scan.spool.map((w) => w.label), ...scan.touched])].filter((label) => label < keepFrom);
  for (const label of pruned) delete manifest.windows[label];
  ledger.dropWindows(pruned);
  summary.incompleteWindows = Object.values(manifest.windows).filter((w) => (w.incomplete?.length ?? 0) > 0).map((w) => w.label).sort();
  manifest.lastRun = scan.run;
  manifest.retracted = ledger.retracted();
  manifest.shard = summary.shard;
  manifest.problems = {
    failed: summary.failures.map((f) => ({ source: f.source, problem: f.error })),
    unparsed: summary.unparsed.map((u) => ({ source: u.source, problem: u.reason })),
    integrity: summary.integrity.map((i): SourceProblem => ({ source: i.file, problem: i.problem })),
  };
  await writeIndex(outDir, manifest);
  await saveManifest(outDir, manifest);
  state.lastRun = scan.run;
  state.retracted = ledger.retracted();
  await saveState(scan.statePath, state);

  for (const path of ledger.retracted()) await rm(join(scan.spoolRoot, path), { force: true });
  summary.prunedWindows = await pruneWindows(outDir, pruned);
}

function freshManifest(windowMs: number, shard: string | null): Manifest {
  return { version: 1, windowMs, lastRun: 0, retracted: [], shard, windows: {} };
}

/**
 * Local sources to the paths to plan, by the rules that keep a scan inside its sources: symlinks
 * out of a source's root are passed over (glob.ts), nothing under --out or the state (by real
 * path) is read, and two names of one file are read once. A source that cannot be listed fails
 * alone; the others are read.
 */
async function listLocal(scan: ScanRun, specs: readonly string[], reader: Reader): Promise<{ paths: string[]; named: Set<string> }> {
  const { options, outDir, statePath, summary } = scan;
  const realOut = await realpath(outDir);
  const realStateDir = await realpath(dirname(statePath));
  const stateName = basename(statePath);
  const realState = join(realStateDir, stateName);
  const notLogs = new Set<string>();
  for (const path of options.exclude) notLogs.add(await realpath(path).catch(() => resolve(path)));
  const under = (path: string, directory: string): boolean => path === directory || path.startsWith(directory === sep ? sep : directory + sep);
  const ownFile = (real: string, rootInStateDir: boolean): boolean =>
    under(real, realOut) || real === realState || real.startsWith(`${realState}.`) ||
    (dirname(real) === realStateDir && basename(real).startsWith(`.${stateName}.`)) ||
    // The state's directory is alf's, unless the source itself lives there (logs beside the state).
    (!rootInStateDir && under(real, realStateDir));
  const seen = new Set<string>();
  const paths: string[] = [];
  /** Files named as sources themselves, not found in a directory or by a glob (Source.listed). */
  const named = new Set<string>();
  for (const spec of specs) {
    let listing;
    try {
      listing = await expandLocal(spec, { followSymlinks: options.followSymlinks });
    } catch (error) {
      reader.fail(spec, error);
      continue;
    }
    summary.symlinksSkipped.push(...listing.outside);
    for (const unreadable of listing.unreadable) reader.fail(unreadable.path, new SourceReadError(`cannot list: ${unreadable.error}`));
    const rootInStateDir = under(listing.realRoot, realStateDir);
    for (const path of listing.files) {
      let real: string;
      try {
        real = await realpath(path);
      } catch {
        continue; // gone since listing: the next run sees its new name
      }
      if (notLogs.has(real) || ownFile(real, rootInStateDir) || seen.has(real)) continue;
      seen.add(real);
      paths.push(path);
      if (listing.named === true) named.add(path);
    }
  }
  return { paths: paths.sort(), named };
}

/** One s3:// source, page by page; returns the seconds spent listing. */
async function scanPrefix(scan: ScanRun, s3: S3Module, client: S3Client, url: string, reader: Reader, progress: () => void): Promise<number> {
  const { options, summary } = scan;
  let listSeconds = 0;
  // Once the endpoint fails as a whole (timeouts, refused, 5xx after retries), the remaining
  // objects are not tried: each would wait out the same timeouts, and the run must end in
  // bounded time. They are read next run.
  let endpointDown: string | null = null;
  let notTried = 0;
  try {
    const location = parseS3Url(url);
    let listStart = Date.now();
    for await (const page of s3.listObjects(client, location, options.sinceMs, options.nowMs)) {
      listSeconds += (Date.now() - listStart) / 1000;
      const fresh: S3ObjectInfo[] = [];
      for (const object of page) {
        const key = `${object.bucket}/${object.key}`;
        if (!inShard(key, options.shard)) continue;
        summary.sourcesListed++;
        const entry = reader.state.objects[key];
        if (entry && entry.etag === object.etag) {
          entry.seenAtMs = options.nowMs;
          summary.sourcesUnchanged++;
        } else {
          fresh.push(object);
        }
      }
      progress();
      // One page at a time: memory holds a page of keys, never the bucket's.
      await forEachLimited(fresh, options.concurrency ?? S3_READS_AT_ONCE, async (object) => {
        if (endpointDown !== null) {
          notTried++;
          return;
        }
        const failure = await readObject(s3, client, object, options.nowMs, reader);
        const cause = failure instanceof SourceReadError && failure.cause !== undefined ? failure.cause : failure;
        if (failure !== null && s3.isEndpointFailure(cause)) endpointDown ??= describeOperational(cause);
      });
      if (endpointDown !== null) break;
      listStart = Date.now();
    }
  } catch (error) {
    reader.fail(url, error instanceof Error && isOperational(error) ? new SourceReadError(`listing failed: ${describeOperational(error)}`) : error);
    return listSeconds;
  }
  if (endpointDown !== null) {
    reader.fail(url, new SourceReadError(`the endpoint stopped answering (${endpointDown}); ${notTried} more object(s) not tried and the listing not finished: read next run`));
  }
  return listSeconds;
}

/** What reading a source needs from the run, and where its outcome goes. */
interface Reader {
  state: ScanState;
  target: SpoolTarget;
  parse: ParseSettings;
  ledger: SpoolLedger;
  note(result: ReadResult): void;
  /** Records a failed source; rethrows what is not a source's failure (a bug, or a spool that cannot be written). */
  fail(source: string, error: unknown): void;
  unparsed(source: string, reason: string): void;
  touch(label: string): void;
}

async function readFile(read: FileRead, reader: Reader, dropped: Set<string>, listed: boolean): Promise<void> {
  const entry = read.entry;
  const snapshot: FileEntry = { ...entry };
  // A plain file shorter than what was read of it was truncated (copytruncate): start over.
  let from = !read.gzip && read.size < entry.offset ? 0 : entry.offset;
  const rebuildFrom = entry.rebuildFrom;
  if (rebuildFrom !== undefined && rebuildFrom < from) from = rebuildFrom;
  const forced = from > 0 && entry.format !== null ? reader.parse.formatById(entry.format) : undefined;
  const range = fileRangeSource(read.path, from, read.size, read.gzip, read.settledTail);
  const source = { ...range.source, listed };
  const counter = range.counter;
  const forget = (): void => {
    // Never read successfully: forget it; otherwise keep what earlier reads achieved.
    if (read.before === null && snapshot.size === 0) dropped.add(entry.id);
    else Object.assign(entry, snapshot);
  };
  let result: ReadResult;
  try {
    // Line numbers count on from the entry's; after a rebuild from an earlier offset they count from there.
    const linesBefore = from === 0 ? 0 : from === entry.offset ? entry.lines ?? 0 : 0;
    result = await readIntoSpool(source, entry.id, from, forced, reader.parse, reader.target, linesBefore);
    if (result.undetected !== null) {
      // Not done: a later run (with the right --log-format) reads it from the start.
      forget();
      reader.unparsed(read.path, result.undetected);
      return;
    }
    const trimmer = counter();
    entry.offset = from + (trimmer?.passed ?? 0);
    entry.lines = linesBefore + result.stats.linesRead;
  } catch (error) {
    forget();
    reader.fail(read.path, error);
    return;
  }
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
  if (rebuildFrom !== undefined) {
    // The re-read replaces every segment this file wrote from there on, lost ones included.
    for (const label of reader.ledger.replaceFileSegments(identityHash(entry.id), from, result.segments)) reader.touch(label);
    delete entry.rebuildFrom;
  }
  reader.note(result);
  const pending = counter()?.unterminatedBytes ?? 0;
  if (pending > MAX_LINE_BYTES) {
    // Not a line being written but bytes that no newline ends (a binary file, a runaway writer):
    // what came before is read; the rest is named, and read once a newline ends it.
    reader.fail(read.path, new SourceReadError(`${pending} bytes at its end hold no newline (more than the ${MAX_LINE_BYTES / 1024 / 1024} MiB line cap): read up to offset ${entry.offset}, the rest once a newline ends it`));
  }
}

/** Reads one object; returns the error when it failed (after recording it), else null. */
async function readObject(s3: S3Module, client: S3Client, object: S3ObjectInfo, nowMs: number, reader: Reader): Promise<unknown> {
  const key = `${object.bucket}/${object.key}`;
  const source = s3.s3ObjectSource(client, object);
  try {
    const result = await readIntoSpool(source, `${source.name}@${object.etag}`, 0, undefined, reader.parse, reader.target);
    if (result.undetected !== null) {
      // Not recorded: read again next run, until a format fits (its older version, if any, still counts).
      reader.unparsed(source.name, result.undetected);
      return null;
    }
    const old = reader.state.objects[key];
    if (old) {
      // A replaced (or rebuilt) object: its old records stop counting when this run commits.
      for (const label of reader.ledger.retract(old.segments)) reader.touch(label);
    }
    reader.state.objects[key] = { etag: object.etag, segments: result.segments.map((s) => s.path), seenAtMs: nowMs };
    reader.note(result);
    return null;
  } catch (error) {
    reader.fail(source.name, error);
    return error;
  }
}
