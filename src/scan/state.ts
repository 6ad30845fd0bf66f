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
}

/** An S3 object: immutable per ETag; a new ETag retracts the old version's segments. */
export interface ObjectEntry {
  etag: string;
  segments: string[];
  seenAtMs: number;
}

export interface ScanState {
  version: 1;
  windowMs: number;
  /** Runs up to this number are committed: their spool segments count, later ones are debris. */
  lastRun: number;
  files: FileEntry[];
  objects: Record<string, ObjectEntry>;
  /** Segments superseded by a committed run, deleted after the commit (again at start if killed). */
  retracted: string[];
}

export function emptyState(windowMs: number): ScanState {
  return { version: 1, windowMs, lastRun: 0, files: [], objects: {}, retracted: [] };
}

export async function loadState(path: string, windowMs: number): Promise<ScanState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState(windowMs);
    throw new InputError(`cannot read state file ${path}: ${(error as Error).message}`);
  }
  let state: ScanState;
  try {
    state = JSON.parse(text) as ScanState;
  } catch {
    throw new InputError(`state file ${path} is not valid JSON (it is only ever replaced atomically: was it edited by hand?)`);
  }
  if (state.version !== 1) throw new InputError(`state file ${path} has unknown version ${String(state.version)}`);
  if (state.windowMs !== windowMs) {
    throw new UsageError(`state file ${path} was made with --window ${state.windowMs / 60_000}m; use the same window or a new --state and --out`);
  }
  return state;
}

export async function saveState(path: string, state: ScanState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state)}\n`);
}

/** Entries not seen for this long are forgotten (the file or object is gone for good). */
export const FORGET_AFTER_MS = 7 * 86_400_000;
