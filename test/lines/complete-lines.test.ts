import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CompleteLines } from '../../src/lines/complete-lines.js';
import { readLineBatches } from '../../src/lines/lines.js';

async function through(chunks: Buffer[], trimmer: CompleteLines, watch?: () => void): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks, { objectMode: false }), trimmer, new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      watch?.();
      callback();
    },
  }));
  return Buffer.concat(out);
}

describe('CompleteLines', () => {
  it('passes complete lines only and counts what passed, from the skip offset on', async () => {
    const trimmer = new CompleteLines(4);
    const out = await through([Buffer.from('abc\nde'), Buffer.from('f\ngh')], trimmer);
    expect(out.toString()).toBe('def\n');
    expect(trimmer.passed).toBe(4);
    expect(trimmer.total).toBe(10);
  });

  it('holds at most the line cap of a line that never ends, and still counts its bytes as consumed', async () => {
    const cap = 1024;
    const trimmer = new CompleteLines(0, false, cap);
    const chunk = Buffer.alloc(300, 0x61);
    const chunks = [...Array.from({ length: 100 }, () => chunk), Buffer.from('\nnext\n')];
    let peak = 0;
    const watched = new CompleteLines(0, false, cap);
    // Watch the pending bytes as chunks go in: never above cap + 1, though 30,000 bytes had no newline.
    const original = watched._transform.bind(watched);
    watched._transform = (c, e, cb) => { original(c, e, cb); peak = Math.max(peak, watched.pendingBytes); };
    await through(chunks, watched);
    expect(peak).toBe(cap + 1);
    const out = await through(chunks, trimmer);
    expect(trimmer.passed).toBe(30_000 + 6);
    expect(out.length).toBe(cap + 1 + 6);
    // The cut line is still over the cap downstream, so reading counts it as too long rather than parsing a truncated line.
    const batches = [];
    for await (const batch of readLineBatches(Readable.from([out]), cap)) batches.push(batch);
    expect(batches[0]!.tooLong).toEqual([1]);
    expect(batches[0]!.lines[1]).toBe('next');
  });

  it('with keepTail, passes the capped tail of an object without a final newline and counts it whole', async () => {
    const trimmer = new CompleteLines(0, true, 10);
    const out = await through([Buffer.from('ok\n'), Buffer.alloc(50, 0x62)], trimmer);
    expect(out.length).toBe(3 + 11);
    expect(trimmer.passed).toBe(53);
  });
});
