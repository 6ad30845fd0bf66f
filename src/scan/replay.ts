import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStats } from '../model/file-stats.js';
import { mergeByTime } from '../pipeline/merge-by-time.js';
import type { JoinOptions } from '../join/options.js';
import type { Budget } from '../model/budget.js';
import type { ApmTransaction, LogRecord, ProxyRecord } from '../model/records.js';
import type { Analysis } from '../pipeline/analysis.js';
import { analyzeRecords } from '../pipeline/analyze.js';
import type { SliceSpec } from '../pipeline/slice-spec.js';
import { StatsByFile } from './segment-stats.js';
import { createSegmentWriter, readSegment, SEGMENT_EXTENSION } from './segment-file.js';
import type { WindowFormat } from '../model/window-formats.js';

/**
 * A window's report from its spooled records: every live segment, in canonical order, merged
 * by time and run through the same join, detectors and summaries as `alf analyze`. More than
 * FAN_IN segments of a layer are first merged in consecutive groups into temporary segments,
 * so open files and buffers stay bounded however many objects a window holds.
 */

export const FAN_IN = 32;

export interface ReplaySettings {
  budget: Budget | null;
  keyField?: string;
  join: JoinOptions;
  /** The `--where` slice, applied to every window's records before the join. */
  slice?: SliceSpec;
  /** Report files written per window (`--format`); absent: json and html. */
  formats?: readonly WindowFormat[];
}

export interface ReplayInput {
  /** Absolute paths, already in canonical order. */
  proxy: string[];
  apm: string[];
}

export const proxyTime = (record: LogRecord): number => (record as ProxyRecord).endMs;
export const apmTime = (record: LogRecord): number => (record as ApmTransaction).startMs;

async function mergeIntoSegment(paths: readonly string[], out: string, timeOf: (record: LogRecord) => number): Promise<void> {
  const stats: FileStats[] = [];
  const writer = createSegmentWriter(out);
  const streams = paths.map((path) => readSegment(path, (s) => stats.push(s)));
  for await (const batch of mergeByTime(streams, timeOf)) await writer.write(batch);
  await writer.close(stats);
}

/** Segments merged by time in groups of FAN_IN into temporary ones under `tmp`, until at most FAN_IN remain. */
export async function fanIn(paths: string[], tmp: string, tag: string, timeOf: (record: LogRecord) => number): Promise<string[]> {
  let level = 0;
  while (paths.length > FAN_IN) {
    const next: string[] = [];
    for (let i = 0; i < paths.length; i += FAN_IN) {
      const out = join(tmp, `${tag}-${level}-${String(i / FAN_IN).padStart(6, '0')}${SEGMENT_EXTENSION}`);
      await mergeIntoSegment(paths.slice(i, i + FAN_IN), out, timeOf);
      next.push(out);
    }
    paths = next;
    level++;
  }
  return paths;
}

export async function replayWindow(input: ReplayInput, tmp: string, settings: ReplaySettings): Promise<Analysis> {
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const proxy = await fanIn(input.proxy, tmp, 'proxy', proxyTime);
    const apm = await fanIn(input.apm, tmp, 'apm', apmTime);
    const files = new StatsByFile();
    const add = (stats: FileStats): void => files.add(stats);
    return await analyzeRecords({
      proxyStreams: proxy.map((path) => readSegment(path, add) as AsyncIterable<ProxyRecord[]>),
      apmStreams: apm.map((path) => readSegment(path, add) as AsyncIterable<ApmTransaction[]>),
      files: () => files.list(),
      budget: settings.budget,
      keyField: settings.keyField,
      join: settings.join,
      slice: settings.slice,
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
