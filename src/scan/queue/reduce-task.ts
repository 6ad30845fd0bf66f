import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FileStats } from '../../ingest/file-stats.js';
import { severityRank, type Severity } from '../../model/finding.js';
import type { ApmTransaction, ProxyRecord } from '../../model/records.js';
import { analyzeRecords } from '../../pipeline/analyze.js';
import { writeWindowReports } from '../output.js';
import { apmTime, fanIn, proxyTime } from '../replay.js';
import { createSegmentWriter, readSegment } from '../segment-file.js';
import { StatsByFile } from '../segment-stats.js';
import { parseSegmentName } from '../spool.js';
import { parseWindowLabel } from '../windows.js';
import { QUEUE_DIR, type ReduceResult, type ReduceTask, type SegmentRef } from './tasks.js';
import { workerSettings } from './task-settings.js';

/**
 * A reduce task: one window's reports from that window's segments, plus the segments of the
 * neighbouring windows within the join's reach (its horizon and clock skew), so a request whose
 * proxy record and APM transaction fall on either side of a boundary is joined, once: the window
 * is applied as a slice (src/pipeline/slice.ts), so the window keeps the proxy records it owns
 * (logged within it) and borrows only the partners they need. The neighbours' counters are not
 * the window's: their trailers are read and dropped. Reports are written by temp + rename, so a
 * retried reduce just writes them again. Null: the window has nothing to report.
 */
export async function runReduceTask(task: ReduceTask): Promise<ReduceResult | null> {
  const started = performance.now();
  const settings = workerSettings(task.settings);
  const startMs = parseWindowLabel(task.label);
  if (startMs === null) throw new Error(`not a window label: ${task.label}`);
  const runDir = join(task.outDir, QUEUE_DIR, task.runId);
  const tmp = join(runDir, 'tmp', `${task.label}-${randomUUID().slice(0, 12)}`);
  await mkdir(tmp, { recursive: true });
  try {
    // Segments of byte ranges get their line numbers counted from the file's start first (into
    // numbered copies: a range's segments of different windows share a file name).
    let copies = 0;
    const paths = async (list: SegmentRef[], kind: 'proxy' | 'apm'): Promise<string[]> => {
      const out: string[] = [];
      for (const ref of canonical(list)) {
        if (parseSegmentName(basename(ref.path))?.kind !== kind) continue;
        out.push(ref.lineOffset === 0 ? join(runDir, ref.path) : await renumbered(join(runDir, ref.path), ref.lineOffset, join(tmp, `lines-${copies++}-${basename(ref.path)}`)));
      }
      return out;
    };
    const ownProxy = await fanIn(await paths(task.own, 'proxy'), tmp, 'own-proxy', proxyTime);
    const ownApm = await fanIn(await paths(task.own, 'apm'), tmp, 'own-apm', apmTime);
    const marginProxy = await fanIn(await paths(task.margin, 'proxy'), tmp, 'margin-proxy', proxyTime);
    const marginApm = await fanIn(await paths(task.margin, 'apm'), tmp, 'margin-apm', apmTime);
    const files = new StatsByFile();
    const count = (stats: FileStats): void => files.add(stats);
    const drop = (): void => undefined;
    const untilMs = startMs + task.settings.windowMs;
    const analysis = await analyzeRecords({
      proxyStreams: [...ownProxy.map((p) => readSegment(p, count)), ...marginProxy.map((p) => readSegment(p, drop))] as AsyncIterable<ProxyRecord[]>[],
      apmStreams: [...ownApm.map((p) => readSegment(p, count)), ...marginApm.map((p) => readSegment(p, drop))] as AsyncIterable<ApmTransaction[]>[],
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
    const summary = await writeWindowReports(task.outDir, task.label, startMs, analysis);
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

/** A copy of a byte range's segment with line numbers (of records and of issue examples) counted from the file's start. */
async function renumbered(path: string, lineOffset: number, out: string): Promise<string> {
  const stats: FileStats[] = [];
  const writer = createSegmentWriter(out);
  for await (const batch of readSegment(path, (s) => stats.push(s))) await writer.write(batch.map((record) => ({ ...record, line: record.line + lineOffset })));
  for (const s of stats) s.firstIssues = s.firstIssues.map((issue) => ({ ...issue, line: issue.line + lineOffset }));
  await writer.close(stats);
  return out;
}
