import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { emptyFileStats, type FileStats } from '../../src/model/file-stats.js';
import { emptyApmTransaction, emptyProxyRecord, type LogRecord } from '../../src/model/records.js';
import { createSegmentWriter, digestSegment, readSegment, SEGMENT_EXTENSION, SEGMENT_VERSION } from '../../src/scan/segment-file.js';
import { apmTransactionArbitrary, proxyRecordArbitrary } from '../model/record-arbitraries.js';
import { BatchEncoder, TEXT_PIECE_CHARS } from '../../src/parse/workers/record-codec.js';

const dir = mkdtempSync(join(tmpdir(), 'alf-segment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextPath = (extension = SEGMENT_EXTENSION): string => join(dir, `s${files++}${extension}`);

async function write(path: string, batches: readonly LogRecord[][], stats: readonly FileStats[]): Promise<void> {
  const writer = createSegmentWriter(path);
  for (const batch of batches) await writer.write(batch);
  const digest = await writer.close(stats);
  expect(digest).toEqual(await digestSegment(path));
}

async function read(path: string): Promise<{ batches: LogRecord[][]; stats: FileStats[] }> {
  const batches: LogRecord[][] = [];
  const stats: FileStats[] = [];
  for await (const batch of readSegment(path, (s) => stats.push(s))) batches.push(batch);
  return { batches, stats };
}

function someRecords(count: number): LogRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const record = emptyProxyRecord('nginx-combined', 'access.log', i + 1, `10.0.0.${i % 7} - - [15/Jan/2025:10:00:00 +0000] "GET /a/${i} HTTP/1.1" 200 5`);
    record.endMs = 1_736_935_200_000 + i * 37;
    record.startMs = record.endMs;
    record.timeResolutionMs = 1000;
    record.status = 200;
    record.path = `/a/${i}`;
    record.clientIp = `10.0.0.${i % 7}`;
    return record;
  });
}

describe('spool segments: what is written is read back, exactly', { timeout: 120_000 }, () => {
  it('any proxy records and APM transactions, in batches, with the counters of each source', async () => {
    const stats = (name: string): FileStats => ({ ...emptyFileStats(name), records: 3, linesRead: 4, skipped: 1 });
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.array(fc.array(proxyRecordArbitrary, { minLength: 1, maxLength: 12 }), { maxLength: 4 }),
        fc.array(fc.array(apmTransactionArbitrary, { minLength: 1, maxLength: 12 }), { maxLength: 4 })),
      async (batches) => {
        const path = nextPath();
        await write(path, batches, [stats('a.log'), stats('b\ud800.log')]);
        const back = await read(path);
        expect(back.batches).toStrictEqual(batches);
        expect(back.stats).toStrictEqual([stats('a.log'), stats('b\ud800.log')]);
        rmSync(path);
      }), { numRuns: 150 });
  });

  it('a batch whose text runs past one piece reads back exactly, ASCII or not, pieces cut between records', async () => {
    // ~150 KiB of raw lines in one batch: several pieces of TEXT_PIECE_CHARS (record-codec.ts).
    const ascii = someRecords(1500).map((record, i) => Object.assign(record, { raw: `${record.raw} ${'x'.repeat(i % 97)}`, query: i % 3 === 0 ? `q=${i}` : null }));
    const mixed = ascii.map((record, i) => (i === 700 ? { ...record, path: '/caf\u00e9/\u{1F600}', raw: `${record.raw} \u00e9` } : record));
    const lone = ascii.map((record, i) => (i === 1200 ? { ...record, userAgent: 'agent \ud800' } : record));
    for (const batch of [ascii, mixed, lone]) {
      const path = nextPath();
      await write(path, [batch, batch.slice(0, 10)], []);
      expect((await read(path)).batches).toStrictEqual([batch, batch.slice(0, 10)]);
      rmSync(path);
    }
    // Several MiB: frames that straddle the reader's 1 MiB chunks come back whole.
    const many = Array.from({ length: 14 }, (_, i) => (i % 2 === 0 ? ascii : mixed));
    const path = nextPath();
    await write(path, many, []);
    expect(statSync(path).size).toBeGreaterThan(2 << 20);
    expect((await read(path)).batches).toStrictEqual(many);
    rmSync(path);
    const encoded = new BatchEncoder().encode(ascii);
    expect(encoded.texts.length).toBeGreaterThan(4);
    // A record's JSON is longer than all its strings together: a bound on how far a piece may run past its target.
    const longestRecord = Math.max(...ascii.map((r) => JSON.stringify(r).length));
    for (const piece of encoded.texts) expect(piece.length).toBeLessThan(TEXT_PIECE_CHARS + longestRecord);
    // Each piece begins with the first string of the record it names: its raw line.
    expect(encoded.textStarts[0]).toBe(0);
    for (let k = 1; k < encoded.texts.length; k++) expect(encoded.texts[k]!.startsWith(ascii[encoded.textStarts[k]!]!.raw)).toBe(true);
  });

  it('a version-1 segment (each line last in its text, no pieces of it) still reads back as that version read it', async () => {
    // Written by alf 0b720ec from samples/formats/envoy.log and samples/apm/newrelic.json, with a
    // lone surrogate and non-ASCII path put in; the JSON is what that alf read back from it.
    const fixture = join(import.meta.dirname, '../fixtures/spool/version-1');
    expect(readFileSync(`${fixture}.alfseg`)[6]).toBe(1);
    const expected = JSON.parse(readFileSync(`${fixture}.json`, 'utf8')) as { batches: LogRecord[][]; stats: FileStats[] };
    expect(await read(`${fixture}.alfseg`)).toStrictEqual(expected);
  });

  it('the digest names the header and every frame header (each with its payload\'s CRC-32); version 1 is hashed whole', async () => {
    const path = nextPath();
    await write(path, [someRecords(300), someRecords(5)], []);
    const digest = await digestSegment(path);
    const bytes = readFileSync(path);
    // A payload byte: the same digest (its frame's CRC-32 finds it on replay, below).
    const payloadFlip = Buffer.from(bytes);
    payloadFlip[40]! ^= 1;
    writeFileSync(path, payloadFlip);
    expect(await digestSegment(path)).toEqual(digest);
    await expect(read(path)).rejects.toThrow(/checksum mismatch/);
    // A frame header's CRC-32: another digest.
    const headerFlip = Buffer.from(bytes);
    headerFlip[8 + 5]! ^= 1;
    writeFileSync(path, headerFlip);
    expect((await digestSegment(path)).sha256).not.toBe(digest.sha256);
    const fixture = join(import.meta.dirname, '../fixtures/spool/version-1.alfseg');
    expect((await digestSegment(fixture)).sha256).toBe(createHash('sha256').update(readFileSync(fixture)).digest('hex'));
  });

  it('a segment with no record holds only its counters', async () => {
    const path = nextPath();
    await write(path, [], [emptyFileStats('empty.log')]);
    expect(await read(path)).toStrictEqual({ batches: [], stats: [emptyFileStats('empty.log')] });
  });

  it('is far smaller than the records as JSON lines', async () => {
    const records = someRecords(5000);
    const path = nextPath();
    await write(path, [records.slice(0, 2500), records.slice(2500)], []);
    const json = records.map((r) => JSON.stringify(r)).join('\n').length;
    const bytes = readFileSync(path).length;
    expect(bytes).toBeLessThan(json / 2);
    expect((await read(path)).batches.flat()).toStrictEqual(records);
  });

  it('still reads the gzipped NDJSON segments alf wrote before, with their trailer', async () => {
    const records = someRecords(10);
    const path = nextPath('.ndjson.gz');
    const trailer = `{"alfSegment":1,"stats":${JSON.stringify(emptyFileStats('old.log'))}}\n`;
    writeFileSync(path, gzipSync(records.map((r) => `${JSON.stringify(r)}\n`).join('') + trailer));
    const back = await read(path);
    expect(back.batches.flat()).toStrictEqual(records);
    expect(back.stats).toStrictEqual([emptyFileStats('old.log')]);
  });
});

describe('spool segments: damage is an error naming the file, never made-up records', () => {
  const written = async (): Promise<{ path: string; bytes: Buffer }> => {
    const path = nextPath();
    await write(path, [someRecords(300), someRecords(300)], [emptyFileStats('x.log')]);
    return { path, bytes: readFileSync(path) };
  };
  const readAll = async (path: string): Promise<void> => {
    for await (const batch of readSegment(path, () => undefined)) void batch;
  };

  it('a flipped byte inside a batch fails its checksum', async () => {
    const { path, bytes } = await written();
    bytes[Math.floor(bytes.length / 3)]! ^= 0x20;
    writeFileSync(path, bytes);
    await expect(readAll(path)).rejects.toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(checksum|damaged)`));
  });

  it('a segment cut short ends inside a frame', async () => {
    const { path, bytes } = await written();
    writeFileSync(path, bytes.subarray(0, bytes.length - 7));
    await expect(readAll(path)).rejects.toThrow(/truncated/);
  });

  it('a file of another kind is not a segment; a newer version is refused by number', async () => {
    const { path, bytes } = await written();
    writeFileSync(path, Buffer.concat([Buffer.from('{"kind":"proxy"}\n'), bytes]));
    await expect(readAll(path)).rejects.toThrow(/not an alf spool segment/);
    const newer = Buffer.from(bytes);
    newer[6] = SEGMENT_VERSION + 1;
    writeFileSync(path, newer);
    await expect(readAll(path)).rejects.toThrow(new RegExp(`version ${SEGMENT_VERSION + 1}, this alf reads versions 1 to ${SEGMENT_VERSION}`));
    writeFileSync(path, bytes.subarray(0, 4));
    await expect(readAll(path)).rejects.toThrow(/not an alf spool segment/);
  });
});
