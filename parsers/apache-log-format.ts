import type { FormatDef, FormatTraits } from './format.js';
import { nginxFormat } from './nginx.js';
import { guessKeyVariable } from './nginx-variables.js';
import { LogFormatError } from './nginx-log-format.js';
import { FRACTION_VARIABLES, STRFTIME_COMPOSITES, STRFTIME_CONVERSIONS } from './fields/strftime-parts.js';

/**
 * An Apache httpd `LogFormat` (mod_log_config) as the nginx `log_format` that reads the same
 * lines, so `--log-format` takes an operator's own httpd format (`%D` or `%{ms}T` durations, `%k`
 * keep-alive counts, extra headers) through the one log_format compiler alf has. Each `%` directive
 * becomes the nginx variable of the same meaning; where nginx has none, a variable of alf's own,
 * `apache_*` (nginx-variables.ts reads them): the time `%t` is when the request was RECEIVED, the
 * durations are of other units, `%k` counts from 0. Directives alf has no use for become a
 * variable nothing reads (their text is skipped, as an unknown nginx variable's is).
 *
 * Accepted: the format string itself, or a `LogFormat "…" [nickname]` / `CustomLog path "…"`
 * line, or a whole httpd.conf (its first LogFormat, or the one named by a `CustomLog path name`
 * line). Facts: docs/formats.md, Apache httpd; https://httpd.apache.org/docs/current/mod/mod_log_config.html.
 *
 * Values are read with httpd's escaping (`\"`, `\\`, `\xhh`), not nginx's: a `\"` inside a
 * quoted value is a quote the client sent, not the field's end.
 * `%{FORMAT}t` in strftime is read for the conversions %Y %y %m %b %d %H %M %S %z (and %T %F %D
 * %R), with `%{usec_frac}t`/`%{msec_frac}t`; a time without %z is in --timezone's zone, else UTC.
 * Limits: other conversions (%a, %j, %e…) and `end:` times are refused, by name.
 */

/** Does this text describe an Apache format (not an nginx one)? */
export function isApacheLogFormat(text: string): boolean {
  if (APACHE_DIRECTIVE.test(text)) return true;
  // An nginx format always has a `$variable`; an httpd one has none, and its time or request line.
  const trimmed = text.trim();
  return !trimmed.includes('$') && /%(?:\{[^}]*\})?[tr]|%>s/.test(trimmed);
}

const APACHE_DIRECTIVE = /^[ \t]*(?:LogFormat|CustomLog)[ \t]/im;

/** The nginx log_format text (with `apache_*` variables) that reads what `text`'s Apache format writes. */
export function apacheToNginxFormat(text: string): { format: string; name: string | null } {
  const chosen = chooseDirective(text);
  return { format: translate(chosen.format), name: chosen.name };
}

interface Directive {
  format: string;
  name: string | null;
}

function chooseDirective(text: string): Directive {
  if (!APACHE_DIRECTIVE.test(text)) return { format: text.trim(), name: null };
  const formats: Directive[] = [];
  const inlineLogs: Directive[] = [];
  const usedNames: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const words = configWords(line);
    const keyword = words[0]?.toLowerCase();
    if (keyword === 'logformat' && words[1] !== undefined) formats.push({ format: words[1], name: words[2] ?? null });
    else if (keyword === 'customlog' && words[2] !== undefined) {
      if (words[2].includes('%')) inlineLogs.push({ format: words[2], name: null });
      else usedNames.push(words[2]);
    }
  }
  // The format an access log is written with: a CustomLog's inline one, else the LogFormat a CustomLog names, else the first.
  const used = usedNames.map((name) => formats.find((f) => f.name === name)).find((f) => f !== undefined);
  const chosen = inlineLogs[0] ?? used ?? formats[0];
  if (chosen === undefined) throw new LogFormatError('no LogFormat "…" or CustomLog with a format in it');
  return chosen;
}

/** An httpd.conf line's words: bare, or in double quotes with `\"` and `\\` escapes. */
function configWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ' || line[i] === '\t') {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let word = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length) {
          j++;
          const next = line[j]!;
          word += next === 't' ? '\t' : next === 'n' ? '\n' : next;
        } else {
          word += line[j];
        }
      }
      words.push(word);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
    words.push(line.slice(i, j));
    i = j;
  }
  return words;
}

/** httpd's default `%t`, and the ones alf reads in `%{…}t`. */
const TIME_FORMATS: Readonly<Record<string, string>> = {
  '': '[${apache_time}]',
  sec: '${apache_epoch_s}',
  'begin:sec': '${apache_epoch_s}',
  msec: '${apache_epoch_ms}',
  'begin:msec': '${apache_epoch_ms}',
  usec: '${apache_epoch_us}',
  'begin:usec': '${apache_epoch_us}',
  '%d/%b/%Y:%H:%M:%S %z': '${apache_time}',
  '[%d/%b/%Y:%H:%M:%S %z]': '[${apache_time}]',
};

/**
 * `%{FORMAT}t` in a strftime format of the operator's (netnea's widely copied tutorial format logs
 * `[%{%Y-%m-%d %H:%M:%S}t.%{usec_frac}t]`): each conversion a variable (fields/strftime-parts.ts).
 * `begin:` is the default; `end:` times are refused (alf places the start).
 */
function strftimeFormat(argument: string): string {
  if (argument.startsWith('end:')) throw new LogFormatError(`%{${argument}}t: alf reads the time a request began (httpd's default), not its end`);
  const begun = argument.replace(/^begin:/, '');
  const fraction = FRACTION_VARIABLES[begun];
  if (fraction !== undefined) return `\${${fraction}}`;
  const format = begun.replace(/%([TFDR])/g, (_, letter: string) => STRFTIME_COMPOSITES[letter]!);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      if (ch === '$') throw new LogFormatError('a literal "$" in an httpd format cannot be read');
      out += ch;
      continue;
    }
    const letter = format[++i];
    const variable = letter === undefined ? undefined : STRFTIME_CONVERSIONS[letter];
    if (variable === undefined) {
      throw new LogFormatError(`%{${argument}}t: alf reads the strftime conversions %Y %y %m %b %d %H %M %S %z (and %T %F %D %R), not %${letter ?? ''}`);
    }
    out += `\${${variable}}`;
  }
  return out;
}

const DURATIONS: Readonly<Record<string, string>> = { '': 'apache_duration_s', s: 'apache_duration_s', ms: 'apache_duration_ms', us: 'apache_duration_us' };

/** Header names as nginx variables: `X-Api-Key` → `x_api_key`. */
const headerVariable = (name: string): string => name.toLowerCase().replace(/-/g, '_').replace(/[^a-z0-9_]/g, '');

function directive(letter: string, argument: string | null): string {
  // Braced: httpd text may follow with no space (`%Dus`), which a bare `$name` would swallow.
  const plain = (variable: string): string => `\${${variable}}`;
  switch (letter) {
    case 'h': case 'a': return plain('remote_addr');
    case 'l': return plain('apache_ident');
    case 'u': return plain('remote_user');
    case 't': return TIME_FORMATS[argument ?? ''] ?? strftimeFormat(argument!);
    case 'r': return plain('request');
    case 's': return plain('status');
    case 'b': return plain('body_bytes_sent');
    case 'B': return plain('body_bytes_sent');
    case 'O': return plain('bytes_sent');
    case 'I': return plain('request_length');
    case 'D': return plain('apache_duration_us');
    case 'T': {
      const variable = DURATIONS[argument ?? ''];
      if (variable === undefined) throw new LogFormatError(`%{${argument}}T: the unit must be s, ms or us`);
      return plain(variable);
    }
    case 'k': return plain('apache_keepalive');
    case 'X': return plain('apache_connection');
    case 'm': return plain('request_method');
    case 'U': return plain('uri');
    case 'q': return plain('apache_query');
    case 'H': return plain('server_protocol');
    case 'v': case 'V': return plain('server_name');
    case 'p': return plain('server_port');
    case 'P': return plain('pid');
    case 'A': return plain('server_addr');
    case 'i': {
      if (argument === null) throw new LogFormatError('%i needs a header name: %{User-Agent}i');
      return plain(`http_${headerVariable(argument)}`);
    }
    case 'o': {
      if (argument === null) throw new LogFormatError('%o needs a header name: %{Content-Type}o');
      return plain(`sent_http_${headerVariable(argument)}`);
    }
    case 'e': return argument?.toUpperCase() === 'UNIQUE_ID' ? plain('request_id') : plain(`apache_env_${headerVariable(argument ?? '')}`);
    // Notes, cookies, the file, the error log's id, the handler, mod_ssl's variables (`%{SSL_PROTOCOL}x`), and the like: nothing alf reads.
    case 'n': case 'C': case 'f': case 'L': case 'R': case 'c': case 'x':
      return plain(`apache_unread_${letter.toLowerCase()}${argument === null ? '' : `_${headerVariable(argument)}`}`);
    default:
      throw new LogFormatError(`unknown httpd directive %${letter}`);
  }
}

/** The format string, directive by directive; literal text stays as it is. */
function translate(format: string): string {
  let out = '';
  let i = 0;
  let directives = 0;
  while (i < format.length) {
    const ch = format[i]!;
    if (ch !== '%') {
      // A `$` in the literal text would read as an nginx variable: httpd writes it as it is.
      if (ch === '$') throw new LogFormatError('a literal "$" in an httpd format cannot be read');
      out += ch;
      i++;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    let j = i + 1;
    // Conditions (`%400,501{…}i`, `%!200{…}i`) and the `<`/`>` of original/final: no difference to the line's shape.
    while (j < format.length && /[0-9,!<>]/.test(format[j]!)) j++;
    let argument: string | null = null;
    if (format[j] === '{') {
      const close = format.indexOf('}', j + 1);
      if (close < 0) throw new LogFormatError(`unclosed "%{" at offset ${i}`);
      argument = format.slice(j + 1, close);
      j = close + 1;
    }
    const letter = format[j];
    if (letter === undefined) throw new LogFormatError('the format ends inside a % directive');
    // `%X%k` (the connection's state, one character, then its keep-alive count) touch with no
    // separator, which a log_format cannot split: read as one field (a real httpd.conf has them so).
    if (letter === 'X' && format.startsWith('%k', j + 1)) {
      out += '${apache_connection_keepalive}';
      directives++;
      i = j + 3;
      continue;
    }
    out += directive(letter, argument);
    directives++;
    i = j + 1;
  }
  if (directives === 0) throw new LogFormatError('the httpd format has no % directives');
  return out;
}

/** The id an httpd format given to `--log-format` is compiled under (an nginx log_format's is `nginx`). */
export const APACHE_LOG_FORMAT_ID = 'apache-logformat';

/** What such a format's records say, as the built-in Apache formats' traits (apache.ts). */
export const APACHE_LOG_FORMAT_TRAITS: FormatTraits = {
  splittable: true, unit: 'line', clientGaveUp: '`%X` = `X`', backendNeverAnswered: 'not logged', flags: null,
  upstreamTimeout: { setting: 'Apache `ProxyTimeout` (it defaults to `Timeout`)', defaultSeconds: 60, status: 502 },
};

/** A FormatDef for an httpd format given to `--log-format`: read by the nginx log_format compiler, named as what it is. */
export function apacheLogFormat(text: string, keyField?: string): FormatDef {
  const { format, name } = apacheToNginxFormat(text);
  // `%u`, the authenticated user, is the identity a budget is kept against when nothing else names
  // one, as in the built-in Apache formats (apache.ts).
  const variables = [...format.matchAll(/\$\{([a-z0-9_]+)\}/g)].map((match) => match[1]!);
  const key = keyField ?? (guessKeyVariable(variables) === null && variables.includes('remote_user') ? 'remote_user' : undefined);
  const compiled = nginxFormat(format, APACHE_LOG_FORMAT_ID, key, 'httpd');
  return {
    ...compiled,
    title: name ? `Apache httpd LogFormat ${name}` : 'Apache httpd LogFormat',
    url: 'https://httpd.apache.org/docs/current/mod/mod_log_config.html',
    traits: APACHE_LOG_FORMAT_TRAITS,
  };
}
