import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FORMATS, findFormat } from '../../../parsers/registry.js';
import { nginxFormat } from '../../../parsers/nginx.js';
import { AUTO_MIN_INPUT_BYTES, autoWorkers, estimatedInputBytes, workerPaysFor } from '../../../src/parse/workers/auto-jobs.js';
import { fileSource, resolveInputs, stdinSource, type Source } from '../../../src/sources/sources.js';

const MiB = 1024 * 1024;
const file = (name: string, size: number): Source => fileSource(name, size);

describe('--jobs auto', () => {
  it('counts the bytes of log a run will parse: a gzip file as 8 times its size, stdin as nothing', async () => {
    expect(await estimatedInputBytes([file('a.log', 100 * MiB), file('b.log.gz', 10 * MiB), stdinSource()])).toBe(180 * MiB);
  });

  it('knows gzip by its magic bytes, as reading does, not by the name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-auto-'));
    try {
      const rotated = join(dir, 'access.log.2');
      const misnamed = join(dir, 'plain.gz');
      await writeFile(rotated, gzipSync('127.0.0.1 - - [15/Jan/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"\n'));
      await writeFile(misnamed, 'not compressed\n');
      const sources = [fileSource(rotated, 1000), fileSource(misnamed, 3000)];
      expect(await estimatedInputBytes(sources)).toBe(8 * 1000 + 3000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens no file once the stored sizes alone reach the threshold: gzip only adds', async () => {
    const sniffed: string[] = [];
    const isGzip = async (path: string): Promise<boolean> => { sniffed.push(path); return true; };
    const sources = [file('a.log', 200 * MiB), file('b.log', 100 * MiB)];
    expect(await estimatedInputBytes(sources, AUTO_MIN_INPUT_BYTES, isGzip)).toBe(300 * MiB);
    expect(sniffed).toEqual([]);
    expect(await estimatedInputBytes(sources, 400 * MiB, isGzip)).toBe(8 * 300 * MiB);
    expect(sniffed).toEqual(['a.log', 'b.log']);
  });

  it('never opens a named pipe to sniff it: its first bytes belong to the run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'alf-auto-'));
    try {
      const fifo = join(dir, 'access.log');
      execFileSync('mkfifo', [fifo]);
      // Opening a FIFO for reading waits for a writer: a sniff would never return here.
      expect(await estimatedInputBytes(await resolveInputs([fifo]))).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts one worker per core only for 256 MiB of input or more, and says why when it starts none', async () => {
    expect(await autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES - 1)], AUTO_MIN_INPUT_BYTES, 4))
      .toEqual({ workers: 1, noneBecause: 'under 256 MiB of input, where starting them costs more than they save' });
    expect(await autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES / 2), file('b.log', AUTO_MIN_INPUT_BYTES / 2)], AUTO_MIN_INPUT_BYTES, 4)).toEqual({ workers: 4, noneBecause: null });
    expect((await autoWorkers([file('a.log.gz', AUTO_MIN_INPUT_BYTES / 8)], AUTO_MIN_INPUT_BYTES, 2)).workers).toBe(2);
    expect(await autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES)], AUTO_MIN_INPUT_BYTES, 1)).toEqual({ workers: 1, noneBecause: 'this machine has one core' });
    expect((await autoWorkers([stdinSource()], AUTO_MIN_INPUT_BYTES, 2)).workers).toBe(1);
  });

  it('keeps nginx log_format text and Apache on the main thread, and hands every other format to a worker', () => {
    const cheap = FORMATS.filter((format) => !workerPaysFor(format)).map((format) => format.id).sort();
    expect(cheap).toEqual(['apache-combined', 'apache-combined-d', 'apache-combined-t', 'apache-common', 'apache-vhost-combined', 'apache-vhost-common', 'nginx-combined', 'nginx-ingress', 'nginx-ingress-legacy', 'nginx-main']);
    expect(workerPaysFor(nginxFormat('$remote_addr [$time_local] "$request" $status $request_time'))).toBe(false);
    for (const id of ['aws-alb', 'nginx-json', 'kong', 'newrelic-csv', 'otel-json']) expect(workerPaysFor(findFormat(id)!), id).toBe(true);
    // Undetected: the worker reports the file, as a single-threaded run would.
    expect(workerPaysFor(null)).toBe(true);
  });
});
