import { stat } from 'node:fs/promises';
import { rotationBase } from '../ingest/glob.js';
import { readPrefix, sha1 } from './fingerprint.js';
import { inShard, type Shard } from './shard.js';
import type { FileEntry } from './state.js';

/**
 * Which local files to read and from where. A file is known by the hash of its first bytes
 * (decompressed), so `access.log` renamed to `access.log.1` and later gzipped to
 * `access.log.2.gz` is the same identity, read on from where the last run stopped; device and
 * inode only break ties and let an unchanged file be skipped without opening it. A file whose
 * first bytes changed under the same inode (copytruncate, inode reuse) is a new identity.
 */

export interface FileRead {
  path: string;
  entry: FileEntry;
  /** The entry as it was before this run, to restore if the read fails; null when new. */
  before: FileEntry | null;
  gzip: boolean;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  prefix: Buffer;
}

export interface FilePlan {
  /** Reads grouped by identity: one group is read in order, so a second copy reads on from the first. */
  groups: FileRead[][];
  unchanged: number;
  skipped: number;
}

function matches(entry: FileEntry, prefix: Buffer): boolean {
  return entry.fpLength <= prefix.length && sha1(prefix.subarray(0, entry.fpLength)) === entry.fpHash;
}

export async function planFiles(paths: readonly string[], entries: FileEntry[], options: { sinceMs: number | null; shard: Shard | null; nowMs: number }): Promise<FilePlan> {
  const groups = new Map<string, FileRead[]>();
  let unchanged = 0;
  let skipped = 0;
  for (const path of paths) {
    if (!inShard(rotationBase(path), options.shard)) continue;
    let info;
    try {
      info = await stat(path, { bigint: false });
    } catch {
      skipped++; // rotated away between listing and now: the next run sees it under its new name
      continue;
    }
    if (!info.isFile() || info.size === 0 || (options.sinceMs !== null && info.mtimeMs < options.sinceMs)) {
      skipped++;
      continue;
    }
    const same = entries.find((e) => e.dev === info.dev && e.ino === info.ino && e.size === info.size && e.mtimeMs === info.mtimeMs && e.path === path);
    if (same) {
      same.seenAtMs = options.nowMs;
      unchanged++;
      continue;
    }
    let prefix;
    try {
      prefix = await readPrefix(path);
    } catch {
      skipped++;
      continue;
    }
    // No complete line yet: nothing to read, and no stable identity to remember.
    if (prefix.bytes.length < 1024 && !prefix.bytes.includes(0x0a)) {
      skipped++;
      continue;
    }
    const candidates = entries.filter((e) => matches(e, prefix.bytes));
    candidates.sort((a, b) => Number(b.dev === info.dev && b.ino === info.ino) - Number(a.dev === info.dev && a.ino === info.ino) || b.fpLength - a.fpLength);
    let entry = candidates[0];
    let before: FileEntry | null = null;
    if (entry) {
      before = { ...entry };
    } else {
      const fpHash = sha1(prefix.bytes);
      let id = fpHash.slice(0, 20);
      for (let n = 2; entries.some((e) => e.id === id); n++) id = `${fpHash.slice(0, 20)}-${n}`;
      entry = { id, fpHash, fpLength: prefix.bytes.length, offset: 0, dev: info.dev, ino: info.ino, size: 0, mtimeMs: 0, path, format: null, seenAtMs: options.nowMs };
      entries.push(entry);
    }
    entry.seenAtMs = options.nowMs;
    const read: FileRead = { path, entry, before, gzip: prefix.gzip, dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, prefix: prefix.bytes };
    const group = groups.get(entry.id);
    if (group) group.push(read);
    else groups.set(entry.id, [read]);
  }
  return { groups: [...groups.values()], unchanged, skipped };
}
