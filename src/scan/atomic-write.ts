import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` so that a reader (or a run after SIGKILL or power loss) sees either the old
 * content or the new, never a mix: write a temp file beside it, fsync it, rename over, fsync
 * the directory so the rename itself is durable.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    // A full disk must not keep the half-written temp file: on a small volume it made every retry fail.
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Temp files of writeFileAtomic: `.<name>.<pid>.tmp`. */
const TEMP = /^\..+\.\d+\.tmp$/;

/**
 * Removes the temp files a run killed mid-write left (SIGKILL, power loss) in the out directory
 * and beside the state. Called with the lock held, so no live run is writing them.
 */
export async function removeStaleTemps(outDir: string, statePath: string): Promise<void> {
  for (const file of await readdir(outDir)) if (TEMP.test(file)) await rm(join(outDir, file), { force: true });
  const stateName = basename(statePath);
  for (const file of await readdir(dirname(statePath))) {
    if (file.startsWith(`.${stateName}.`) && TEMP.test(file)) await rm(join(dirname(statePath), file), { force: true });
  }
}

/** fsync a directory so renames and creations inside it survive a crash. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on directories (EINVAL); the rename is still atomic there.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}
