import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../model/errors.js';

/**
 * Outputs are checked before any work: a run over a day of logs must not end in "cannot write
 * report.html" (or worse, a stack trace). The check really opens the path, so a missing
 * directory, a directory given as a file, a read-only file system or missing permissions all
 * show up, as root too (where access(2) would say yes to almost anything).
 */

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return 'no such directory';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a part of the path is not a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    default: return code ?? (error as Error).message;
  }
}

/** A file alf will write: it exists and opens for writing (untouched), or it can be created (and is removed again). */
export function checkWritableFile(path: string, option: string): void {
  let existed = true;
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`cannot write ${option} ${path}: is a directory`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    existed = false;
  }
  try {
    // 'r+' opens an existing file for writing without truncating it; 'wx' creates a new one.
    closeSync(openSync(path, existed ? 'r+' : 'wx'));
    if (!existed) unlinkSync(path);
  } catch (error) {
    // ENOENT on creating a file in a directory that exists (/proc, a FUSE mount) is no missing directory.
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT' && !existed && isDirectory(dirname(resolve(path)));
    throw new UsageError(`cannot write ${option} ${path}: ${missing ? 'cannot create a file in that directory' : reason(error)}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `mkdir -p` one level at a time: Node's `mkdirSync(path, { recursive: true })` never returns
 * under /proc (Node 20 retries ENOENT there forever), and an --out path there must fail at once.
 */
function makeDirectories(path: string): void {
  const missing: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      statSync(at);
      break;
    } catch {
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const directory of missing.reverse()) {
    // Another run (two scans started together) may create it between our stat and mkdir.
    try {
      mkdirSync(directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
}

/** A directory alf will fill: created when missing (as the scan would), then a probe file written and removed. */
export function checkWritableDirectory(path: string, option: string): void {
  try {
    makeDirectories(path);
    const probe = join(path, `.alf-write-check-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch (error) {
    throw new UsageError(`cannot write ${option} ${path}: ${reason(error)}`);
  }
}
