import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { runInterruptCleanups } from '../../src/cli/interrupt.js';
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
    expect(progressBar(fakeStderr(false), {})).toBeUndefined();
  });

  it('is absent on a terminal that cannot redraw a line (TERM=dumb), even when colour is forced', () => {
    expect(progressBar(fakeStderr(true), { TERM: 'dumb', FORCE_COLOR: '1' })).toBeUndefined();
  });

  it('leaves the line and shows the cursor again when Ctrl-C ends the run mid-bar', () => {
    const stderr = fakeStderr(true);
    const bar = progressBar(stderr, { TERM: 'xterm' })!;
    bar.start(10_000_000, 1);
    runInterruptCleanups();
    expect(stderr.text()).toMatch(/alf reading 1 input \[/);
    expect(stderr.text().endsWith('\u001b[?25h\n')).toBe(true);
    bar.stop();
  });

  it('registers nothing once stopped: a later Ctrl-C writes no stray newline', () => {
    const stderr = fakeStderr(true);
    const bar = progressBar(stderr, { TERM: 'xterm' })!;
    bar.start(10, 1);
    bar.stop();
    const before = stderr.text();
    runInterruptCleanups();
    expect(stderr.text()).toBe(before);
  });

  it('draws on a terminal and reports megabytes read', async () => {
    const stderr = fakeStderr(true);
    const bar = progressBar(stderr, { TERM: 'xterm' })!;
    bar.start(10_000_000, 2);
    bar.advance(5_000_000);
    // cli-progress redraws on its own timer: wait for the drawing, not for a guess at its interval.
    await vi.waitFor(() => expect(stderr.text()).toMatch(/5 MB/), { timeout: 10_000, interval: 20 });
    bar.stop();
    expect(stderr.text()).toMatch(/alf reading 2 inputs \[/);
    expect(stderr.text()).toMatch(/5 MB/);
  });
});
