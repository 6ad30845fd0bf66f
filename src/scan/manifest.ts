import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Severity } from '../model/finding.js';
import { writeFileAtomic } from './atomic-write.js';

/**
 * `<out>/manifest.json`: what an out directory holds, for `alf merge` and the index page.
 * Written just before the state file; `lastRun` and `retracted` say which spool segments count.
 */
export interface WindowSummary {
  label: string;
  startMs: number;
  requests: number;
  findings: Partial<Record<Severity, number>>;
  updatedAt: string;
}

export interface Manifest {
  version: 1;
  windowMs: number;
  lastRun: number;
  retracted: string[];
  shard: string | null;
  windows: Record<string, WindowSummary>;
}

export const MANIFEST = 'manifest.json';

export async function loadManifest(outDir: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(join(outDir, MANIFEST), 'utf8')) as Manifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function saveManifest(outDir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}
