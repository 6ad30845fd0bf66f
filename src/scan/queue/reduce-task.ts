import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileStats } from '../../model/file-stats.js';
import { severityRank, type Severity } from '../../model/finding.js';
import type { ApmTransaction, LogRecord, ProxyRecord } from '../../model/records.js';
import { analyzeRecords } from '../../pipeline/analyze.js';
import { writeWindowReports } from '../output.js';
import { apmTime, FAN_IN, fanIn, proxyTime } from '../replay.js';
import { createSegmentWriter, readSegment, SEGMENT_EXTENSION } from '../segment-file.js';
import { StatsByFile } from '../segment-stats.js';
import { parseSegmentName } from '../spool.js';
import { parseWindowLabel } from '../windows.js';
import { QUEUE_DIR, type ReduceResult, type ReduceTask, type SegmentRef } from './tasks.js';
import { workerSettings } from './task-settings.js';

/**
 * A reduce task: one window's reports from that window's segments, plus the edges of the
 * neighbouring windows within the join's reach (its horizon and clock skew), so a request whose
 * proxy record and APM transaction fall on either side of a boundary is joined, once: the window
 * is applied as a slice (src/pipeline/slice.ts), so the window keeps the proxy records it owns
 * (logged within it) and borrows only the partners they need. The neighbours' counters are not
 * the window's: their trailers (if any) are dropped. Reports are written by temp + rename, so a
 * retried reduce just writes them again. Null: the window has nothing to report.
 */
export async function runReduceTask(task: ReduceTask): Promise<ReduceResult | null> {
  const started = performance.now();
  const settings = workerSettings(task.settings);
  const startMs = parseWindowLabel(task.label);
  if (startMs === null) throw new Error(`not a window label: ${task.label}`);
  // Segments are named relative to the queue directory: earlier runs' are read beside this run's.
  const queueDir = join(task.outDir, QUEUE_DIR);
  const tmp = join(queueDir, task.runId, 'tmp', `${task.label}-${randomUUID().slice(0, 12)}`);
  await mkdir(tmp, { recursive: true });
  try {
    // The byte ranges of one file are read as one stream again, in file order with line numbers
    // counted from the file's start, so ties in time merge as they do in the file itself. More
    // files than FAN_IN are first merged into temporary segments (replay.ts), as a local replay does.
    const files = new StatsByFile();
    const count = (stats: FileStats): void => files.add(stats);
    const drop = (): void => undefined;
    let copies = 0;
    const streams = async (list: SegmentRef[], kind: 'proxy' | 'apm', onStats: (stats: FileStats) => void): Promise<AsyncIterable<LogRecord[]>[]> => {
      const byFile = new Map<string, SegmentRef[]>();
      for (const ref of canonical(list)) {
        const name = parseSegmentName(basename(ref.path));
        if (name?.kind !== kind) continue;
        const file = name.sortKey.split('-')[1]!;
        byFile.set(file, [...(byFile.get(file) ?? []), ref]);
      }
      const groups = [...byFile.values()].map((refs) => inFileOrder(refs));
      if (groups.length <= FAN_IN) return groups.map((refs) => fileStream(queueDir, refs, onStats));
      const paths: string[] = [];
      for (const refs of groups) {
        if (refs.length === 1 && refs[0]!.lineOffset === 0) paths.push(join(queueDir, refs[0]!.path));
        else paths.push(await concatenated(queueDir, refs, join(tmp, `file-${copies++}${SEGMENT_EXTENSION}`)));
      }
      return (await fanIn(paths, tmp, `${kind}-${copies++}`, kind === 'proxy' ? proxyTime : apmTime)).map((path) => readSegment(path, onStats));
    };
    const proxyStreams = [...await streams(task.own, 'proxy', count), ...await streams(task.margin, 'proxy', drop)];
    const apmStreams = [...await streams(task.own, 'apm', count), ...await streams(task.margin, 'apm', drop)];
    const untilMs = startMs + task.settings.windowMs;
    const analysis = await analyzeRecords({
      proxyStreams: proxyStreams as AsyncIterable<ProxyRecord[]>[],
      apmStreams: apmStreams as AsyncIterable<ApmTransaction[]>[],
      files: () => files.list(),
      budget: settings.replay.budget,
      keyField: settings.replay.keyField,
      join: settings.replay.join,
      slice: {
        since: { ms: startMs, text: new Date(startMs).toISOString() },
        until: { ms: untilMs, text: new Date(untilMs).toISOString() },
        where: settings.replay.slice?.where ?? [],
      },
    });
    // A window after a spooled one, planned in case requests were logged in it, that has none.
    if (task.own.length === 0 && analysis.join.proxyRecords === 0) return null;
    const summary = await writeWindowReports(task.outDir, task.label, startMs, analysis, settings.replay.formats);
    let worst: Severity | null = null;
    for (const finding of analysis.findings) if (worst === null || severityRank(finding.severity) > severityRank(worst)) worst = finding.severity;
    return { summary, worst, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The spool's canonical order (by segment name without its run), so every replay merges alike. */
function canonical(refs: readonly SegmentRef[]): SegmentRef[] {
  const key = (ref: SegmentRef): string => parseSegmentName(basename(ref.path))?.sortKey ?? basename(ref.path);
  return [...refs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A file's segments in the order its records came: by the window they were written for (a
 * segment sits in its window's directory), then by byte range. The margin holds one file's
 * segments of several windows (the tails before, the heads after): ordered by byte range alone,
 * the head of the window after came first, and in the bench's queued run half of a window's
 * transactions reached the join out of order (41 k of 87 k), each put in place by a splice:
 * 683 ms of a worker's 10 s CPU (`node --cpu-prof`).
 */
export function inFileOrder(refs: SegmentRef[]): SegmentRef[] {
  const windowOf = (ref: SegmentRef): number => parseWindowLabel(basename(dirname(ref.path))) ?? 0;
  const from = (ref: SegmentRef): number => parseSegmentName(basename(ref.path))?.from ?? 0;
  return [...refs].sort((a, b) => windowOf(a) - windowOf(b) || from(a) - from(b));
}

/** The segments of a file's byte ranges (in file order) as one stream, lines of records and issue examples counted from the file's start. */
async function* fileStream(queueDir: string, refs: SegmentRef[], onStats: (stats: FileStats) => void): AsyncGenerator<LogRecord[]> {
  for (const ref of refs) {
    const offset = ref.lineOffset;
    const add = (s: FileStats): void => onStats(offset === 0 ? s : { ...s, firstIssues: s.firstIssues.map((issue) => ({ ...issue, line: issue.line + offset })) });
    for await (const batch of readSegment(join(queueDir, ref.path), add)) {
      // The decoded records are this stream's own: renumbered in place, not copied (a spread copy
      // of every record of every range after a file's first).
      if (offset !== 0) for (const record of batch) (record as { line: number }).line += offset;
      yield batch;
    }
  }
}

/** The same as one segment file, for a window of more files than FAN_IN. */
async function concatenated(queueDir: string, refs: SegmentRef[], out: string): Promise<string> {
  const stats: FileStats[] = [];
  const writer = createSegmentWriter(out);
  for await (const batch of fileStream(queueDir, refs, (s) => stats.push(s))) await writer.write(batch);
  await writer.close(stats);
  return out;
}
