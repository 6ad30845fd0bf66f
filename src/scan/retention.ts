import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { reportBase } from './output.js';
import { SPOOL_DIR } from './spool.js';
import { windowLabel } from './windows.js';

/**
 * `--retain 30d`: windows that ended longer ago than the retention go, with their spool and
 * reports, so an out directory grows with the retention and not with history. The spool costs
 * about 130 bytes per record (gzipped NDJSON), reports a few hundred kB per window.
 */

/** The label of the oldest window kept: windows with a smaller label are pruned. */
export function retainedFrom(nowMs: number, retainMs: number, windowMs: number): string {
  // A window is kept while any of it is within the retention: it ends after now - retain.
  const oldestKept = Math.floor((nowMs - retainMs) / windowMs) * windowMs;
  return windowLabel(oldestKept);
}

/** Deletes the windows' spool directories and reports; returns how many windows were pruned. */
export async function pruneWindows(outDir: string, labels: readonly string[]): Promise<number> {
  for (const label of labels) {
    await rm(join(outDir, SPOOL_DIR, label), { recursive: true, force: true });
    await rm(join(outDir, `${reportBase(label)}.json`), { force: true });
    await rm(join(outDir, `${reportBase(label)}.html`), { force: true });
  }
  return labels.length;
}
