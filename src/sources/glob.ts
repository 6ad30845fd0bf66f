import { readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { InputError } from '../model/errors.js';
import { describeFsError } from './sources.js';

/**
 * Local sources to file paths: a directory is every regular file below it (hidden files
 * skipped), a glob pattern (`/var/log/nginx/access.log*`) its matches, a path itself. Paths come
 * back absolute and sorted, so runs see the same order.
 *
 * Sources stay inside their roots (the directory, or a glob's fixed leading directories): a
 * symlink whose target lies outside is not read unless `followSymlinks` (a link to /etc/shadow
 * dropped into a log directory, or `loop -> ..`, which would read alf's own state and reports
 * back in). Such links are returned in `outside`, so a run can say what it passed over. A
 * symlink to a file inside the root is read under its own name; a symlinked directory is
 * entered only with `followSymlinks` (inside the root its files are listed anyway), once per
 * real directory, so link cycles end. Globs are matched with picomatch on a walk of their own,
 * so the same rules hold for `access.log*` and for `/var/log/**`.
 */

export interface LocalListing {
  files: string[];
  /** Symlinks that lead out of their source's root, not followed. */
  outside: string[];
  /** Directories below the root that could not be listed. */
  unreadable: { path: string; error: string }[];
  /** Real path of the source's root: the directory, the glob's fixed part, or the file's directory. */
  realRoot: string;
  /** The source named a file, not a directory or a glob (see Source.listed). */
  named?: boolean;
}

export interface ListOptions {
  followSymlinks?: boolean;
}

export async function expandLocal(spec: string, options: ListOptions = {}): Promise<LocalListing> {
  const follow = options.followSymlinks === true;
  const scanned = picomatch.scan(spec);
  if (scanned.isGlob) {
    const base = resolve(scanned.base || '.');
    const pattern = `${base === sep ? '' : base}/${scanned.glob}`;
    const depth = scanned.glob.includes('**') ? Infinity : scanned.glob.split('/').length - 1;
    const isMatch = picomatch(pattern, { dot: false });
    let realRoot: string;
    try {
      realRoot = await realpath(base);
    } catch {
      return { files: [], outside: [], unreadable: [], realRoot: base }; // a glob that matches nothing
    }
    return walk(base, realRoot, { follow, maxDepth: depth, match: isMatch });
  }
  let info;
  try {
    info = await stat(spec);
  } catch (error) {
    throw new InputError(`cannot read ${spec}: ${describeFsError(error)}`);
  }
  const path = resolve(spec);
  if (info.isFile()) return { files: [path], outside: [], unreadable: [], realRoot: await realpath(join(path, '..')), named: true };
  if (!info.isDirectory()) throw new InputError(`cannot read ${spec}: not a regular file or directory`);
  return walk(path, await realpath(path), { follow, maxDepth: Infinity, match: () => true });
}

interface WalkOptions {
  follow: boolean;
  maxDepth: number;
  match: (path: string) => boolean;
}

/** Every file below `root` that `match`es, by the symlink rules above. */
export async function walk(root: string, realRoot: string, options: WalkOptions): Promise<LocalListing> {
  const listing: LocalListing = { files: [], outside: [], unreadable: [], realRoot };
  const inside = (real: string): boolean => real === realRoot || real.startsWith(realRoot === sep ? sep : realRoot + sep);
  const visited = new Set<string>([realRoot]);
  const visit = async (directory: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      listing.unreadable.push({ path: directory, error: describeFsError(error) });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(directory, entry.name);
      if (entry.isFile()) {
        if (options.match(path)) listing.files.push(path);
      } else if (entry.isDirectory()) {
        if (depth < options.maxDepth) await visit(path, depth + 1);
      } else if (entry.isSymbolicLink()) {
        let real: string;
        let target;
        try {
          real = await realpath(path);
          target = await stat(real);
        } catch {
          continue; // dangling: nothing to read
        }
        if (target.isFile()) {
          if (!options.match(path)) continue;
          if (inside(real) || options.follow) listing.files.push(path);
          else listing.outside.push(path);
        } else if (target.isDirectory()) {
          if (!options.follow) {
            if (!inside(real) && depth < options.maxDepth) listing.outside.push(path);
          } else if (!visited.has(real) && depth < options.maxDepth) {
            visited.add(real);
            await visit(path, depth + 1);
          }
        }
      }
    }
  };
  await visit(root, 0);
  listing.files.sort();
  return listing;
}

/** logrotate's marks after a log's name: a count (`.2`), `dateext` (`-20250115`, `-2025011504`, `-2025-01-15`), compression. */
const ROTATION_SUFFIX = /(?:\.gz|\.bz2|\.xz|\.zst|\.\d+|-\d{8,10}|-\d{4}-\d{2}-\d{2})+$/;
/** The same marks before the extension, as logrotate's `extension .log` keeps it last: `web.1.log`, `web-20250115.log`. */
const ROTATION_BEFORE_EXTENSION = /(?:\.\d+|-\d{8,10}|-\d{4}-\d{2}-\d{2})+(\.[A-Za-z][A-Za-z0-9]*)$/;

/**
 * `access.log.2.gz`, `access.log-20250115.gz`, `access.2.log.gz` → `access.log`: every rotation of
 * one log, so a shard (`--shard i/n`) holds all of them. Two logs read as one keep their data
 * apart all the same; one log split over two shards was read twice once it rotated (`web.log` and
 * `web.1.log` hashed to different shards, and the merge counted the rotated lines twice).
 */
export function rotationBase(path: string): string {
  return path.replace(ROTATION_SUFFIX, '').replace(ROTATION_BEFORE_EXTENSION, '$1');
}
