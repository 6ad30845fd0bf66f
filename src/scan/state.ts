import { readFile } from 'node:fs/promises';
import { InputError, UsageError } from '../model/errors.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * What a scan remembers between runs. Written only after the reports and spool segments of a
 * run are durable, so a run killed at any point leaves either the old state (its work is
 * redone) or the new one (its work is complete).
 */

/** A local log file, by an identity that survives rename, compression and inode reuse. */
export interface FileEntry {
  /** Stable id: fingerprint at first sight. Names spool segments. */
  id: string;
  /** sha1 of the first `fpLength` decompressed bytes. */
  fpHash: string;
  fpLength: number;
  /** Decompressed bytes consumed: always just after a newline. */
  offset: number;
  /** Lines consumed up to `offset`, so a resumed read cites file line numbers (absent in older states: 0). */
  lines?: number;
  /** Where it was last read: device, inode, raw size and mtime, to skip unchanged files unopened. */
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  path: string;
  /** Format detected at offset 0, forced when continuing mid-file (no header, no detection sample). */
  format: string | null;
  seenAtMs: number;
  /**
   * Set when a spool segment this file wrote was found missing or corrupt: the next read starts
   * here (or earlier) and the segments it read from this offset on are replaced.
   */
  rebuildFrom?: number;
}

/** An S3 object: immutable per ETag; a new ETag retracts the old version's segments. */
export interface ObjectEntry {
  /** Empty when one of its segments was lost: the object is read again, as if replaced. */
  etag: string;
  segments: string[];
  seenAtMs: number;
}

export interface ScanState {
  version: 1;
  windowMs: number;
  /**
   * `--timezone` of the first run (absent: UTC). Records already spooled were read in it, so a later
   * run without the option keeps it, and one naming another zone is refused (docs/scheduled-scans.md).
   */
  timeZone?: string;
  /** Runs up to this number are committed: their spool segments count, later ones are debris. */
  lastRun: number;
  files: FileEntry[];
  objects: Record<string, ObjectEntry>;
  /** Segments superseded by a committed run, deleted after the commit (again at start if killed). */
  retracted: string[];
}

export function emptyState(windowMs: number, timeZone?: string): ScanState {
  return { version: 1, windowMs, ...(timeZone === undefined ? {} : { timeZone }), lastRun: 0, files: [], objects: {}, retracted: [] };
}

/**
 * The state at `path`, or a new one. `timeZone` is this run's `--timezone` (undefined: not given):
 * a new state remembers it; an existing one keeps its own, and refuses a different one.
 */
export async function loadState(path: string, windowMs: number, timeZone?: string): Promise<ScanState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(windowMs, timeZone);
    throw new InputError(`cannot read state file ${path}: ${(error as Error).message}`);
  }
  let state: ScanState;
  try {
    state = JSON.parse(text) as ScanState;
  } catch {
    throw new InputError(`state file ${path} is not valid JSON (${text.length === 0 ? 'empty' : 'truncated or edited by hand'}); ${START_OVER}`);
  }
  const problem = shapeProblem(state);
  if (problem) throw new InputError(`state file ${path} is not an alf scan state (${problem}); ${START_OVER}`);
  if (state.windowMs !== windowMs) {
    throw new UsageError(`state file ${path} was made with --window ${state.windowMs / 60_000}m; use the same window or a new --state and --out`);
  }
  if (timeZone !== undefined && (state.timeZone ?? 'UTC') !== timeZone) {
    throw new UsageError(`state file ${path} was made with --timezone ${state.timeZone ?? 'UTC (none given)'}: its spooled times were read in that zone; use the same zone (or leave --timezone out) or a new --state and --out`);
  }
  return state;
}

const START_OVER = 'restore it from a backup, or move it and the --out directory aside to start over (a new state with the old spool would count every request twice)';

/** What is wrong with a parsed state file's shape, or null: `null`, an array or a stray document must not reach the scan as a state. */
function shapeProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `it holds ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`;
  const state = value as Partial<Record<keyof ScanState, unknown>>;
  if (state.version !== 1) return `unknown version ${JSON.stringify(state.version) ?? 'none'}`;
  if (typeof state.windowMs !== 'number' || !(state.windowMs > 0)) return 'no windowMs';
  if (state.timeZone !== undefined && typeof state.timeZone !== 'string') return 'bad timeZone';
  if (!Number.isInteger(state.lastRun) || (state.lastRun as number) < 0) return 'no lastRun';
  if (!Array.isArray(state.files) || state.files.some((e) => e === null || typeof e !== 'object' || typeof (e as FileEntry).id !== 'string' || typeof (e as FileEntry).offset !== 'number')) return 'bad files list';
  if (state.objects === null || typeof state.objects !== 'object' || Array.isArray(state.objects)) return 'bad objects map';
  if (Object.values(state.objects).some((e) => e === null || typeof e !== 'object' || !Array.isArray((e as ObjectEntry).segments))) return 'bad object entry';
  if (!Array.isArray(state.retracted)) return 'bad retracted list';
  return null;
}

export async function saveState(path: string, state: ScanState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state)}\n`);
}

/** Entries not seen for this long are forgotten (the file or object is gone for good). */
export const FORGET_AFTER_MS = 7 * 86_400_000;
