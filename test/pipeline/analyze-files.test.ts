import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/pipeline/analyze.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import type { Source } from '../../src/sources/sources.js';

/**
 * A run over many regular files (a log's rotations, a bucket's objects copied down) reads each from its first
 * record when the merge gets there, not all at once: open, each waiting file held a handle, a read
 * buffer and a batch of lines, and a directory of more files than the handle limit failed.
 */

/** A CLF time, `secondsIn` after midnight of 15 January 2025 (the tests stay within the day). */
function clfTime(secondsIn: number): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `15/Jan/2025:${two(Math.floor(secondsIn / 3600))}:${two(Math.floor(secondsIn / 60) % 60)}:${two(secondsIn % 60)} +0000`;
}

/** Line i of a combined log, a request a second, with failures now and then. */
function line(i: number): string {
  const status = i % 97 === 0 ? 502 : i % 89 === 0 ? 499 : 200;
  return `10.0.${i % 7}.${i % 250} - - [${clfTime(i)}] "GET /v1/items/${i % 40} HTTP/1.1" ${status} ${100 + (i % 900)} "-" "curl/8.5.0"`;
}

interface Opened { open: number; most: number }

/** Local files as the run sees them (a path: each may be read again), counting how many are open at once. */
function files(texts: readonly string[], opened: Opened): Source[] {
  return texts.map((text, n) => ({
    name: `access.log.${texts.length - n}`,
    path: `/logs/access.log.${texts.length - n}`,
    size: text.length,
    rereadable: true,
    open() {
      opened.open++;
      opened.most = Math.max(opened.most, opened.open);
      // In reads of 16 KiB, as from a file: a file longer than the first batch of lines is still open after it.
      const bytes = Buffer.from(text);
      const chunks = Array.from({ length: Math.ceil(bytes.length / 16_384) }, (_, k) => bytes.subarray(k * 16_384, (k + 1) * 16_384));
      const stream = Readable.from(chunks, { objectMode: false, highWaterMark: 16_384 });
      stream.once('close', () => { opened.open--; });
      return stream;
    },
  }));
}

const withoutPlaces = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key, inner: unknown) => (key === 'file' || key === 'line' ? undefined : inner)));

const run = (proxyOrAny: Source[]) => analyze({
  inputs: [], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, sources: { proxyOrAny, apm: [] },
});

describe('a run over many files', () => {
  // More lines a file than the first batch holds (2,048).
  const perFile = 2_600;
  const texts = Array.from({ length: 12 }, (_, n) => `${Array.from({ length: perFile }, (_, i) => line(n * perFile + i)).join('\n')}\n`);

  it('has at most two of them open at once, and reports what one file of the same lines gives', async () => {
    const opened: Opened = { open: 0, most: 0 };
    const many = await run(files(texts, opened));
    expect(opened.most).toBeLessThanOrEqual(2);
    expect(opened.open).toBe(0);
    const one = await run(files([texts.join('')], { open: 0, most: 0 }));
    // The same findings, but for where their evidence lines are (access.log.11:57 against access.log.1:2657).
    expect(withoutPlaces(many.findings)).toEqual(withoutPlaces(one.findings));
    expect(many.inputs.totals).toEqual(one.inputs.totals);
    expect(many.charts).toEqual(one.charts);
    // Each file's own counters, from its whole reading (not from the look at its first lines).
    expect(many.inputs.files.map((file) => [file.format, file.linesRead, file.records])).toEqual(texts.map(() => ['nginx-combined', perFile, perFile]));
  });

  it('reads a source that gives its bytes once (a named pipe, `--apm <(zcat …)`) once, from its start', async () => {
    const opened: Opened = { open: 0, most: 0 };
    const [file, pipe] = files([texts[0]!, texts[1]!], opened);
    let opens = 0;
    const once: Source = {
      name: '/dev/fd/63', path: '/dev/fd/63',
      open() {
        if (++opens > 1) throw new Error('a pipe cannot be read twice');
        return pipe!.open();
      },
    };
    const analysis = await run([file!, once]);
    expect(opens).toBe(1);
    expect(analysis.inputs.files.map((stats) => [stats.file, stats.records])).toEqual([['access.log.2', perFile], ['/dev/fd/63', perFile]]);
  });

  it('reads a file whose first lines do not tell its format as a single file is read', async () => {
    const noisy = `${Array.from({ length: 70 }, (_, i) => `garbage ${i}`).join('\n')}\n${texts[1]}`;
    const many = await run(files([texts[0]!, noisy], { open: 0, most: 0 }));
    expect(many.inputs.files.map((file) => [file.format, file.linesRead, file.records, file.skipped])).toEqual([
      ['nginx-combined', perFile, perFile, 0],
      ['nginx-combined', perFile + 70, perFile, 70],
    ]);
  });
});
