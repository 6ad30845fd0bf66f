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

/** A piece of a compiled format: text written as is, or a value. */
export type LogFormatPart =
  | { kind: 'text'; text: string }
  | { kind: 'value'; name: string; quoted: boolean };

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
export function parseHaproxyLogFormat(format: string): LogFormatPart[] {
  let source = format;
  for (const [name, layout] of Object.entries(BUILT_IN_FORMATS)) source = source.replaceAll(`\${${name}}`, layout);
  const parts: LogFormatPart[] = [];
  const text = (piece: string): void => {
    const last = parts[parts.length - 1];
    if (last?.kind === 'text') last.text += piece;
    else parts.push({ kind: 'text', text: piece });
  };
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
      // A sample expression may hold brackets of its own (`%[var(txn.a),map(/x)]`): the matching one ends it.
      let depth = 0;
      let end = at;
      for (; end < source.length; end++) {
        if (source[end] === '[') depth++;
        else if (source[end] === ']' && --depth === 0) break;
      }
      if (end >= source.length) throw new HaproxyLogFormatError(`unterminated %[ at offset ${percent}`);
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

/** The dates a format may log: the request's (`%tr`, `%trg`, `%trl`) or the connection's accept (`%t`, `%T`, `%Tl`, `%Ts`). */
export const TIME_VARIABLES: ReadonlySet<string> = new Set(['tr', 'trg', 'trl', 't', 'T', 'Tl', 'Ts']);

interface Field {
  name: string;
  quoted: boolean;
  /** The format's text right after this value ('' for the last). */
  after: string;
}

/** A log-format compiled for reading: the text before the first value, the values, and the text after the last. */
export interface CompiledHaproxyLogFormat {
  /** The format as given, for messages. */
  readonly source: string;
  readonly prefix: string;
  readonly fields: readonly Field[];
  readonly suffix: string;
  /** The value cut from the right end back to it (text that may hold its delimiter), or -1. */
  readonly elastic: number;
  readonly names: ReadonlySet<string>;
}

export function compileHaproxyLogFormat(format: string): CompiledHaproxyLogFormat {
  const parts = parseHaproxyLogFormat(format);
  let prefix = '';
  let start = 0;
  if (parts[0]?.kind === 'text') {
    prefix = parts[0].text;
    start = 1;
  }
  const fields: Field[] = [];
  for (let i = start; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.kind !== 'value') continue;
    const next = parts[i + 1];
    const quoted = part.quoted && !NUMBER_VARIABLES.has(part.name);
    fields.push({ name: part.name, quoted, after: next?.kind === 'text' ? next.text : '' });
  }
  if (fields.length === 0) throw new HaproxyLogFormatError('the log-format has no variable');
  if (!fields.some((field) => TIME_VARIABLES.has(field.name))) throw new HaproxyLogFormatError('the log-format logs no date (%tr, %t, %trg, %trl, %T, %Tl or %Ts): its lines cannot be placed in time');
  for (let i = 0; i < fields.length - 1; i++) {
    if (fields[i]!.after === '' && !fields[i]!.quoted) throw new HaproxyLogFormatError(`%${fields[i]!.name} and %${fields[i + 1]!.name} have no text between them: alf cannot tell where one ends`);
  }
  const last = fields[fields.length - 1]!;
  const suffix = last.after;
  last.after = '';
  let elastic = -1;
  for (let i = fields.length - 1; i >= 0; i--) {
    if (isFreeText(fields[i]!.name) && !fields[i]!.quoted) {
      elastic = i;
      break;
    }
  }
  return { source: format, prefix, fields, suffix, elastic, names: new Set(fields.map((field) => field.name)) };
}

/** Values by variable name, from one line's body (after any syslog header); a string naming the misfit when it does not fit. */
export function splitHaproxyLine(format: CompiledHaproxyLogFormat, body: string): Map<string, string> | string {
  const { prefix, fields, suffix, elastic } = format;
  const values = new Map<string, string>();
  if (!body.startsWith(prefix)) return `the line does not start with the format's "${prefix}"`;
  let position = prefix.length;
  const leftEnd = elastic < 0 ? fields.length : elastic;
  for (let i = 0; i < leftEnd; i++) {
    const field = fields[i]!;
    const delimiter = i === fields.length - 1 ? suffix : field.after;
    let end: number;
    let next: number;
    if (field.quoted && body.charCodeAt(position) === 34 /* " */) {
      const close = body.indexOf('"', position + 1);
      if (close < 0) return `%${field.name}: no closing quote`;
      values.set(field.name, body.slice(position + 1, close));
      end = close + 1;
      if (i === fields.length - 1) {
        if (body.length - end !== suffix.length || !body.endsWith(suffix)) return `text after %${field.name} where the format ends`;
        return values;
      }
      if (!body.startsWith(delimiter, end)) return `%${field.name}: "${delimiter}" does not follow it`;
      position = end + delimiter.length;
      continue;
    }
    if (i === fields.length - 1) {
      if (!body.endsWith(suffix) || body.length - suffix.length < position) return `the line does not end with the format's "${suffix}"`;
      values.set(field.name, body.slice(position, body.length - suffix.length));
      return values;
    }
    let from = position;
    if (field.name === 'r') {
      // `GET /path HTTP/1.1`: its spaces are its own; the delimiter comes after the version.
      const version = body.indexOf(' HTTP/', position);
      if (version >= 0) from = version + 6;
    } else if ((field.name === 'hr' || field.name === 'hs') && body.charCodeAt(position) === 123 /* { */) {
      const close = body.indexOf('}', position);
      if (close >= 0) from = close;
    }
    end = body.indexOf(delimiter, from);
    if (end < 0) return `%${field.name}: "${delimiter}" does not follow it`;
    next = end + delimiter.length;
    values.set(field.name, body.slice(position, end));
    position = next;
  }
  if (elastic < 0) return values;
  // From the end back to the elastic value.
  if (!body.endsWith(suffix)) return `the line does not end with the format's "${suffix}"`;
  let end = body.length - suffix.length;
  for (let i = fields.length - 1; i > elastic; i--) {
    const field = fields[i]!;
    const delimiter = fields[i - 1]!.after;
    let start: number;
    if (field.quoted && body.charCodeAt(end - 1) === 34) {
      const open = body.lastIndexOf('"', end - 2);
      if (open < position) return `%${field.name}: no opening quote`;
      values.set(field.name, body.slice(open + 1, end - 1));
      start = open;
      if (!body.startsWith(delimiter, start - delimiter.length)) return `%${field.name}: "${delimiter}" does not come before it`;
      end = start - delimiter.length;
      continue;
    }
    start = body.lastIndexOf(delimiter, end - delimiter.length);
    if (start < position) return `%${field.name}: "${delimiter}" does not come before it`;
    values.set(field.name, body.slice(start + delimiter.length, end));
    end = start;
  }
  if (end < position) return `%${fields[elastic]!.name}: the values around it overlap`;
  values.set(fields[elastic]!.name, body.slice(position, end));
  return values;
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
    if (!trimmed.startsWith('log-format') || !/^log-format[ \t]/.test(trimmed)) continue;
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
