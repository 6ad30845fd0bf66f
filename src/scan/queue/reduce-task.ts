import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { FileStats } from '../../ingest/file-stats.js';
import { severityRank, type Severity } from '../../model/finding.js';
import type { ApmTransaction, ProxyRecord } from '../../model/records.js';
import { analyzeRecords } from '../../pipeline/analyze.js';
import { writeWindowReports } from '../output.js';
import { apmTime, fanIn, proxyTime } from '../replay.js';
import { createSegmentWriter, readSegment, SEGMENT_EXTENSION } from '../segment-file.js';
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
    // The byte ranges of one file become one segment again, in file order with line numbers counted
    // from the file's start, so ties in time merge as they do in the file itself.
    let copies = 0;
    const paths = async (list: SegmentRef[], kind: 'proxy' | 'apm'): Promise<string[]> => {
      const byFile = new Map<string, SegmentRef[]>();
      for (const ref of canonical(list)) {
        const name = parseSegmentName(basename(ref.path));
        if (name?.kind !== kind) continue;
        const file = name.sortKey.split('-')[1]!;
        byFile.set(file, [...(byFile.get(file) ?? []), ref]);
      }
      const out: string[] = [];
      for (const refs of byFile.values()) {
        if (refs.length === 1 && refs[0]!.lineOffset === 0) out.push(join(runDir, refs[0]!.path));
        else out.push(await concatenated(runDir, refs, join(tmp, `file-${copies++}${SEGMENT_EXTENSION}`)));
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

/** The segments of a file's byte ranges as one, in file order, lines (of records and issue examples) counted from the file's start. */
async function concatenated(runDir: string, refs: SegmentRef[], out: string): Promise<string> {
  const stats: FileStats[] = [];
  const writer = createSegmentWriter(out);
  const ordered = [...refs].sort((a, b) => (parseSegmentName(basename(a.path))?.from ?? 0) - (parseSegmentName(basename(b.path))?.from ?? 0));
  for (const ref of ordered) {
    const offset = ref.lineOffset;
    const add = (s: FileStats): void => {
      stats.push(offset === 0 ? s : { ...s, firstIssues: s.firstIssues.map((issue) => ({ ...issue, line: issue.line + offset })) });
    };
    for await (const batch of readSegment(join(runDir, ref.path), add)) {
      await writer.write(offset === 0 ? batch : batch.map((record) => ({ ...record, line: record.line + offset })));
    }
  }
  await writer.close(stats);
  return out;
}
