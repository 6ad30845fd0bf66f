import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { InputError } from '../model/errors.js';
import { describeFsError } from './sources.js';

/**
 * Local scan sources to file paths: a directory is every regular file below it (hidden files
 * skipped), a glob pattern (`/var/log/nginx/access.log*`) its matches, a path itself.
 * Paths come back absolute and sorted, so runs see the same order.
 */
export async function expandLocal(spec: string): Promise<string[]> {
  if (isDynamicPattern(spec)) {
    const matches = await glob(spec, { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
    return matches.sort();
  }
  let info;
  try {
    info = await stat(spec);
  } catch (error) {
    throw new InputError(`cannot read ${spec}: ${describeFsError(error)}`);
  }
  if (info.isFile()) return [resolve(spec)];
  if (!info.isDirectory()) throw new InputError(`cannot read ${spec}: not a regular file or directory`);
  const matches = await glob('**/*', { cwd: spec, absolute: true, onlyFiles: true, dot: false });
  return matches.sort();
}

const ROTATION_SUFFIX = /(?:\.gz|\.\d+|-\d{8,10})+$/;

/** `access.log.2.gz`, `access.log-20250115.gz` → `access.log`: every rotation of one log. */
export function rotationBase(path: string): string {
  return path.replace(ROTATION_SUFFIX, '');
}
