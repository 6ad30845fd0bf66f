import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowProducer, Job } from 'bullmq';
import { severityRank, type Severity } from '../../model/finding.js';
import { loadManifest, saveManifest, type Manifest } from '../manifest.js';
import { writeIndex } from '../output.js';
import { pruneWindows, retainedFrom } from '../retention.js';
import { parseWindowLabel, windowLabel, windowStart } from '../windows.js';
import { BORROW_AFTER_MS, BORROW_BEFORE_MS } from './edges.js';
import { entryDirectories, LEDGER_FILE, loadObjectLedger, saveObjectLedger, withUpdate } from './object-ledger.js';
import type { RedisConnection } from './redis-url.js';
import { releaseRunLock } from './run-lock.js';
import {
  indexJobId, QUEUE_DIR, QUEUE_NAME,
  type IndexTask, type LedgerEntry, type LedgerPart, type LedgerUpdate, type MapResult, type PlanTask, type QueueOutcome, type ReduceResult, type ReduceTask, type SegmentRef,
} from './tasks.js';

/** How often BullMQ tries a task that threw (a crash or a full disk, not a source that fails to read). */
export const TASK_ATTEMPTS = 3;

/** Done and failed tasks stay in Redis this long (BullMQ keeps them forever by default), seconds. */
export const KEEP_TASKS = { age: 7 * 24 * 3600 };

/** The first window label --retain keeps, or null without it. */
function firstKeptLabel(settings: IndexTask['settings'], nowMs: number): string | null {
  return settings.retainMs ? retainedFrom(nowMs, settings.retainMs, settings.windowMs) : null;
}

/** BullMQ's job options for one task: retried with backoff, its failure fails the run. */
export function taskOptions(jobId: string): { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number }; failParentOnFailure: true; removeOnComplete: typeof KEEP_TASKS; removeOnFail: typeof KEEP_TASKS } {
  return { jobId, attempts: TASK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, failParentOnFailure: true, removeOnComplete: KEEP_TASKS, removeOnFail: KEEP_TASKS };
}

/**
 * The plan task runs once every map is done: it adds the maps' parts to the object ledger's (what
 * earlier runs read: src/scan/queue/object-ledger.ts) and enqueues a reduce for each window the
 * new records fall in, told that window's segments, old and new, and the edges
 * (src/scan/queue/edges.ts) of the neighbouring windows within the join's reach, all children of
 * one index task. Its cost grows with the number of objects and the windows they touch (a list of
 * names each), never with their lines.
 */
export async function runPlanTask(job: Job<PlanTask>, flow: FlowProducer): Promise<{ windows: number }> {
  const task = job.data;
  const values = await job.getChildrenValues<MapResult>();
  const results = Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, result]) => result);
  const { ledger } = await loadObjectLedger(task.outDir, task.settings);
  const { forReduces, update } = ledgerAfterRun(ledger.objects, results, task);

  const byWindow = new Map<string, SegmentRef[]>();
  const heads = new Map<string, SegmentRef[]>();
  const tails = new Map<string, SegmentRef[]>();
  const add = (into: Map<string, SegmentRef[]>, window: string, ref: SegmentRef): void => {
    const list = into.get(window);
    if (list) list.push(ref);
    else into.set(window, [ref]);
  };
  // Every segment of every object, old and new, by window; a part's lines are counted from the
  // object's start (the lines of the parts before it: earlier byte ranges, earlier runs' reads).
  for (const entry of Object.values(forReduces)) {
    let lineOffset = 0;
    for (const part of [...entry.parts].sort((a, b) => a.from - b.from)) {
      for (const segment of part.segments) {
        add(byWindow, segment.window, { path: segment.path, lineOffset });
        if (segment.head !== null) add(heads, segment.window, { path: segment.head, lineOffset });
        if (segment.tail !== null) add(tails, segment.window, { path: segment.tail, lineOffset });
      }
      lineOffset += part.linesRead;
    }
  }
  const index: IndexTask = {
    runId: task.runId, outDir: task.outDir, settings: task.settings, lockKey: task.lockKey, listed: task.listed, unchanged: task.unchanged, maps: results.length,
    failures: [...task.listFailures], unparsed: [], linesRead: 0, records: 0, skipped: 0, partialWindows: [], keptWindows: [], ledger: update,
  };
  // The windows this run's records fall in: the others' reports stand as they are.
  const touched = new Set<string>();
  for (const result of results) {
    if (result.failure !== null) index.failures.push({ source: result.source, error: result.failure });
    if (result.unparsed !== null) index.unparsed.push({ source: result.source, reason: result.unparsed });
    index.linesRead += result.linesRead;
    index.records += result.records;
    index.skipped += result.skipped;
    for (const segment of result.segments) touched.add(segment.window);
  }
  const windowMs = task.settings.windowMs;
  const labels = windowsToReduce(touched, windowMs);
  // A window --since or --until cuts through holds only part of its requests in this run: an
  // hourly run with --since 2h would otherwise rewrite the window two hours back from its last
  // few minutes. The report an earlier run wrote is kept; without one, the window is reduced
  // and marked incomplete.
  const { sinceMs, untilMs } = task.settings;
  const keepFrom = firstKeptLabel(task.settings, Date.now());
  if (keepFrom !== null) for (const label of labels) if (label < keepFrom) labels.delete(label); // past --retain
  const previous = (await loadManifest(task.outDir)).manifest;
  const earlier = previous !== null && previous.windowMs === windowMs ? previous.windows : {};
  for (const label of [...labels]) {
    const start = parseWindowLabel(label)!;
    if (!((sinceMs !== null && start < sinceMs) || (untilMs !== null && start + windowMs > untilMs))) continue;
    if (earlier[label] !== undefined) {
      labels.delete(label);
      index.keptWindows.push(label);
    } else {
      index.partialWindows.push(label);
    }
  }
  index.keptWindows.sort();
  // The margin: the tails of the windows before within the join's reach, the heads of those after.
  const children = [...labels].sort().map((label) => {
    const start = parseWindowLabel(label)!;
    const margin: SegmentRef[] = [];
    for (let at = windowStart(start - BORROW_BEFORE_MS, windowMs); at < start + windowMs + BORROW_AFTER_MS; at += windowMs) {
      if (at !== start) margin.push(...((at < start ? tails : heads).get(windowLabel(at)) ?? []));
    }
    const data: ReduceTask = { runId: task.runId, outDir: task.outDir, settings: task.settings, label, own: byWindow.get(label) ?? [], margin };
    return { name: 'reduce', queueName: QUEUE_NAME, data, opts: taskOptions(`${task.runId}-reduce-${label}`) };
  });
  await flow.add({ name: 'index', queueName: QUEUE_NAME, data: index, opts: { jobId: indexJobId(task.runId), attempts: TASK_ATTEMPTS, removeOnComplete: KEEP_TASKS, removeOnFail: KEEP_TASKS }, children });
  return { windows: children.length };
}

/**
 * The windows a run reduces, given those its new records were spooled in: each of those; the one
 * after it (a proxy record is reported in the window it was logged in, which may follow the one
 * it started in, where the spool put it); and every window whose margin reaches into it (it may
 * pair its requests otherwise now). In a first run every window is touched anyway.
 */
export function windowsToReduce(touched: Iterable<string>, windowMs: number): Set<string> {
  const labels = new Set<string>();
  for (const label of touched) {
    const touchedAt = parseWindowLabel(label)!;
    labels.add(label);
    labels.add(windowLabel(touchedAt + windowMs));
    for (let at = touchedAt - windowMs - BORROW_AFTER_MS; at <= touchedAt + BORROW_BEFORE_MS + windowMs; at += windowMs) {
      const start = windowStart(at, windowMs);
      // The reduce of `start` borrows from the windows in this range (see the margin in runPlanTask).
      if (windowStart(start - BORROW_BEFORE_MS, windowMs) <= touchedAt && touchedAt < start + windowMs + BORROW_AFTER_MS) labels.add(windowLabel(start));
    }
  }
  return labels;
}

/**
 * The objects after this run's maps: `forReduces`, every object's parts the reduces read (those
 * of objects read in this run, complete or not, over their earlier entries), and `update`, what
 * the ledger keeps once the reports are written: objects read to their end, and renames. An
 * object read in part (a byte range that failed) is left to be read again next run.
 */
export function ledgerAfterRun(objects: Readonly<Record<string, LedgerEntry>>, results: readonly MapResult[], task: Pick<PlanTask, 'runId' | 'renamed' | 'settings'>): { forReduces: Record<string, LedgerEntry>; update: LedgerUpdate } {
  // A rotation renames every log of a chain at once (`access.log` to `.1`, `.1` to `.2.gz`): an id
  // may be renamed away and written anew in one run, so every removal goes before every entry.
  const reduced: LedgerUpdate = { set: {}, remove: [] };
  const update: LedgerUpdate = { set: {}, remove: [] };
  for (const { from, to } of task.renamed) {
    const entry = objects[from];
    if (entry === undefined) continue;
    const moved: LedgerEntry = { ...entry, head: to.head, headLength: to.headLength, size: to.size, mtimeMs: to.mtimeMs, gzip: to.gzip };
    for (const into of [reduced, update]) {
      into.remove.push(from);
      into.set[to.id] = moved;
    }
  }
  const byObject = new Map<string, MapResult[]>();
  for (const result of results) {
    const list = byObject.get(result.object.id);
    if (list) list.push(result);
    else byObject.set(result.object.id, [result]);
  }
  const { sinceMs, untilMs } = task.settings;
  for (const [id, reads] of byObject) {
    const { object, continues } = reads[0]!;
    const before = continues === null ? undefined : objects[continues];
    const parts: LedgerPart[] = [...(before?.parts ?? [])];
    for (const read of reads) {
      parts.push({
        from: read.from, end: read.end, linesRead: read.linesRead,
        segments: read.segments.map((segment) => ({
          ...segment, path: join(task.runId, segment.path),
          head: segment.head === null ? null : join(task.runId, segment.head), tail: segment.tail === null ? null : join(task.runId, segment.tail),
        })),
      });
    }
    // Bounds: the narrowest any part was read within, so a later, wider run reads it whole again.
    const narrowest = (a: number | null | undefined, b: number | null, pick: (x: number, y: number) => number): number | null =>
      a === undefined || a === null ? b : b === null ? a : pick(a, b);
    const entry: LedgerEntry = {
      head: object.head, headLength: object.headLength, size: object.size, mtimeMs: object.mtimeMs, gzip: object.gzip,
      read: Math.max(before?.read ?? 0, ...reads.map((r) => r.end)),
      sinceMs: before === undefined ? sinceMs : narrowest(before.sinceMs, sinceMs, Math.max),
      untilMs: before === undefined ? untilMs : narrowest(before.untilMs, untilMs, Math.min),
      parts,
    };
    const complete = reads.every((r) => r.complete && r.unparsed === null);
    for (const into of complete ? [reduced, update] : [reduced]) {
      if (continues !== null && continues !== id) into.remove.push(continues);
      into.set[id] = entry;
    }
  }
  return { forReduces: withUpdate(objects, reduced), update };
}

/**
 * The index task writes the index page and the manifest from the reduces' window summaries, added
 * to the windows earlier runs into the same out directory wrote (a queued run reads only what it
 * lists, often the last hours of a bucket), then saves the object ledger with what the run read,
 * removes the segments no entry refers to any more, and gives back the out directory's run lock.
 */
export async function runIndexTask(job: Job<IndexTask>, connection: RedisConnection): Promise<QueueOutcome> {
  const task = job.data;
  const values = await job.getChildrenValues<ReduceResult | null>();
  const previous = (await loadManifest(task.outDir)).manifest;
  const earlier = previous !== null && previous.windowMs === task.settings.windowMs ? previous : null;
  const manifest: Manifest = {
    version: 1, windowMs: task.settings.windowMs, lastRun: (earlier?.lastRun ?? 0) + 1, retracted: [], shard: null, windows: { ...earlier?.windows },
    problems: {
      failed: task.failures.map((f) => ({ source: f.source, problem: f.error })),
      unparsed: task.unparsed.map((u) => ({ source: u.source, problem: u.reason })),
      integrity: [],
    },
  };
  const outcome: QueueOutcome = {
    runId: task.runId, sourcesListed: task.listed, sourcesUnchanged: task.unchanged, tasks: 0, maps: task.maps, failures: task.failures, unparsed: task.unparsed,
    linesRead: task.linesRead, records: task.records, skippedLines: task.skipped, windows: [], keptWindows: task.keptWindows, prunedWindows: 0, findings: {}, worst: null, reduceSeconds: {},
  };
  const cut = task.settings.sinceMs !== null ? `--since ${new Date(task.settings.sinceMs).toISOString()}` : '';
  const cutEnd = task.settings.untilMs !== null ? `--until ${new Date(task.settings.untilMs).toISOString()}` : '';
  for (const result of Object.values(values)) {
    if (result === null) continue;
    const { summary } = result;
    const partial = task.partialWindows.includes(summary.label);
    manifest.windows[summary.label] = partial
      ? { ...summary, incomplete: [{ segment: [cut, cutEnd].filter((s) => s !== '').join(' '), problem: 'the run read only the requests within these bounds, and no earlier report of this window was there to keep', source: null, key: null }] }
      : summary;
    outcome.windows.push(summary.label);
    outcome.reduceSeconds[summary.label] = Math.round(result.seconds * 1000) / 1000;
    for (const [severity, n] of Object.entries(summary.findings)) outcome.findings[severity as Severity] = (outcome.findings[severity as Severity] ?? 0) + (n ?? 0);
    if (result.worst && (outcome.worst === null || severityRank(result.worst) > severityRank(outcome.worst))) outcome.worst = result.worst;
  }
  outcome.windows.sort();
  outcome.tasks = task.maps + Object.keys(values).length + 2;
  const nowMs = Date.now();
  const keepFrom = firstKeptLabel(task.settings, nowMs);
  const pruned = keepFrom === null ? [] : Object.keys(manifest.windows).filter((label) => label < keepFrom);
  for (const label of pruned) delete manifest.windows[label];
  outcome.prunedWindows = pruned.length;
  await writeIndex(task.outDir, manifest);
  await saveManifest(task.outDir, manifest);
  await pruneWindows(task.outDir, pruned);
  await saveLedger(task, keepFrom, nowMs);
  await releaseRunLock(connection, task.lockKey, task.runId);
  return outcome;
}

/**
 * Saves the ledger with the run's update, then removes every execution directory no entry refers
 * to: the parts of entries replaced (an object read whole again), executions killed midway,
 * objects read in part, earlier runs that failed, a ledger of other settings; and temporary
 * files. Only one run changes an out directory at a time (the run lock), so nothing removed here
 * is still being read. Run twice (a retried index task), it saves the same ledger and finds
 * nothing more to remove.
 */
async function saveLedger(task: IndexTask, keepFrom: string | null, nowMs: number): Promise<void> {
  const queueDir = join(task.outDir, QUEUE_DIR);
  const { ledger } = await loadObjectLedger(task.outDir, task.settings);
  const objects = withUpdate(ledger.objects, task.ledger);
  if (keepFrom !== null) {
    // --retain: segments of windows past it go; so does the entry of an object last written
    // before the horizon (the enqueuer no longer lists it), once none of its segments is left.
    for (const [id, entry] of Object.entries(objects)) {
      const parts: LedgerPart[] = [];
      for (const part of entry.parts) {
        for (const old of part.segments.filter((segment) => segment.window < keepFrom)) {
          for (const path of [old.path, old.head, old.tail]) if (path !== null) await rm(join(queueDir, path), { force: true });
        }
        parts.push({ ...part, segments: part.segments.filter((segment) => segment.window >= keepFrom) });
      }
      const stale = entry.mtimeMs < nowMs - task.settings.retainMs! && parts.every((part) => part.segments.length === 0);
      if (stale) delete objects[id];
      else objects[id] = { ...entry, parts };
    }
  }
  await saveObjectLedger(task.outDir, { ...ledger, objects });
  const kept = new Set(Object.values(objects).flatMap(entryDirectories));
  const list = (dir: string): Promise<string[]> => readdir(dir).catch(() => [] as string[]);
  for (const run of await list(queueDir)) {
    if (run === LEDGER_FILE || run.startsWith('.')) continue;
    for (const taskDir of await list(join(queueDir, run, 'maps'))) {
      for (const execution of await list(join(queueDir, run, 'maps', taskDir))) {
        if (!kept.has([run, 'maps', taskDir, execution].join('/'))) await rm(join(queueDir, run, 'maps', taskDir, execution), { recursive: true, force: true });
      }
      await rmdir(join(queueDir, run, 'maps', taskDir)).catch(() => undefined); // only once empty
    }
    await rm(join(queueDir, run, 'tmp'), { recursive: true, force: true });
    await rmdir(join(queueDir, run, 'maps')).catch(() => undefined);
    await rmdir(join(queueDir, run)).catch(() => undefined);
  }
}
