import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBar } from '../../src/cli/progress-bar.js';

function fakeStderr(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let written = '';
  stream.on('data', (chunk: Buffer) => { written += chunk.toString(); });
  Object.assign(stream, { isTTY, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  stream.text = () => written;
  return stream;
}

describe('progress bar', () => {
  it('is absent when stderr is not a terminal (pipes, cron, CI)', () => {
    expect(progressBar(fakeStderr(false))).toBeUndefined();
  });

  it('draws on a terminal and reports megabytes read', async () => {
    const stderr = fakeStderr(true);
    const bar = progressBar(stderr)!;
    bar.start(10_000_000, 2);
    bar.advance(5_000_000);
    await new Promise((resolve) => setTimeout(resolve, 250));
    bar.stop();
    expect(stderr.text()).toMatch(/alf reading 2 input\(s\)/);
    expect(stderr.text()).toMatch(/5 MB/);
  });
});
