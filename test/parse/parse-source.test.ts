import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../parsers/registry.js';
import { parseSource, type FormatMemo } from '../../src/parse/parse-source.js';

const line = (i: number): string =>
  `10.0.0.${i % 250} - - [15/Jan/2025:10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0000] "GET /v1/items/${i} HTTP/1.1" 200 ${100 + i} "-" "curl/8.5.0"`;

describe('parseSource', () => {
  it('hands over a single record first, so a file opened long before its turn holds one record, not a batch', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => line(i)).join('\n')}\n`;
    const parsed = parseSource({ name: 'access.log', open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS });
    const sizes: number[] = [];
    const lines: number[] = [];
    for await (const batch of parsed.batches) {
      sizes.push(batch.length);
      for (const record of batch) lines.push(record.line);
    }
    expect(parsed.stats.format).toBe('nginx-combined');
    expect(sizes[0]).toBe(1);
    // Nothing lost or reordered: every line once, in file order.
    expect(lines).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(parsed.stats.records).toBe(3000);
  });

  it('hands over a single record first even when the first lines do not parse', async () => {
    const text = `garbage one\n${line(1)}\ngarbage two\n${line(2)}\n${line(3)}\n`;
    const parsed = parseSource({ name: 'access.log', open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS, keepGoing: true });
    const batches: number[][] = [];
    for await (const batch of parsed.batches) batches.push(batch.map((record) => record.line));
    expect(batches).toEqual([[2], [4, 5]]);
    expect(parsed.stats.skipped).toBe(2);
  });

  it('reads a file of blank lines as an empty file: nothing skipped, no format failed; blank lines before a log in their own batch are passed over', async () => {
    const blank = parseSource({ name: 'blank.log', open: () => Readable.from([Buffer.from('\n  \n\t\n')]) }, { candidates: FORMATS });
    for await (const batch of blank.batches) expect(batch).toEqual([]);
    expect(blank.stats).toMatchObject({ format: null, undetected: null, linesRead: 3, skipped: 0, ignored: 3, records: 0 });
    // A stream whose first chunk is blank lines alone, then the log.
    const later = parseSource({ name: 'stdin', open: () => Readable.from([Buffer.from('\n\n'), Buffer.from(`${line(1)}\n${line(2)}\n`)]) }, { candidates: FORMATS });
    let records = 0;
    for await (const batch of later.batches) records += batch.length;
    expect([later.stats.format, records, later.stats.skipped]).toEqual(['nginx-combined', 2, 0]);
  });

  it('reads the files of one run in the format the last was detected in, where it reads them wholly', async () => {
    const read = async (name: string, text: string, memo: FormatMemo): Promise<string | null> => {
      const parsed = parseSource({ name, open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS, memo, keepGoing: true });
      for await (const batch of parsed.batches) void batch;
      return parsed.stats.format;
    };
    // An httpd log whose first file holds a `\"` (which only httpd writes), then plain lines both servers write alike.
    const escaped = '192.0.2.66 - - [15/Jan/2025:10:32:01 +0000] "GET /a?q=\\" OR 1 HTTP/1.1" 400 226 "-" "x"';
    const plain = `${line(1)}\n${line(2)}\n`;
    const memo: FormatMemo = { last: null };
    expect(await read('access.log.1', `${escaped}\n${line(3)}\n`, memo)).toBe('apache-combined');
    expect(memo.last?.id).toBe('apache-combined');
    expect(await read('access.log', plain, memo)).toBe('apache-combined');
    // Alone, the plain file goes to the first format in the registry that reads it.
    expect(await read('access.log', plain, { last: null })).toBe('nginx-combined');
    // A file the remembered format does not read is detected afresh, and is remembered in turn.
    const alb = FORMATS.find((format) => format.id === 'aws-alb')!;
    expect(await read('alb.log', `${alb.example}\n`, memo)).toBe('aws-alb');
    expect(memo.last).toBe(alb);
  });
});
