import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../../src/lines/line-cap.js';
import { readLineBatches, type LineBatch } from '../../src/lines/lines.js';

/**
 * The ingest line cap: an absurdly long line is cut to a sample and flagged (never parsed), it
 * still counts as one line, line numbers after it do not shift, and a stream with no newline at
 * all cannot grow memory. Each test here fails without the cap in src/lines/line-cap.ts.
 */

async function collect(stream: Readable, maxLineBytes?: number): Promise<{ lines: string[]; tooLong: number[]; firstLines: number[] }> {
  const lines: string[] = [];
  const tooLong: number[] = [];
  const firstLines: number[] = [];
  for await (const batch of readLineBatches(stream, maxLineBytes) as AsyncGenerator<LineBatch>) {
    expect(batch.firstLine).toBe(lines.length + 1);
    firstLines.push(batch.firstLine);
    lines.push(...batch.lines);
    for (const n of batch.tooLong ?? []) {
      expect(n).toBeGreaterThanOrEqual(batch.firstLine);
      expect(n).toBeLessThan(batch.firstLine + batch.lines.length);
      tooLong.push(n);
    }
  }
  return { lines, tooLong, firstLines };
}

/** Feeds `bytes` in the given chunk sizes (to put line ends on every possible chunk boundary). */
function chunked(bytes: Buffer, sizes: readonly number[]): Readable {
  const chunks: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes.length > 0 ? sizes[i % sizes.length]! : bytes.length);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

describe('ingest line cap', () => {
  it('cuts a 5 MB line to a flagged sample and keeps the line numbers after it (CRLF too)', async () => {
    const long = `GET /${'a'.repeat(5 * 1024 * 1024)}`;
    const text = `first\r\n${long}\r\nthird\r\n\r\nfifth`;
    const { lines, tooLong } = await collect(Readable.from([Buffer.from(text)]));
    expect(lines.length).toBe(5);
    expect(tooLong).toEqual([2]);
    expect(lines[0]).toBe('first');
    expect(lines[1]!.length).toBeLessThanOrEqual(1024);
    expect(lines[1]!.startsWith('GET /aaa')).toBe(true);
    expect(lines.slice(2)).toEqual(['third', '', 'fifth']);
  });

  it('cuts inside gzip as well, and a line of exactly the cap is not cut', async () => {
    const exact = 'x'.repeat(MAX_LINE_BYTES);
    const over = 'y'.repeat(MAX_LINE_BYTES + 1);
    const { lines, tooLong } = await collect(Readable.from([gzipSync(`${exact}\n${over}\nok\n`)]));
    expect(tooLong).toEqual([2]);
    expect(lines[0]!.length).toBe(MAX_LINE_BYTES);
    expect(lines[2]).toBe('ok');
  });

  it('agrees with a plain split for any bytes and any chunking (small cap)', async () => {
    const cap = 16;
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\u00e9\u20ac', '\u0000')), { maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 23 }), { maxLength: 5 }),
      async (parts, sizes) => {
        const bytes = Buffer.from(parts.join(''));
        const { lines, tooLong } = await collect(chunked(bytes, sizes), cap);
        // Reference: split the raw bytes; a line whose byte length exceeds the cap is flagged.
        const raw: Buffer[] = [];
        let start = 0;
        for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, start)) {
          raw.push(bytes.subarray(start, i));
          start = i + 1;
        }
        if (start < bytes.length) raw.push(bytes.subarray(start));
        expect(lines.length).toBe(raw.length);
        const expectedCut = raw.flatMap((line, i) => (line.length > cap ? [i + 1] : []));
        expect(tooLong).toEqual(expectedCut);
        raw.forEach((line, i) => {
          if (line.length > cap) return;
          const text = line.toString();
          expect(lines[i]).toBe(text.endsWith('\r') ? text.slice(0, -1) : text);
        });
      },
    ), { numRuns: 300 });
  });

  it('keeps memory flat on 64 MB without a single newline', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x41);
    const total = 64;
    let peak = 0;
    global.gc?.();
    const before = process.memoryUsage();
    const baseline = before.heapUsed + before.arrayBuffers;
    async function* endless(): AsyncGenerator<Buffer> {
      for (let i = 0; i < total; i++) {
        const now = process.memoryUsage();
        peak = Math.max(peak, now.heapUsed + now.arrayBuffers - baseline);
        yield chunk;
      }
    }
    const { lines, tooLong } = await collect(Readable.from(endless(), { objectMode: false }));
    expect(lines.length).toBe(1);
    expect(tooLong).toEqual([1]);
    // With the cap the reader holds about 1 MiB (the cap) plus a chunk; without it, all 64 MB.
    expect(peak).toBeLessThan(24 * 1024 * 1024);
  }, 30_000);
});
