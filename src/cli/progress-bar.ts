import cliProgress from 'cli-progress';
import type { ProgressSink } from '../ingest/progress.js';

/**
 * The progress bar on stderr, only when stderr is a TTY (never in pipes, cron or CI logs).
 * Without a known total (stdin) it shows bytes read so far.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressSink | undefined {
  if (!stream.isTTY) return undefined;
  let bar: cliProgress.SingleBar | null = null;
  let read = 0;
  let last = 0;
  return {
    start(totalBytes, files) {
      bar = new cliProgress.SingleBar({
        stream,
        format: totalBytes === null
          ? `alf reading ${files} input(s) {megabytes} MB`
          : `alf reading ${files} input(s) [{bar}] {percentage}% {megabytes} MB, eta {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
      }, cliProgress.Presets.shades_classic);
      bar.start(totalBytes ?? 0, 0, { megabytes: '0' });
    },
    advance(bytes) {
      read += bytes;
      // Updating per chunk is cheap, but throttle anyway: chunks can be tiny on stdin.
      if (read - last < 1 << 20) return;
      last = read;
      bar?.update(read, { megabytes: (read / 1e6).toFixed(0) });
    },
    stop() {
      bar?.stop();
    },
  };
}
