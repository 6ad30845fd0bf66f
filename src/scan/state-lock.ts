import { open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryLock } from 'fs-native-extensions';
import { describeOperational, ScanAbort } from './operational.js';

/**
 * alf's own lock on what a scan writes: an OS-level lock on a lock file beside the state (and
 * one in the out directory), so two runs never write the same state or spool at once, whatever
 * started them (cron without flock, a manual run beside the timer, two pods on one volume).
 *
 * Why fs-native-extensions: Node has no flock or fcntl of its own. This package (Holepunch,
 * maintained, ~90 k downloads a month) ships prebuilt N-API binaries for Linux, macOS and
 * Windows inside the npm package, so it installs without a compiler or an install script
 * (node:20-slim has neither, and npm 11 no longer runs install scripts unasked; fs-ext would
 * need both). On Linux it takes an open-file-description lock (fcntl F_OFD_SETLK): the kernel
 * releases it when the process ends in any way, SIGKILL included, so a crashed run never leaves
 * a stale lock; it conflicts between two opens even in one process (tests run scans in-process),
 * and it does not interact with flock(1), so a cron line that still wraps alf in `flock` on the
 * same path does not lock alf out. macOS uses flock(2), Windows LockFileEx.
 * (Facts and sources: docs/scheduled-scans.md, "Locks".)
 * A lock-file-and-PID scheme (proper-lockfile and friends) was not chosen: it goes stale by
 * guessing (mtime or PID checks, PIDs are reused in containers) instead of by the kernel.
 *
 * The lock file holds the holder's pid, host and start time, for the message of a run that
 * finds it taken. It is never deleted: deleting a lock file lets a third run lock a new inode
 * while the second still waits on the old one.
 */

export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
}

const POLL_MS = 200;

/**
 * Takes the lock at `path`, waiting up to `waitMs` for another holder to finish. `what` names
 * what it protects, for the message when it stays taken.
 */
export async function takeLock(path: string, what: string, waitMs: number): Promise<HeldLock> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'a+');
  } catch (error) {
    throw new ScanAbort(`cannot open the lock file ${path}: ${describeOperational(error)}`);
  }
  const deadline = Date.now() + waitMs;
  for (;;) {
    let locked: boolean;
    try {
      locked = tryLock(handle.fd);
    } catch (error) {
      await handle.close();
      throw new ScanAbort(`cannot lock ${path}: ${describeOperational(error)}`);
    }
    if (locked) break;
    if (Date.now() >= deadline) {
      const holder = await readHolder(handle);
      await handle.close();
      const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}` : 'another process';
      throw new ScanAbort(`${what} is in use by another alf run (${who}; lock ${path}): this run did nothing` +
        (waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)} s` : '; --lock-wait 10m waits for it instead'));
    }
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
  }
  const holder: Holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  try {
    await handle.truncate(0);
    await handle.write(`${JSON.stringify(holder)}\n`, 0);
  } catch {
    // The note is only for messages; the lock itself is held.
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await handle.close(); // closing the descriptor releases the lock
    },
  };
}

async function readHolder(handle: FileHandle): Promise<Holder | null> {
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    return JSON.parse(buffer.subarray(0, bytesRead).toString()) as Holder;
  } catch {
    return null;
  }
}
