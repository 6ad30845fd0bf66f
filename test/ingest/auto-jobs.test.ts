import { describe, expect, it } from 'vitest';
import { FORMATS, findFormat } from '../../parsers/registry.js';
import { nginxFormat } from '../../parsers/nginx.js';
import { AUTO_MIN_INPUT_BYTES, autoWorkers, estimatedInputBytes, workerPaysFor } from '../../src/ingest/auto-jobs.js';
import { fileSource, stdinSource, type Source } from '../../src/ingest/sources.js';

const MiB = 1024 * 1024;
const file = (name: string, size: number): Source => fileSource(name, size);

describe('--jobs auto', () => {
  it('counts the bytes of log a run will parse: a gzip file as 8 times its size, stdin as nothing', () => {
    expect(estimatedInputBytes([file('a.log', 100 * MiB), file('b.log.gz', 10 * MiB), stdinSource()])).toBe(180 * MiB);
  });

  it('starts one worker per core only for 256 MiB of input or more, and says why when it starts none', () => {
    expect(autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES - 1)], AUTO_MIN_INPUT_BYTES, 4))
      .toEqual({ workers: 1, noneBecause: 'under 256 MiB of input, where starting them costs more than they save' });
    expect(autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES / 2), file('b.log', AUTO_MIN_INPUT_BYTES / 2)], AUTO_MIN_INPUT_BYTES, 4)).toEqual({ workers: 4, noneBecause: null });
    expect(autoWorkers([file('a.log.gz', AUTO_MIN_INPUT_BYTES / 8)], AUTO_MIN_INPUT_BYTES, 2).workers).toBe(2);
    expect(autoWorkers([file('a.log', AUTO_MIN_INPUT_BYTES)], AUTO_MIN_INPUT_BYTES, 1)).toEqual({ workers: 1, noneBecause: 'this machine has one core' });
    expect(autoWorkers([stdinSource()], AUTO_MIN_INPUT_BYTES, 2).workers).toBe(1);
  });

  it('keeps nginx log_format text and Apache on the main thread, and hands every other format to a worker', () => {
    const cheap = FORMATS.filter((format) => !workerPaysFor(format)).map((format) => format.id).sort();
    expect(cheap).toEqual(['apache-combined', 'apache-combined-d', 'apache-combined-t', 'apache-common', 'nginx-combined', 'nginx-main']);
    expect(workerPaysFor(nginxFormat('$remote_addr [$time_local] "$request" $status $request_time'))).toBe(false);
    for (const id of ['aws-alb', 'nginx-json', 'kong', 'newrelic-csv', 'otel-json']) expect(workerPaysFor(findFormat(id)!), id).toBe(true);
    // Undetected: the worker reports the file, as a single-threaded run would.
    expect(workerPaysFor(null)).toBe(true);
  });
});
