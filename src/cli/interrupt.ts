/**
 * What Ctrl-C must put right on the terminal before alf exits: a progress bar leaves the cursor
 * hidden at the end of its line, and the shell's prompt would follow on that same line.
 * main.ts runs these from its SIGINT handler; the bar registers while it is drawn.
 */
const cleanups = new Set<() => void>();

/** Registers `cleanup` until the returned function is called. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function runInterruptCleanups(): void {
  for (const cleanup of cleanups) cleanup();
  cleanups.clear();
}

/** Ends a line a progress display left open: cursor shown again, prompt on a line of its own. */
export function closeTerminalLine(stream: NodeJS.WriteStream): void {
  stream.write('\u001b[?25h\n');
}
