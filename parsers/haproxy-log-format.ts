import { compileDelimitedFormat, DelimitedFormatError, matchingClose, pushText, splitDelimitedLine, type DelimitedFormat, type FormatPart } from './fields/delimited-format.js';
import { LogFormatError } from './nginx-log-format.js';

/**
 * HAProxy's custom `log-format` (configuration manual §8.2.6), compiled into a line reader.
 *
 * A format is text with variables: `%ci`, `%{+Q}r`, `%[capture.req.hdr(0)]`. A variable's name is
 * the run of letters after `%` (`%ci:%cp` is `ci`, `:`, `cp`); `%{…}` before it sets flags (`+Q`
 * quotes a text value, `-Q` does not), and `%{…}o` sets them for every later variable (the CLF
 * layout's `%{+Q}o`); `%[…]` is a sample expression; `%%` is a percent sign. Numbers are never
 * quoted, even under `+Q`. An empty text value is written `-`, or `""` when quoted (seen from
 * HAProxy 2.6.12, test/fixtures/real-software/haproxy-log-format).
 *
 * A line is read left to right, each value ending where the text after it in the format begins;
 * a quoted value ends at its closing quote (HAProxy writes `"` inside logged text as `#22`). Text
 * that may hold the next delimiter (the request line, header captures, a sample such as a user
 * agent) is cut from the right when it is the last such value: the values after it are cut from the
 * end of the line back. Only `indexOf`/`lastIndexOf`: no regular expression, no backtracking.
 */

/** `${HAPROXY_HTTP_LOG_FMT}` and its kin (HAProxy 2.7+): the built-in layouts, usable in a custom format. */
const BUILT_IN_FORMATS: Readonly<Record<string, string>> = {
  HAPROXY_HTTP_LOG_FMT: '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r',
  HAPROXY_HTTPS_LOG_FMT: '%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc',
  HAPROXY_TCP_LOG_FMT: '%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq',
};

const isLetter = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** Whether a flag list (`+Q`, `+Q,+X`, `-Q`) turns quoting on or off; null when it says nothing of it. */
function quoteFlag(flags: string): boolean | null {
  let quoted: boolean | null = null;
  for (const flag of flags.split(/[,\s]+/)) {
    if (flag === '+Q') quoted = true;
    else if (flag === '-Q') quoted = false;
  }
  return quoted;
}

/** A log-format alf cannot read; a LogFormatError, so `--log-format` reports it as it does an nginx one's. */
export class HaproxyLogFormatError extends LogFormatError {}

/** The parts of a log-format string, adjacent text merged. */
export function parseHaproxyLogFormat(format: string): FormatPart[] {
  let source = format;
  for (const [name, layout] of Object.entries(BUILT_IN_FORMATS)) source = source.replaceAll(`\${${name}}`, layout);
  const parts: FormatPart[] = [];
  const text = (piece: string): void => pushText(parts, piece);
  let quoteAll = false;
  let at = 0;
  while (at < source.length) {
    const percent = source.indexOf('%', at);
    if (percent < 0) {
      text(source.slice(at));
      break;
    }
    if (percent > at) text(source.slice(at, percent));
    at = percent + 1;
    if (source[at] === '%') {
      text('%');
      at++;
      continue;
    }
    let quoted: boolean | null = null;
    if (source[at] === '{') {
      const close = source.indexOf('}', at);
      if (close < 0) throw new HaproxyLogFormatError(`unterminated %{ at offset ${percent}`);
      quoted = quoteFlag(source.slice(at + 1, close));
      at = close + 1;
    }
    if (source[at] === '[') {
      // A sample expression may hold brackets of its own: the matching one ends it.
      const end = matchingClose(source, at, '[', ']');
      if (end < 0) throw new HaproxyLogFormatError(`unterminated %[ at offset ${percent}`);
      parts.push({ kind: 'value', name: `[${source.slice(at + 1, end).trim()}]`, quoted: quoted ?? quoteAll });
      at = end + 1;
      continue;
    }
    let end = at;
    while (end < source.length && isLetter(source.charCodeAt(end))) end++;
    if (end === at) throw new HaproxyLogFormatError(`a % without a variable name at offset ${percent}`);
    const name = source.slice(at, end);
    at = end;
    if (name === 'o') {
      // `%{+Q}o`: an option for every variable after it, written nothing itself.
      if (quoted !== null) quoteAll = quoted;
      continue;
    }
    parts.push({ kind: 'value', name, quoted: quoted ?? quoteAll });
  }
  return parts;
}

/** Values whose text may hold spaces or the next delimiter: the request line, captures, samples. */
function isFreeText(name: string): boolean {
  return name === 'r' || name === 'hr' || name === 'hs' || name === 'hrl' || name === 'hsl' || name === 'CC' || name === 'CS' || name.startsWith('[');
}

/** The variables HAProxy writes as numbers, never quoted. */
const NUMBER_VARIABLES = new Set([
  'B', 'U', 'ST', 'Ta', 'Tc', 'Td', 'Th', 'Ti', 'Tq', 'TR', 'Tr', 'Ts', 'Tt', 'Tu', 'Tw', 'ac', 'bc', 'bq', 'cp', 'fc',
  'fp', 'bp', 'sp', 'lc', 'ms', 'pid', 'rc', 'rt', 'sc', 'sq',
]);

/**
 * The dates a format may log, in the order a line's date is taken from them: local to the ms
 * (`%tr` the request's, `%t` the connection's accept), with a zone to the second (`%trg`, `%trl`,
 * `%T`, `%Tl`), epoch seconds (`%Ts`).
 */
export const TIME_VARIABLES: ReadonlySet<string> = new Set(['tr', 't', 'trg', 'trl', 'T', 'Tl', 'Ts']);

export type CompiledHaproxyLogFormat = DelimitedFormat;

const show = (name: string): string => `%${name}`;

/** Where a value's delimiter may first be: after the request's version (its spaces are its own), after a capture block's `}`. */
function searchFrom(name: string, line: string, position: number): number {
  if (name === 'r') {
    const version = line.indexOf(' HTTP/', position);
    return version < 0 ? position : version + 6;
  }
  if ((name === 'hr' || name === 'hs') && line.charCodeAt(position) === 123 /* { */) {
    const close = line.indexOf('}', position);
    return close < 0 ? position : close;
  }
  return position;
}

export function compileHaproxyLogFormat(format: string): CompiledHaproxyLogFormat {
  // Numbers are never quoted, even under %{+Q}.
  const parts = parseHaproxyLogFormat(format).map((part) => (part.kind === 'value' && NUMBER_VARIABLES.has(part.name) ? { ...part, quoted: false } : part));
  if (!parts.some((part) => part.kind === 'value' && TIME_VARIABLES.has(part.name))) {
    throw new HaproxyLogFormatError('the log-format logs no date (%tr, %t, %trg, %trl, %T, %Tl or %Ts): its lines cannot be placed in time');
  }
  try {
    return compileDelimitedFormat(format, parts, { isFreeText, show, searchFrom });
  } catch (error) {
    if (error instanceof DelimitedFormatError) throw new HaproxyLogFormatError(error.message);
    throw error;
  }
}

/** Values by variable name, from one line's body (after any syslog header); a string naming the misfit when it does not fit. */
export function splitHaproxyLine(format: CompiledHaproxyLogFormat, body: string): Map<string, string> | string {
  return splitDelimitedLine(format, body, show);
}

/** `req.hdr(X-Api-Key)`, `hdr(User-Agent,1)`, `req.fhdr(host)`: the header a sample reads, lower case; null for other samples. */
export function sampleHeaderName(sample: string, captures: readonly string[]): string | null {
  const inner = sample.slice(1, -1).trim();
  const capture = /^(?:capture\.req\.hdr|req\.cap_hdr)\((\d+)\)/.exec(inner);
  if (capture) return captures[Number(capture[1])]?.toLowerCase() ?? null;
  const header = /^(?:req\.)?f?hdr\(([^,)]+)/.exec(inner);
  return header ? header[1]!.trim().toLowerCase() : null;
}

/**
 * The `log-format` strings of an haproxy.cfg, in order, each once: the one argument of a
 * `log-format` line, unquoted as HAProxy's configuration parser does (`"…"` with backslash escapes,
 * `'…'` as is, `\ ` for a space outside quotes, `#` outside quotes starting a comment).
 */
export function haproxyLogFormats(config: string): string[] {
  const formats: string[] = [];
  for (const line of config.split('\n')) {
    const trimmed = line.trimStart();
    if (!/^log-format[ \t]/.test(trimmed)) continue;
    const format = configArgument(trimmed.slice('log-format'.length).trimStart());
    if (format !== '' && !formats.includes(format)) formats.push(format);
  }
  return formats;
}

function configArgument(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else out += ch;
    } else if (quote === '"') {
      if (ch === '\\' && i + 1 < text.length) out += text[++i];
      else if (ch === '"') quote = null;
      else out += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '\\' && i + 1 < text.length) {
      out += text[++i];
    } else if (ch === ' ' || ch === '\t' || ch === '#' || ch === '\r') {
      break;
    } else {
      out += ch;
    }
  }
  return out;
}
