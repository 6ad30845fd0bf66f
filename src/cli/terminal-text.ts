/**
 * Text from logs on a terminal: ANSI escapes and other control characters could move the
 * cursor, rewrite earlier lines or set the window title, so they are replaced before printing.
 */
// eslint-disable-next-line no-control-regex
// Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069) too: they reorder what
// follows on the line, so a log value could make a file name or a count read differently.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}

/**
 * Text for one line of a terminal: also replaces line breaks and tabs, so a newline in a file
 * name or S3 key (both may hold one) cannot start a line that looks like alf's own.
 */
export function terminalLine(text: string): string {
  return terminalSafe(text).replace(/[\n\t]/g, '\uFFFD');
}

/**
 * Whether to colour what goes to `stream`, in the order Node itself decides its colour depth:
 * FORCE_COLOR first (`0` or `false` turns colour off, any other value on, even in a pipe), then
 * NO_COLOR (https://no-color.org: set to anything but the empty string), then `TERM=dumb`, then
 * whether the stream is a terminal at all.
 */
export function useColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Whether a person watches `stream` on a terminal that can redraw a line: the progress bar's
 * condition. `TERM=dumb` (Emacs shell buffers, some CI consoles) cannot, whatever FORCE_COLOR says.
 */
export function isInteractive(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const SEVERITY_COLOURS: Partial<Record<string, string>> = { critical: '31;1', high: '31', medium: '33', low: '36' };

/** Colours alf's own text by severity (never text from a log: that goes through terminalSafe). */
export function paintSeverity(severity: string, text: string, colour: boolean): string {
  const code = SEVERITY_COLOURS[severity];
  return colour && code !== undefined ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Bold, for the verdict and headings of alf's own summary. */
export function bold(text: string, colour: boolean): string {
  return colour ? `\u001b[1m${text}\u001b[0m` : text;
}
