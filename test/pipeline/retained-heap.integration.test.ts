import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXTENDED_LOG_FORMAT, generate, type InputKind } from '../bench/generate.js';

/**
 * What a run keeps must not pin what it read. A value cut from a line (an upstream address, a
 * route, a client network) and kept in a table for the run keeps the whole read chunk it
 * came from alive in V8; a few hundred of those held most of a file in memory. After the last
 * record, with everything but the detectors' state collectable, the heap beyond what the same run
 * keeps for a 10,000-line input (code, fixed-size tables, batches in flight) must be a small
 * fraction of the extra input.
 */

async function generated(kind: InputKind, file: string, requests: number): Promise<number> {
  const out = createWriteStream(file);
  const counts = await generate(kind, requests, out);
  out.end();
  await once(out, 'close');
  return counts.records;
}

const albLog = (file: string, requests: number): Promise<number> => generated('alb', file, requests);

function retainedAfter(file: string, records: number, joinedTo: string[] = []): number {
  const script = join(import.meta.dirname, 'retained-heap.mjs');
  const child = spawnSync(process.execPath, ['--expose-gc', script, file, ...joinedTo], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  const { seen, retained } = JSON.parse(child.stdout) as { seen: number; retained: number };
  // Every proxy record was seen (unjoined APM transactions come on top).
  expect(seen).toBeGreaterThanOrEqual(records);
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

  it('keeps far less than the input after joining 120,000 extended nginx lines to their New Relic export', async () => {
    // The scatter keeps 4,000 joined pairs with their user agent and key: a value cut from a line
    // (nginx user agents are not interned) would pin a read chunk per point, most of the input:
    // 31 MB kept for 40 MB more input without the copies, 7-12 MB with them (the join's tables
    // vary by a few MB from run to run, which made 60,000 lines too few to tell the two apart).
    const retainedJoined = async (name: string, requests: number): Promise<{ retained: number; bytes: number }> => {
      const log = join(dir, `${name}.log`);
      const apm = join(dir, `${name}.csv`);
      const records = await generated('extended', log, requests);
      await generated('newrelic', apm, requests);
      return { retained: retainedAfter(log, records, [apm, EXTENDED_LOG_FORMAT]), bytes: statSync(log).size + statSync(apm).size };
    };
    const small = await retainedJoined('small-joined', 10_000);
    const big = await retainedJoined('big-joined', 120_000);
    expect(big.retained - small.retained).toBeLessThan(0.5 * (big.bytes - small.bytes));
  }, 90_000);
});
