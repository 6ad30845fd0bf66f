import { compileDelimitedFormat, DelimitedFormatError, matchingClose, pushText, splitDelimitedLine, type DelimitedFormat, type FormatPart } from './fields/delimited-format.js';
import { LogFormatError } from './nginx-log-format.js';

/**
 * Envoy's access-log format strings (docs/formats.md, Envoy): text and command operators,
 * `%START_TIME%`, `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`, `%REQ(USER-AGENT):64%` (a length limit),
 * `%START_TIME(%s.%3f)%` (a time format, itself holding `%`). A command's name is upper case,
 * letters, digits and `_`; its argument runs to the matching `)`. Envoy writes `-` for a value it
 * does not have, and quotes only where the format has them (it does not escape a `"` inside a
 * header). The default format, Envoy's own configuration templates (`access_log_format_helper`:
 * without %UPSTREAM_HOST%, paths cut at 256), Emissary's `ACCESS …` and any operator's own layout
 * are read the same way once the format is known.
 */

export class EnvoyLogFormatError extends LogFormatError {}

const isCommandChar = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;

/** The parts of a format string; a command's name keeps its argument (`REQ(USER-AGENT)`), not its length limit. */
export function parseEnvoyLogFormat(format: string): FormatPart[] {
  const parts: FormatPart[] = [];
  let at = 0;
  while (at < format.length) {
    const percent = format.indexOf('%', at);
    if (percent < 0) {
      pushText(parts, format.slice(at));
      break;
    }
    if (percent > at) pushText(parts, format.slice(at, percent));
    let end = percent + 1;
    while (end < format.length && isCommandChar(format.charCodeAt(end))) end++;
    let name = format.slice(percent + 1, end);
    if (name !== '' && format[end] === '(') {
      const close = matchingClose(format, end, '(', ')');
      if (close < 0) throw new EnvoyLogFormatError(`unterminated ( in %${name}( at offset ${percent}`);
      name = `${name}(${format.slice(end + 1, close)})`;
      end = close + 1;
    }
    if (name !== '' && format[end] === ':') {
      let digits = end + 1;
      while (digits < format.length && format.charCodeAt(digits) >= 48 && format.charCodeAt(digits) <= 57) digits++;
      if (digits > end + 1) end = digits;
    }
    if (name === '' || format[end] !== '%') {
      // Not a command operator: a percent sign of the text.
      pushText(parts, '%');
      at = percent + 1;
      continue;
    }
    parts.push({ kind: 'value', name: commandKey(name), quoted: false });
    at = end + 1;
  }
  return parts;
}

/** Header names are case-insensitive: `REQ(user-agent)` and `REQ(User-Agent)` are one command. */
function commandKey(name: string): string {
  const open = name.indexOf('(');
  if (open < 0) return name;
  const command = name.slice(0, open);
  return command === 'REQ' || command === 'RESP' || command === 'TRAILER' ? `${command}(${name.slice(open + 1, -1).toUpperCase()})` : name;
}

/** Commands whose values may hold spaces: headers, metadata, details. */
function isFreeText(name: string): boolean {
  return name.startsWith('REQ(') || name.startsWith('RESP(') || name.startsWith('TRAILER(') || name.startsWith('DYNAMIC_METADATA(')
    || name.startsWith('FILTER_STATE(') || name === 'RESPONSE_CODE_DETAILS' || name === 'CONNECTION_TERMINATION_DETAILS' || name === 'UPSTREAM_TRANSPORT_FAILURE_REASON';
}

const show = (name: string): string => `%${name}%`;

/** `%START_TIME%`, or with a time format (`%START_TIME(%s.%3f)%`). */
export function isStartTime(name: string): boolean {
  return name === 'START_TIME' || name.startsWith('START_TIME(');
}

export type CompiledEnvoyLogFormat = DelimitedFormat;

export function compileEnvoyLogFormat(format: string): CompiledEnvoyLogFormat {
  const text = format.endsWith('\n') ? format.slice(0, -1) : format;
  const parts = parseEnvoyLogFormat(text);
  const names = new Set(parts.flatMap((part) => (part.kind === 'value' ? [part.name] : [])));
  if (![...names].some(isStartTime)) throw new EnvoyLogFormatError('the format logs no %START_TIME%: its lines cannot be placed in time');
  if (!names.has('RESPONSE_CODE')) throw new EnvoyLogFormatError('the format logs no %RESPONSE_CODE%');
  try {
    return compileDelimitedFormat(format, parts, { isFreeText, show });
  } catch (error) {
    if (error instanceof DelimitedFormatError) throw new EnvoyLogFormatError(error.message);
    throw error;
  }
}

export function splitEnvoyLine(format: CompiledEnvoyLogFormat, line: string): Map<string, string> | string {
  return splitDelimitedLine(format, line, show);
}

/** A text that is an Envoy format string (or holds one): it has %START_TIME% and %RESPONSE_CODE%. */
export function isEnvoyLogFormat(text: string): boolean {
  return /%START_TIME[%(]/.test(text) && text.includes('%RESPONSE_CODE%');
}

/**
 * The format string of a text: the string itself, or the value of a YAML line that holds it in an
 * Envoy configuration (`text_format: "…"`, `inline_string: "…"`, `format: "…"`, double or single
 * quoted, or a `text_format_source: {inline_string: "…"}` mapping on one line).
 */
export function envoyFormatString(text: string): string {
  for (const line of text.split('\n')) {
    if (!/%START_TIME[%(]/.test(line)) continue;
    const key = /(?:^|[\s{,])(?:text_format|inline_string|format)\s*:\s*(["'])/.exec(line);
    if (key === null) continue;
    const quote = key[1]!;
    let value = '';
    for (let i = key.index + key[0].length; i < line.length; i++) {
      const ch = line[i]!;
      if (ch === quote) {
        if (quote === "'" && line[i + 1] === "'") {
          value += "'";
          i++;
          continue;
        }
        return value;
      }
      if (quote === '"' && ch === '\\' && i + 1 < line.length) {
        const next = line[++i]!;
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        continue;
      }
      value += ch;
    }
  }
  return text.trim();
}
