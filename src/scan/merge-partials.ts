import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '../model/errors.js';
import { severityRank, type Severity } from '../model/finding.js';
import { loadManifest, MANIFEST, saveManifest, type Manifest } from './manifest.js';
import { writeIndex } from './output.js';
import { renderWindow, type LiveSegment } from './render-windows.js';
import type { ReplaySettings } from './replay.js';
import { parseShard } from './shard.js';
import { listSpool, SPOOL_DIR } from './spool.js';
import { takeLock } from './state-lock.js';

/**
 * `alf merge`: the out directories of `alf scan --shard i/n` runs become the reports of one
 * run. Each window is replayed from the committed segments of every partial, in the same
 * canonical order a single run uses, so the join and the findings are the same.
 */

export interface MergeSummary {
  partials: number;
  windows: string[];
  findings: Partial<Record<Severity, number>>;
  worst: Severity | null;
}

export async function mergePartials(partials: readonly string[], outDir: string, replay: ReplaySettings, progress: ((text: string) => void) | null): Promise<MergeSummary> {
  const out = resolve(outDir);
  const manifests: { dir: string; manifest: Manifest }[] = [];
  for (const partial of partials) {
    const dir = resolve(partial);
    if (dir === out) throw new UsageError(`--out ${outDir} is one of the partials; merge into another directory`);
    const loaded = await loadManifest(dir);
    if (loaded.corrupt !== null) throw new InputError(`${join(partial, MANIFEST)} is ${loaded.corrupt}: run alf scan on that shard again, which rebuilds it from its spool`);
    const manifest = loaded.manifest;
    if (!manifest) throw new InputError(`${partial} is not a scan output directory (no manifest.json)`);
    manifests.push({ dir, manifest });
  }
  checkPartialsApart(partials, manifests);
  const windowMs = manifests[0]?.manifest.windowMs;
  if (manifests.some((m) => m.manifest.windowMs !== windowMs)) throw new UsageError('the partials were scanned with different --window values');

  const byWindow = new Map<string, LiveSegment[]>();
  for (const { dir, manifest } of manifests) {
    const retracted = new Set(manifest.retracted);
    for (const window of await listSpool(join(dir, SPOOL_DIR))) {
      const live = window.segments
        .filter((s) => s.run <= manifest.lastRun && !retracted.has(join(window.label, s.file)))
        .map((segment) => ({ directory: join(dir, SPOOL_DIR, window.label), segment }));
      if (live.length === 0) continue;
      const list = byWindow.get(window.label);
      if (list) list.push(...live);
      else byWindow.set(window.label, live);
    }
  }

  await mkdir(join(out, SPOOL_DIR), { recursive: true });
  // The lock a scan takes on its out directory: two merges (or a scan) never write one at once.
  const lock = await takeLock(join(out, '.alf-scan.lock'), `the out directory ${out}`, 0);
  try {
    return await mergeInto(out, byWindow, windowMs, partials.length, replay, progress);
  } finally {
    await lock.release();
  }
}

/**
 * Partials that hold the same records would count them twice: the same directory given twice, the
 * same shard twice, shards of different splits (`0/2` with `1/3`), or an unsharded scan beside
 * shards (it read what they read). Unsharded partials of their own (scans of different sources)
 * merge as they are.
 */
function checkPartialsApart(partials: readonly string[], manifests: readonly { dir: string; manifest: Manifest }[]): void {
  const seen = new Map<string, string>();
  manifests.forEach(({ dir }, i) => {
    const earlier = seen.get(dir);
    if (earlier !== undefined) throw new UsageError(`${partials[i]} is given twice (as ${earlier} too): its records would count twice`);
    seen.set(dir, partials[i]!);
  });
  const shards = manifests.map(({ manifest }, i) => ({ partial: partials[i]!, text: manifest.shard, shard: manifest.shard === null ? null : parseShard(manifest.shard) }));
  const sharded = shards.filter((entry) => entry.shard !== null);
  if (sharded.length === 0) return;
  const first = sharded[0]!;
  const unsharded = shards.find((entry) => entry.shard === null);
  if (unsharded !== undefined) {
    throw new UsageError(`${unsharded.partial} was scanned without --shard, ${first.partial} with --shard ${first.text}: the unsharded scan read what the shards read, so its records would count twice`);
  }
  const byIndex = new Map<number, string>();
  for (const { partial, text, shard } of sharded) {
    if (shard!.count !== first.shard!.count) throw new UsageError(`${partial} is shard ${text}, ${first.partial} shard ${first.text}: partials of one merge split the sources the same way`);
    const other = byIndex.get(shard!.index);
    if (other !== undefined) throw new UsageError(`${partial} and ${other} are both shard ${text}: its records would count twice`);
    byIndex.set(shard!.index, partial);
  }
}

async function mergeInto(
  out: string, byWindow: Map<string, LiveSegment[]>, windowMs: number | undefined, partials: number, replay: ReplaySettings, progress: ((text: string) => void) | null,
): Promise<MergeSummary> {
  const merged: Manifest = { version: 1, windowMs: windowMs ?? 3_600_000, lastRun: 0, retracted: [], shard: null, windows: {} };
  const summary: MergeSummary = { partials, windows: [], findings: {}, worst: null };
  for (const label of [...byWindow.keys()].sort()) {
    const rendered = await renderWindow(out, label, byWindow.get(label)!, replay);
    merged.windows[label] = rendered.summary;
    summary.windows.push(label);
    for (const [severity, n] of Object.entries(rendered.summary.findings)) summary.findings[severity as Severity] = (summary.findings[severity as Severity] ?? 0) + (n ?? 0);
    if (rendered.worst && (summary.worst === null || severityRank(rendered.worst) > severityRank(summary.worst))) summary.worst = rendered.worst;
    progress?.(`alf merge: report ${label} written`);
  }
  await writeIndex(out, merged);
  await saveManifest(out, merged);
  return summary;
}
