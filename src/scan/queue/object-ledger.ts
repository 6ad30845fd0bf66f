import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { FINGERPRINT_BYTES, sha1 } from '../fingerprint.js';
import { QUEUE_DIR, type LedgerEntry, type LedgerPart, type LedgerUpdate, type ObjectVersion, type TaskSettings } from './tasks.js';

/**
 * The object ledger of queued scans, `<out>/queue/objects.json`: every object a queued run read
 * whole, with the parts read of it and the spool segments they wrote, kept for the next run. A
 * run then reads only what is new (objects it has not seen, the new end of a grown log, a log
 * renamed by rotation from where its old name was read to), and reduces only the windows that new
 * records fall in, each from its segments old and new: an hourly run over a bucket costs what the
 * hour added, not the bucket.
 *
 * It lives in the shared out directory every worker reads, is replaced atomically by the index
 * task after the reports are written, and one queued run at a time may change it (the enqueuer
 * holds a lock in Redis until its index task is done: src/scan/queue/run-lock.ts).
 */

export const LEDGER_FILE = 'objects.json';

const ledgerPath = (outDir: string): string => join(outDir, QUEUE_DIR, LEDGER_FILE);

export interface ObjectLedger {
  version: 1;
  /** What the spooled records depend on (ledgerSettings): another value and the ledger does not apply. */
  settings: string;
  objects: Record<string, LedgerEntry>;
}

/** The settings spool segments depend on; reports' settings (budget, --where, formats) do not count. */
export function ledgerSettings(settings: TaskSettings): string {
  return JSON.stringify({ windowMs: settings.windowMs, logFormat: settings.logFormat ?? null, keyField: settings.keyField ?? null, timeZone: settings.timeZone ?? null });
}

export function emptyLedger(settings: TaskSettings): ObjectLedger {
  return { version: 1, settings: ledgerSettings(settings), objects: {} };
}

/**
 * The ledger of `outDir` for these settings. None yet, or one of other settings, or one that does
 * not read: an empty ledger (every object is read), with a note saying why for the last two.
 */
export async function loadObjectLedger(outDir: string, settings: TaskSettings): Promise<{ ledger: ObjectLedger; note: string | null }> {
  const path = ledgerPath(outDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ledger: emptyLedger(settings), note: null };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ledger: emptyLedger(settings), note: `${path} does not parse: every object is read again` };
  }
  const ledger = parsed as Partial<ObjectLedger> | null;
  if (ledger === null || typeof ledger !== 'object' || ledger.version !== 1 || typeof ledger.objects !== 'object' || ledger.objects === null) {
    return { ledger: emptyLedger(settings), note: `${path} is not an object ledger of this alf: every object is read again` };
  }
  if (ledger.settings !== ledgerSettings(settings)) {
    return { ledger: emptyLedger(settings), note: `${path} was written with another --window, --log-format, --key-field or --timezone: every object is read again` };
  }
  return { ledger: ledger as ObjectLedger, note: null };
}

export async function saveObjectLedger(outDir: string, ledger: ObjectLedger): Promise<void> {
  await writeFileAtomic(ledgerPath(outDir), JSON.stringify(ledger));
}

/**
 * The objects after a run: renamed-away ids dropped, then the run's entries written over any of
 * the same id (a rotation may rename an id away and write it anew in one run).
 */
export function withUpdate(objects: Readonly<Record<string, LedgerEntry>>, update: LedgerUpdate): Record<string, LedgerEntry> {
  const next = { ...objects };
  for (const id of update.remove) delete next[id];
  return Object.assign(next, update.set);
}

/** What a run reads of a listed object. */
export type ObjectRead =
  /** Nothing: the ledger holds it as it is (under `renamedFrom` when a rotation renamed it). */
  | { read: 'nothing'; renamedFrom: string | null }
  /** Its bytes from `from` on (decompressed), continuing the entry `continues`. */
  | { read: 'rest'; from: number; continues: string }
  /** All of it, replacing any entry of its id. */
  | { read: 'whole' };

/**
 * A listed file: its version (`head` the SHA-1 of its first FINGERPRINT_BYTES, decompressed), and
 * the SHA-1 of as many of its first bytes as the ledger entry of its path was read with, or null
 * without one. Hashes, not bytes: the enqueuer keeps one of these per file while it lists.
 */
export interface ListedFile {
  object: ObjectVersion;
  ownHead: string | null;
}

/** A listed file as planFileReads takes it, from its first bytes. */
export function listedFile(ledger: ObjectLedger, object: ObjectVersion, prefix: Buffer): ListedFile {
  const entry = ledger.objects[object.id];
  const ownHead = entry !== undefined && entry.headLength > 0 && entry.headLength <= prefix.length ? sha1(prefix.subarray(0, entry.headLength)) : null;
  return { object, ownHead };
}

/** Were the parts of `entry` read within bounds at least as wide as this run's? */
function covers(entry: LedgerEntry, sinceMs: number | null, untilMs: number | null): boolean {
  return (entry.sinceMs === null || (sinceMs !== null && sinceMs >= entry.sinceMs)) && (entry.untilMs === null || (untilMs !== null && untilMs <= entry.untilMs));
}

/**
 * What to read of each listed file. A file whose first bytes are those its entry was read with is
 * the same file: read from where the last read stopped (nothing when it has not grown; all of it
 * when it shrank, i.e. was truncated and written again). A file with no matching entry of its own
 * whose first kilobyte is that of another entry's, whose own path now holds something else or is
 * gone, is that log renamed by rotation (`access.log` to `access.log.1`, then `.2.gz`): read from
 * where the old name was read to (a gzip decompressed, its first bytes skipped), so a rotation
 * reads nothing twice. Entries read within narrower --since/--until bounds than this run's are
 * read whole again.
 */
export function planFileReads(ledger: ObjectLedger, files: readonly ListedFile[], sinceMs: number | null, untilMs: number | null): ObjectRead[] {
  const usable = (id: string): LedgerEntry | undefined => {
    const entry = ledger.objects[id];
    return entry !== undefined && entry.headLength > 0 && covers(entry, sinceMs, untilMs) ? entry : undefined;
  };
  // First the files that are still their own entry: their entries are not renamed anywhere.
  const own = files.map((file) => {
    const entry = usable(file.object.id);
    return entry !== undefined && file.ownHead === entry.head ? entry : undefined;
  });
  const claimed = new Set<string>(files.filter((_, i) => own[i] !== undefined).map((file) => file.object.id));
  const byHead = new Map<string, string>();
  for (const [id, entry] of Object.entries(ledger.objects)) {
    if (entry.headLength === FINGERPRINT_BYTES && !claimed.has(id) && usable(id) !== undefined) byHead.set(entry.head, id);
  }
  return files.map((file, i): ObjectRead => {
    let id = file.object.id;
    let entry = own[i];
    if (entry === undefined) {
      const renamed = file.object.headLength === FINGERPRINT_BYTES ? byHead.get(file.object.head) : undefined;
      if (renamed === undefined || claimed.has(renamed)) return { read: 'whole' };
      claimed.add(renamed);
      id = renamed;
      entry = ledger.objects[renamed]!;
    }
    const renamedFrom = id === file.object.id ? null : id;
    if (file.object.gzip) {
      // A gzip's decompressed length is known only by reading it: unless it is the very file read
      // before, read it and skip what was read.
      const same = !entry.gzip ? false : entry.size === file.object.size && entry.mtimeMs === file.object.mtimeMs;
      return same ? { read: 'nothing', renamedFrom } : { read: 'rest', from: entry.read, continues: id };
    }
    if (entry.gzip || file.object.size < entry.read) return { read: 'whole' };
    return file.object.size === entry.read ? { read: 'nothing', renamedFrom } : { read: 'rest', from: entry.read, continues: id };
  });
}

/** What to read of a listed S3 object: nothing when its ETag is the one read within these bounds, else all of it. */
export function planObjectRead(ledger: ObjectLedger, object: ObjectVersion, sinceMs: number | null, untilMs: number | null): ObjectRead {
  const entry = ledger.objects[object.id];
  return entry !== undefined && entry.head === object.head && covers(entry, sinceMs, untilMs) ? { read: 'nothing', renamedFrom: null } : { read: 'whole' };
}

/**
 * The directory a part's segments are in, relative to `<out>/queue/`: `<run>/maps/<task>/<execution>`.
 * Every segment of a part is in the one directory its map task's execution wrote.
 */
export function partDirectory(part: LedgerPart): string | null {
  const first = part.segments[0];
  if (first === undefined) return null;
  return first.path.split(/[\\/]/).slice(0, 4).join('/');
}

/** The part directories an entry's segments are in. */
export function entryDirectories(entry: LedgerEntry): string[] {
  return entry.parts.map(partDirectory).filter((dir): dir is string => dir !== null);
}
