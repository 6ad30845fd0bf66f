import { describe, expect, it } from 'vitest';
import { FINGERPRINT_BYTES, sha1 } from '../../../src/scan/fingerprint.js';
import { emptyLedger, listedFile, planFileReads, planObjectRead, withUpdate, type ObjectLedger } from '../../../src/scan/queue/object-ledger.js';
import { ledgerAfterRun, windowsToReduce } from '../../../src/scan/queue/run-tasks.js';
import type { LedgerEntry, MapResult, ObjectVersion, TaskSettings } from '../../../src/scan/queue/tasks.js';

const SETTINGS: TaskSettings = { windowMs: 600_000, budget: null, where: [], sinceMs: null, untilMs: null, s3TimeoutMs: 30_000 };

/** A log's content: lines enough that its first kilobyte identifies it. */
function content(name: string, lines = 40): Buffer {
  return Buffer.from(Array.from({ length: lines }, (_, i) => `${name} line ${i} ${'x'.repeat(30)}\n`).join(''));
}

/** A file as the enqueuer lists it: its version, and its first bytes. */
interface Listing {
  object: ObjectVersion;
  prefix: Buffer;
}

function listed(id: string, bytes: Buffer, options: { gzip?: boolean; size?: number; mtimeMs?: number } = {}): Listing {
  const prefix = bytes.subarray(0, FINGERPRINT_BYTES);
  const object: ObjectVersion = {
    id, head: sha1(prefix), headLength: prefix.length, size: options.size ?? bytes.length, mtimeMs: options.mtimeMs ?? 1, gzip: options.gzip ?? false,
  };
  return { object, prefix };
}

/** planFileReads of these files, hashed against the ledger as the enqueuer does. */
function reads(ledger: ObjectLedger, files: readonly Listing[], sinceMs: number | null = null, untilMs: number | null = null) {
  return planFileReads(ledger, files.map((file) => listedFile(ledger, file.object, file.prefix)), sinceMs, untilMs);
}

/** The entry a run leaves for a file read to `read` bytes. */
function entryOf(file: Listing, read: number, bounds: { sinceMs?: number; untilMs?: number } = {}): LedgerEntry {
  const { id: _, ...version } = file.object;
  return { ...version, read, sinceMs: bounds.sinceMs ?? null, untilMs: bounds.untilMs ?? null, parts: [] };
}

function ledgerWith(entries: Record<string, LedgerEntry>): ObjectLedger {
  return { ...emptyLedger(SETTINGS), objects: entries };
}

describe('planFileReads', () => {
  const log = content('a');

  it('reads a file it has not seen whole, and one read to its end not at all', () => {
    const file = listed('/logs/access.log', log);
    expect(reads(emptyLedger(SETTINGS), [file], null, null)).toEqual([{ read: 'whole' }]);
    const ledger = ledgerWith({ '/logs/access.log': entryOf(file, log.length) });
    expect(reads(ledger, [file], null, null)).toEqual([{ read: 'nothing', renamedFrom: null }]);
  });

  it('reads a grown file from where the last read stopped, and a shrunk or rewritten one whole', () => {
    const before = listed('/logs/access.log', log.subarray(0, 800));
    const ledger = ledgerWith({ '/logs/access.log': entryOf(before, 790) });
    expect(reads(ledger, [listed('/logs/access.log', log)], null, null)).toEqual([{ read: 'rest', from: 790, continues: '/logs/access.log' }]);
    expect(reads(ledger, [listed('/logs/access.log', log.subarray(0, 700))], null, null)).toEqual([{ read: 'whole' }]);
    expect(reads(ledger, [listed('/logs/access.log', content('b'))], null, null)).toEqual([{ read: 'whole' }]);
  });

  it('follows a rotation: the old name\'s entry continues under the new one, plain or compressed', () => {
    const old = listed('/logs/access.log', log);
    const ledger = ledgerWith({ '/logs/access.log': entryOf(old, log.length) });
    const fresh = listed('/logs/access.log', content('new'));
    // access.log renamed to access.log.1, a new access.log beside it.
    expect(reads(ledger, [fresh, listed('/logs/access.log.1', log)], null, null)).toEqual([
      { read: 'whole' },
      { read: 'nothing', renamedFrom: '/logs/access.log' },
    ]);
    // Compressed: its decompressed length is not known without reading it, so it is read past what was read.
    expect(reads(ledger, [listed('/logs/access.log.2.gz', log, { gzip: true, size: 300 })], null, null)).toEqual([
      { read: 'rest', from: log.length, continues: '/logs/access.log' },
    ]);
  });

  it('does not take a copy for a rotation while the original is still there, nor give one entry to two files', () => {
    const original = listed('/logs/access.log', log);
    const ledger = ledgerWith({ '/logs/access.log': entryOf(original, log.length) });
    expect(reads(ledger, [original, listed('/backup/access.log', log)], null, null)).toEqual([
      { read: 'nothing', renamedFrom: null },
      { read: 'whole' },
    ]);
    expect(reads(ledger, [listed('/logs/a.1', log), listed('/logs/a.2', log)], null, null)).toEqual([
      { read: 'nothing', renamedFrom: '/logs/access.log' },
      { read: 'whole' },
    ]);
  });

  it('reads whole again a file read before within narrower --since/--until bounds than this run\'s', () => {
    const file = listed('/logs/access.log', log);
    const ledger = ledgerWith({ '/logs/access.log': entryOf(file, log.length, { sinceMs: 5_000 }) });
    expect(reads(ledger, [file], 6_000, null)).toEqual([{ read: 'nothing', renamedFrom: null }]);
    expect(reads(ledger, [file], 4_000, null)).toEqual([{ read: 'whole' }]);
    expect(reads(ledger, [file], null, null)).toEqual([{ read: 'whole' }]);
  });
});

describe('planObjectRead', () => {
  it('reads an S3 object again only when its ETag changed', () => {
    const object: ObjectVersion = { id: 's3://logs/a.log.gz', head: '"etag-1"', headLength: 0, size: 10, mtimeMs: 1, gzip: false };
    const ledger = ledgerWith({ [object.id]: { head: '"etag-1"', headLength: 0, size: 10, mtimeMs: 1, gzip: false, read: 10, sinceMs: null, untilMs: null, parts: [] } });
    expect(planObjectRead(ledger, object, null, null)).toEqual({ read: 'nothing', renamedFrom: null });
    expect(planObjectRead(ledger, { ...object, head: '"etag-2"' }, null, null)).toEqual({ read: 'whole' });
  });
});

describe('ledgerAfterRun', () => {
  const version = (id: string, head: string): ObjectVersion => ({ id, head, headLength: FINGERPRINT_BYTES, size: 100, mtimeMs: 1, gzip: false });
  const result = (object: ObjectVersion, continues: string | null, from: number, complete = true): MapResult => ({
    source: object.id, object, continues, from, end: from + 50, complete, linesRead: 5, records: 5, skipped: 0, failure: null, unparsed: null,
    segments: [{ path: `maps/m1/e1/20170314T0900Z/${object.head}.alfseg`, window: '20170314T0900Z', records: 5, head: null, tail: null }],
  });
  const entry = (head: string, read: number): LedgerEntry => ({ head, headLength: FINGERPRINT_BYTES, size: read, mtimeMs: 1, gzip: false, read, sinceMs: null, untilMs: null, parts: [{ from: 0, end: read, linesRead: 9, segments: [] }] });

  it('moves a whole rotation chain in one run: .1 to .2.gz read on, access.log to .1 unchanged, a new access.log read whole', () => {
    const objects = { '/l/access.log': entry('A', 100), '/l/access.log.1': entry('B', 80) };
    const { forReduces, update } = ledgerAfterRun(objects, [
      result(version('/l/access.log.2.gz', 'B'), '/l/access.log.1', 80),
      result(version('/l/access.log', 'C'), null, 0),
    ], { runId: 'r2', renamed: [{ from: '/l/access.log', to: version('/l/access.log.1', 'A') }], settings: SETTINGS });
    const after = withUpdate(objects, update);
    expect(Object.keys(after).sort()).toEqual(['/l/access.log', '/l/access.log.1', '/l/access.log.2.gz']);
    expect(after['/l/access.log.1']!.head).toBe('A');
    expect(after['/l/access.log.1']!.parts).toEqual(objects['/l/access.log'].parts);
    // The compressed log keeps the parts read under its old name and adds the new one, its segments named from the queue directory.
    expect(after['/l/access.log.2.gz']!.parts.map((p) => [p.from, p.segments.map((s) => s.path)])).toEqual([[0, []], [80, ['r2/maps/m1/e1/20170314T0900Z/B.alfseg']]]);
    expect(after['/l/access.log.2.gz']!.read).toBe(130);
    expect(after['/l/access.log']!.parts).toHaveLength(1);
    expect(forReduces).toEqual(after);
  });

  it('leaves an object read in part to be read again, yet lets this run\'s reduces read what was read of it', () => {
    const objects = { '/l/big.log': entry('A', 100) };
    const grown = version('/l/big.log', 'A');
    const { forReduces, update } = ledgerAfterRun(objects, [result(grown, '/l/big.log', 100, false)], { runId: 'r3', renamed: [], settings: SETTINGS });
    expect(update).toEqual({ set: {}, remove: [] });
    expect(forReduces['/l/big.log']!.parts).toHaveLength(2);
  });

  it('remembers the narrowest --since a part was read within', () => {
    const objects = { '/l/a.log': { ...entry('A', 100), sinceMs: 1_000 } };
    const { update } = ledgerAfterRun(objects, [result(version('/l/a.log', 'A'), '/l/a.log', 100)], { runId: 'r4', renamed: [], settings: { ...SETTINGS, sinceMs: 2_000 } });
    expect(update.set['/l/a.log']!.sinceMs).toBe(2_000);
  });
});

describe('windowsToReduce', () => {
  it('reduces a touched window, the one after it, and the windows whose margin reaches into it (the 95 s before a window, the 30 s after)', () => {
    expect([...windowsToReduce(['20170314T0920Z'], 600_000)].sort()).toEqual(['20170314T0910Z', '20170314T0920Z', '20170314T0930Z']);
    // One-minute windows: the two after borrow its tail (their start - 95 s reaches into it).
    expect([...windowsToReduce(['20170314T0920Z'], 60_000)].sort()).toEqual(['20170314T0919Z', '20170314T0920Z', '20170314T0921Z', '20170314T0922Z']);
  });
});
