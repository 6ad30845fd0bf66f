import { join } from 'node:path';
import { severityRank, type Severity } from '../model/finding.js';
import type { SegmentName } from './spool.js';
import { replayWindow, type ReplaySettings } from './replay.js';
import { writeWindowReports } from './output.js';
import type { WindowSummary } from './manifest.js';
import { parseWindowLabel } from './windows.js';

/** A window's live segments, from one spool or several (merge): absolute directory + name. */
export interface LiveSegment {
  directory: string;
  segment: SegmentName;
}

/** Canonical order: by name without the run number, then run, then directory (shards). */
export function canonicalOrder(segments: LiveSegment[]): LiveSegment[] {
  return [...segments].sort((a, b) =>
    a.segment.sortKey < b.segment.sortKey ? -1 : a.segment.sortKey > b.segment.sortKey ? 1
      : a.segment.run - b.segment.run || (a.directory < b.directory ? -1 : a.directory > b.directory ? 1 : 0));
}

export interface RenderedWindow {
  summary: WindowSummary;
  worst: Severity | null;
}

export async function renderWindow(outDir: string, label: string, segments: LiveSegment[], settings: ReplaySettings): Promise<RenderedWindow> {
  const ordered = canonicalOrder(segments);
  const paths = (kind: 'proxy' | 'apm'): string[] => ordered.filter((s) => s.segment.kind === kind).map((s) => join(s.directory, s.segment.file));
  const analysis = await replayWindow({ proxy: paths('proxy'), apm: paths('apm') }, join(outDir, 'spool', `.tmp-${label}`), settings);
  const summary = await writeWindowReports(outDir, label, parseWindowLabel(label) ?? 0, analysis, settings.formats);
  let worst: Severity | null = null;
  for (const finding of analysis.findings) if (worst === null || severityRank(finding.severity) > severityRank(worst)) worst = finding.severity;
  return { summary, worst };
}
