import cliProgress from 'cli-progress';
import type { ProgressSink } from '../sources/progress.js';
import { plural } from '../../reports/format.js';
import { closeTerminalLine, onInterrupt } from './interrupt.js';
import { isInteractive } from './terminal-text.js';

/**
 * The progress bar on stderr, only when stderr is a terminal that can redraw a line (never in
 * pipes, cron, CI logs or under TERM=dumb). Without a known total (stdin) it shows bytes read so
 * far. Ctrl-C while it is drawn ends its line, so the shell's prompt starts on a fresh one.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressSink | undefined {
  if (!isInteractive(stream, env)) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  let unregister: (() => void) | null = null;
  let read = 0;
  let last = 0;
  return {
    start(totalBytes, files) {
      const inputs = plural(files, 'input');
      bar = new cliProgress.SingleBar({
        stream,
        format: totalBytes === null
          ? `alf reading ${inputs} {megabytes} MB`
          : `alf reading ${inputs} [{bar}] {percentage}% {megabytes} MB, eta {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
      bar.start(totalBytes ?? 0, 0, { megabytes: '0' });
      unregister = onInterrupt(() => closeTerminalLine(stream));
    },
    advance(bytes) {
      read += bytes;
      // Updating per chunk is cheap, but throttle anyway: chunks can be tiny on stdin.
      if (read - last < 1 << 20) return;
      last = read;
      bar?.update(read, { megabytes: (read / 1e6).toFixed(0) });
    },
    stop() {
      unregister?.();
      unregister = null;
      bar?.stop();
    },
  };
}
