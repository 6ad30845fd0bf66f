import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Severity } from '../model/finding.js';
import type { WindowFormat } from '../model/window-formats.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * `<out>/manifest.json`: what an out directory holds, for `alf merge` and the index page.
 * Written just before the state file; `lastRun` and `retracted` say which spool segments count.
 */
/** A live segment as written: its records, and size and checksum to find loss and damage. */
export interface SegmentRecord {
  /** Records it holds; null when not known (a manifest rebuilt from the spool). */
  records: number | null;
  bytes: number;
  sha256: string;
}

export interface WindowSummary {
  label: string;
  startMs: number;
  requests: number;
  /** Records of every live segment (proxy and APM), as spooled. */
  records?: number;
  findings: Partial<Record<Severity, number>>;
  updatedAt: string;
  /** Live segments by file name (absent in manifests of older versions: not checked). */
  segments?: Record<string, SegmentRecord>;
  /** Why the report may lack records (a lost or damaged segment not yet rebuilt), until it is whole again. */
  incomplete?: WindowDamage[];
  /** Report files written (`--format`); absent: json and html. */
  formats?: WindowFormat[];
}

export interface WindowDamage {
  /** The segment, spool-relative. */
  segment: string;
  problem: string;
  /** What wrote it (file path or s3:// URL), read again to rebuild it; null when unknown. */
  source: string | null;
  /** That source's identity (`file:<identity hash>` or `s3:<bucket>/<key>`): a rebuild of it clears the damage. */
  key: string | null;
}

/** A source the last run could not read, or that no format fits, or damage it found: shown on the index page. */
export interface SourceProblem {
  source: string;
  problem: string;
}

export interface RunProblems {
  failed: SourceProblem[];
  unparsed: SourceProblem[];
  integrity: SourceProblem[];
}

export interface Manifest {
  version: 1;
  windowMs: number;
  lastRun: number;
  retracted: string[];
  shard: string | null;
  windows: Record<string, WindowSummary>;
  /** What the last run could not do (absent in older manifests). */
  problems?: RunProblems;
}

export const MANIFEST = 'manifest.json';

export type LoadedManifest = { manifest: Manifest | null; corrupt: null } | { manifest: null; corrupt: string };

/** The manifest, null when there is none, or why it cannot be used (truncated, not a manifest). */
export async function loadManifest(outDir: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(join(outDir, MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { manifest: null, corrupt: null };
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { manifest: null, corrupt: text.length === 0 ? 'empty' : 'not valid JSON (truncated?)' };
  }
  const manifest = value as Partial<Manifest> | null;
  if (manifest === null || typeof manifest !== 'object' || manifest.version !== 1 || typeof manifest.windowMs !== 'number' ||
    manifest.windows === null || typeof manifest.windows !== 'object' || !Array.isArray(manifest.retracted) || typeof manifest.lastRun !== 'number') {
    return { manifest: null, corrupt: 'not an alf manifest' };
  }
  return { manifest: manifest as Manifest, corrupt: null };
}

export async function saveManifest(outDir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}
