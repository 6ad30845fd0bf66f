import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMapTask } from '../../../src/scan/queue/map-task.js';
import type { MapTask } from '../../../src/scan/queue/tasks.js';
import { albLines } from '../helpers.js';

describe('a map task over a plain file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-map-task-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const task = (path: string, settledTail: boolean, named?: true): MapTask => {
    const info = statSync(path);
    return {
      runId: 'run', outDir: join(dir, 'out'), taskId: `map-${settledTail}-${named ?? false}`,
      settings: { windowMs: 3_600_000, budget: null, where: [], sinceMs: null, untilMs: null, s3TimeoutMs: 1000 },
      source: { kind: 'file', path, gzip: false, from: 0, end: info.size, settledTail, ...(named ? { named } : {}) },
      object: { id: path, head: '', headLength: 0, size: info.size, mtimeMs: info.mtimeMs, gzip: false },
      continues: null,
    };
  };

  it('leaves a last line without a newline for later, unless the file has settled: then it is read, to the end', async () => {
    const path = join(dir, 'object.log');
    writeFileSync(path, albLines(Date.UTC(2025, 0, 15, 9), 0, 6).trimEnd());
    const size = statSync(path).size;

    const waiting = await runMapTask(task(path, false));
    expect(waiting.records).toBe(5);
    expect(waiting.end).toBeLessThan(size);
    expect(waiting.failure).toMatch(/hold no newline/);

    const settled = await runMapTask(task(path, true));
    expect(settled.records).toBe(6);
    expect(settled.end).toBe(size);
    expect(settled.failure).toBeNull();
  });

  it('passes over a listed file that holds no request (an error log beside the access logs), and leaves a named one unparsed', async () => {
    // In ngx_log_error_core's layout (docs/formats.md, nginx: other lines on the same stream).
    const path = join(dir, 'error.log');
    writeFileSync(path, '2025/01/15 09:00:00 [notice] 1#1: start worker process 29\n2025/01/15 09:00:01 [error] 29#29: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: _, request: "GET / HTTP/1.1", host: "x"\n');
    const listed = await runMapTask(task(path, true));
    expect([listed.unparsed, listed.failure, listed.linesRead, listed.records, listed.skipped]).toEqual([null, null, 2, 0, 0]);
    const named = await runMapTask(task(path, true, true));
    expect(named.unparsed).toMatch(/^holds no request/);
  });
});
