import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate } from '../bench/generate.js';

/**
 * What a run keeps must not pin what it read. A value cut from a line (an upstream address, a
 * route, a client network) and kept in a table for the run keeps the whole 256 KB read chunk it
 * came from alive in V8; a few hundred of those held most of a file in memory. After the last
 * record, with everything but the detectors' state collectable, the heap beyond what the same run
 * keeps for a 10,000-line input (code, fixed-size tables, batches in flight) must be a small
 * fraction of the extra input.
 */

async function albLog(file: string, requests: number): Promise<number> {
  const out = createWriteStream(file);
  const counts = await generate('alb', requests, out);
  out.end();
  await once(out, 'close');
  return counts.records;
}

function retainedAfter(file: string, records: number): number {
  const child = spawnSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'retained-heap.mjs'), file, String(records)], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  const { seen, retained } = JSON.parse(child.stdout) as { seen: number; retained: number };
  expect(seen).toBe(records);
  return retained;
}
describe('memory kept by a run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-heap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps far less than the input after reading 60,000 ALB lines with many distinct values', async () => {
    const small = join(dir, 'small.log');
    const big = join(dir, 'big.log');
    const fixed = retainedAfter(small, await albLog(small, 10_000));
    const retained = retainedAfter(big, await albLog(big, 60_000));
    const extraInput = statSync(big).size - statSync(small).size;
    // Pinned read chunks: 29 MB more for these 28 MB more input; owned copies: 9 MB (tables of
    // client addresses and routes that grow with distinct values, within their caps).
    expect(retained - fixed).toBeLessThan(0.5 * extraInput);
  }, 60_000);
});
