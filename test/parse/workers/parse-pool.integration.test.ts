import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParsePool } from '../../../src/parse/workers/parse-pool.js';
import { BatchDecoder } from '../../../src/parse/workers/record-codec.js';
import { InternalError } from '../../../src/model/errors.js';
import { ROOT } from '../../cli/run-cli.js';

/** The pool runs the worker from its TypeScript source here (through tsx), as built code runs the .js beside it. */

const directive = readFileSync(join(ROOT, 'samples/incident/nginx-log-format.conf'), 'utf8');
const lines = readFileSync(join(ROOT, 'samples/incident/access.log'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'alf-pool-'));
const big = join(dir, 'access.log');
writeFileSync(big, lines.repeat(10));
const bigLines = lines.split('\n').length * 10 - 10;

function osThreads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
}

let pool: ParsePool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe('parse pool', { timeout: 60_000 }, () => {
  it('a worker runs ahead by its credit and no further, then streams the whole file once batches are taken', async () => {
    pool = new ParsePool(2);
    const channel = pool.startFile({ path: big, name: big, format: { logFormat: directive, candidates: 'any' }, credit: 2 });
    // Nothing taken: it must stop after two batches, although the file has ~24. The worker says
    // when it stops for credit, after the batches it sent, so they have all arrived by then.
    await channel.workerWaited();
    expect(channel.buffered).toBe(2);
    const decoder = new BatchDecoder();
    let records = 0;
    let lastLine = 0;
    for (;;) {
      const message = await channel.next();
      if (message.type === 'done') {
        expect(message.stats).toMatchObject({ format: 'nginx', linesRead: bigLines, records: bigLines, skipped: 0 });
        break;
      }
      const batch = decoder.decode(message.batch);
      expect(batch[0]!.line).toBe(lastLine + 1);
      lastLine = batch[batch.length - 1]!.line;
      records += batch.length;
      channel.ack();
      expect(channel.buffered).toBeLessThanOrEqual(2);
    }
    expect(records).toBe(bigLines);
    expect(pool.workerCount).toBe(1);
  });

  it('files beyond the pool size share workers; each still streams in full', async () => {
    pool = new ParsePool(2);
    const channels = [0, 1, 2].map(() => pool!.startFile({ path: big, name: big, format: { logFormat: directive, candidates: 'any' }, credit: 1 }));
    expect(pool.workerCount).toBe(2);
    // Take from the third first: it must not wait for the first two to finish (they never will untaken).
    for (const channel of [channels[2]!, channels[0]!, channels[1]!]) {
      let records = 0;
      for (;;) {
        const message = await channel.next();
        if (message.type === 'done') break;
        records += message.batch.count;
        channel.ack();
      }
      expect(records).toBe(bigLines);
    }
  });

  it('a failure in a worker rejects the task as an internal error', async () => {
    pool = new ParsePool(1);
    const channel = pool.startFile({ path: big, name: big, format: { forced: 'no-such-format', candidates: 'any' }, credit: 1 });
    await expect(channel.next()).rejects.toBeInstanceOf(InternalError);
  });

  it('close ends every worker thread, even ones paused for credit', async () => {
    pool = new ParsePool(2);
    const channels = [1, 2].map(() => pool!.startFile({ path: big, name: big, format: { logFormat: directive, candidates: 'any' }, credit: 1 }));
    await Promise.all(channels.map((channel) => channel.workerWaited()));
    const running = osThreads();
    await pool.close();
    // Each worker is an OS thread of this process: two fewer once they are gone.
    expect(osThreads()).toBeLessThanOrEqual(running - 2);
  });
});
