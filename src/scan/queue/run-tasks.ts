import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowProducer, Job } from 'bullmq';
import { severityRank, type Severity } from '../../model/finding.js';
import { loadManifest, saveManifest, type Manifest } from '../manifest.js';
import { writeIndex } from '../output.js';
import { parseWindowLabel, windowLabel, windowStart } from '../windows.js';
import { BORROW_AFTER_MS, BORROW_BEFORE_MS } from './edges.js';
import { indexJobId, QUEUE_DIR, QUEUE_NAME, type IndexTask, type MapResult, type PlanTask, type QueueOutcome, type ReduceResult, type ReduceTask, type SegmentRef } from './tasks.js';

/** How often BullMQ tries a task that threw (a crash or a full disk, not a source that fails to read). */
export const TASK_ATTEMPTS = 3;

/** Done and failed tasks stay in Redis this long (BullMQ keeps them forever by default), seconds. */
export const KEEP_TASKS = { age: 7 * 24 * 3600 };

/** BullMQ's job options for one task: retried with backoff, its failure fails the run. */
export function taskOptions(jobId: string): { jobId: string; attempts: number; backoff: { type: 'exponential'; delay: number }; failParentOnFailure: true; removeOnComplete: typeof KEEP_TASKS; removeOnFail: typeof KEEP_TASKS } {
  return { jobId, attempts: TASK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, failParentOnFailure: true, removeOnComplete: KEEP_TASKS, removeOnFail: KEEP_TASKS };
}

/**
 * The plan task runs once every map is done: it groups the segments the maps wrote by window and
 * enqueues a reduce per window, each told its own segments and the edges (src/scan/queue/edges.ts)
 * of the neighbouring windows within the join's reach, all children of one index task. Its cost grows with the number of
 * objects (a list of names each), never with their lines.
 */
export async function runPlanTask(job: Job<PlanTask>, flow: FlowProducer): Promise<{ windows: number }> {
  const task = job.data;
  const values = await job.getChildrenValues<MapResult>();
  const results = Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, result]) => result);
  const byWindow = new Map<string, SegmentRef[]>();
  const heads = new Map<string, SegmentRef[]>();
  const tails = new Map<string, SegmentRef[]>();
  const add = (into: Map<string, SegmentRef[]>, window: string, ref: SegmentRef): void => {
    const list = into.get(window);
    if (list) list.push(ref);
    else into.set(window, [ref]);
  };
  // Lines before each byte range of a file: the lines its earlier ranges read.
  const lineOffsets = new Map<string, number>();
  const bySource = new Map<string, MapResult[]>();
  for (const result of results) {
    const ranges = bySource.get(result.source);
    if (ranges) ranges.push(result);
    else bySource.set(result.source, [result]);
  }
  for (const [source, ranges] of bySource) {
    let lines = 0;
    for (const range of ranges.sort((a, b) => a.from - b.from)) {
      lineOffsets.set(`${source}#${range.from}`, lines);
      lines += range.linesRead;
    }
  }
  const index: IndexTask = {
    runId: task.runId, outDir: task.outDir, settings: task.settings, listed: task.listed, maps: results.length, failures: [...task.listFailures], unparsed: [],
    linesRead: 0, records: 0, skipped: 0, partialWindows: [], keptWindows: [],
  };
  for (const result of results) {
    if (result.failure !== null) index.failures.push({ source: result.source, error: result.failure });
    if (result.unparsed !== null) index.unparsed.push({ source: result.source, reason: result.unparsed });
    index.linesRead += result.linesRead;
    index.records += result.records;
    index.skipped += result.skipped;
    const lineOffset = lineOffsets.get(`${result.source}#${result.from}`) ?? 0;
    for (const segment of result.segments) {
      add(byWindow, segment.window, { path: segment.path, lineOffset });
      if (segment.head !== null) add(heads, segment.window, { path: segment.head, lineOffset });
      if (segment.tail !== null) add(tails, segment.window, { path: segment.tail, lineOffset });
    }
  }
  const windowMs = task.settings.windowMs;
  // A proxy record is reported in the window it was logged in, which may follow the one it started
  // in (where the spool put it): the window after each spooled one may have requests of its own.
  const labels = new Set(byWindow.keys());
  for (const label of byWindow.keys()) labels.add(windowLabel(parseWindowLabel(label)! + windowMs));
  // A window --since or --until cuts through holds only part of its requests in this run: an
  // hourly run with --since 2h would otherwise rewrite the window two hours back from its last
  // few minutes. The report an earlier run wrote is kept; without one, the window is reduced
  // and marked incomplete.
  const { sinceMs, untilMs } = task.settings;
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
 * The index task writes the index page and the manifest from the reduces' window summaries, added
 * to the windows earlier runs into the same out directory wrote (a queued run reads only what it
 * lists, often the last hours of a bucket), then removes the run's partial results (the reports
 * hold what they were for).
 */
export async function runIndexTask(job: Job<IndexTask>): Promise<QueueOutcome> {
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
    runId: task.runId, sourcesListed: task.listed, tasks: 0, failures: task.failures, unparsed: task.unparsed,
    linesRead: task.linesRead, records: task.records, skippedLines: task.skipped, windows: [], keptWindows: task.keptWindows, findings: {}, worst: null, reduceSeconds: {},
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
  await writeIndex(task.outDir, manifest);
  await saveManifest(task.outDir, manifest);
  await rm(join(task.outDir, QUEUE_DIR, task.runId), { recursive: true, force: true });
  return outcome;
}
