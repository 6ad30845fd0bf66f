import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { opensBackToBack } from '../../src/lines/back-to-back-json.js';
import { MAX_LINE_BYTES } from '../../src/lines/line-cap.js';
import { readLineBatches } from '../../src/lines/lines.js';

/**
 * JSON objects written back to back with no newline (Kinesis Data Firehose's delivery to S3
 * without a delimiter) are read one object a line, so a delivery larger than the line cap is read
 * instead of skipped whole; every other input is split into lines exactly as before.
 */

async function readLines(chunks: readonly Buffer[]): Promise<{ lines: string[]; tooLong: number[] }> {
  const lines: string[] = [];
  const tooLong: number[] = [];
  for await (const batch of readLineBatches(Readable.from(chunks, { objectMode: false }))) {
    lines.push(...batch.lines);
    tooLong.push(...(batch.tooLong ?? []));
  }
  return { lines, tooLong };
}

const entry = (i: number): Record<string, unknown> => ({
  requestId: `req-${i}`, ip: '198.51.100.7', requestTime: '15/Jan/2025:10:32:01 +0000', httpMethod: 'GET',
  resourcePath: '/v1/items/{id}', status: '200', responseLatency: '23', userAgent: 'curl/8.5.0 "quoted" }{ \\ end',
});

describe('JSON objects back to back', () => {
  it('reads a delivery larger than the line cap one object a line, none cut', async () => {
    const objects = Array.from({ length: 8_000 }, (_, i) => JSON.stringify(entry(i)));
    const bytes = Buffer.from(objects.join(''));
    expect(bytes.length).toBeGreaterThan(MAX_LINE_BYTES);
    const read = await readLines([bytes.subarray(0, 65_536), bytes.subarray(65_536)]);
    expect(read.tooLong).toEqual([]);
    expect(read.lines).toEqual(objects);
  });

  it('reads a gzipped delivery alike, with spaces between objects dropped', async () => {
    const objects = Array.from({ length: 50 }, (_, i) => JSON.stringify(entry(i)));
    const read = await readLines([gzipSync(Buffer.from(objects.join(' \t')))]);
    expect(read.lines).toEqual(objects);
  });

  it('splits only between top-level objects, wherever the chunks are cut', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '{', '}', '"', '\\', ' ', 'é', '}{') });
    const value = fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(text, fc.integer(), fc.dictionary(fc.string({ maxLength: 3 }), text, { maxKeys: 2 })), { maxKeys: 4 });
    return fc.assert(fc.asyncProperty(fc.array(value, { minLength: 2, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 9 }), async (values, sizes) => {
      const objects = values.map((v) => JSON.stringify(v));
      const bytes = Buffer.from(objects.join(''));
      // The first chunk holds the first two objects' meeting (that is how a delivery is recognised); the rest in small pieces.
      const head = Buffer.byteLength(objects[0]!) + 1;
      const chunks = [bytes.subarray(0, head)];
      for (let at = head, i = 0; at < bytes.length; i++) {
        chunks.push(bytes.subarray(at, at + sizes[i % sizes.length]!));
        at += sizes[i % sizes.length]!;
      }
      expect((await readLines(chunks)).lines).toEqual(objects);
    }), { numRuns: 200 });
  });

  it('keeps damage on its line: an unclosed string or a stray brace does not swallow the rest', async () => {
    const good = JSON.stringify(entry(1));
    const read = await readLines([Buffer.from(`${good}${good}\n{"a":"unclosed}{\n}${good}${good}\n${good}`)]);
    expect(read.lines).toEqual([good, good, '{"a":"unclosed}{', `}${good}`, good, good]);
  });

  it('leaves every other input as it was: JSON lines, one object, text, a first object left open', async () => {
    const good = JSON.stringify(entry(1));
    for (const text of [`${good}\n${good}${good}\n`, `${good}`, `GET / 200\n${good}${good}`, ` ${good}\r\n${good}`]) {
      expect((await readLines([Buffer.from(text)])).lines, text).toEqual(text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n'));
    }
    expect((await readLines([])).lines, 'an empty input ends, once its first chunk is peeked twice').toEqual([]);
    expect(opensBackToBack(Buffer.from('{"a":{"b":1}'))).toBe(false);
    expect(opensBackToBack(Buffer.from('{"a":1} x {"b":1}'))).toBe(false);
    expect(opensBackToBack(Buffer.from('{"a":"}{"}  {"b":1}'))).toBe(true);
  });
});
