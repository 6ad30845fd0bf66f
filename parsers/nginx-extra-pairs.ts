import type { ProxyRecord } from '../src/model/records.js';
import { variableFor, type VariableHandler } from './nginx-variables.js';

/**
 * `key=value` pairs after the last field of a known nginx format. Operators extend `combined`
 * with timings far more often than they write a format of their own; the most copied extension
 * is the one in nginx's blog post "Using NGINX Logging for Application Performance Monitoring",
 * `"$http_user_agent"' 'rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time"
 * urt="$upstream_response_time"` (its two strings joined with no space between, so real lines
 * read `"curl/7.64.1"rt=0.013 uct=…`). A line of such a log fits `combined` with text left over;
 * that text is read here, by the same key spellings nginx JSON lines use (nginx-variables.ts),
 * so the request and upstream times count without a `--log-format`.
 *
 * Only timings, the upstream's answer, the host and request ids are taken, and only where the
 * format does not name the variable itself: the text is the operator's, not the format's, so a
 * key it spells differently (`ua=` for an upstream address in one config, a user agent in
 * another) is never let overwrite a field the format read. A value a handler refuses is left
 * out, not an error: the line matched its format. One pass, no regular expression: every step
 * moves forward.
 */
const READABLE: ReadonlySet<string> = new Set([
  'request_time', 'upstream_response_time', 'upstream_connect_time', 'upstream_header_time',
  'upstream_status', 'upstream_addr', 'host', 'http_host', 'request_id', 'http_x_request_id',
  'connection_requests',
]);

const SPACE = 32;
const QUOTE = 34;
const EQUALS = 61;

function isKeyChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 45 || code === 46;
}

/** nginx writes its times with three decimals (`ngx_http_variable_request_time`: `%T.%03M`). */
function isNginxSeconds(token: string): boolean {
  const dot = token.length - 4;
  if (dot < 1 || token.charCodeAt(dot) !== 46) return false;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (i !== dot && (code < 48 || code > 57)) return false;
  }
  return true;
}

/**
 * Bare times after `combined`: `$request_time`, then optionally `$upstream_response_time` (one
 * value or `-`) and `$pipe` (`.` or `p`), the `timed_combined` format of nginx's wiki (still the
 * example of many guides). Read only when every word fits that shape exactly, so a number of
 * another meaning (a byte count has no three decimals) is never taken for a time.
 */
function readBareTimes(text: string, from: number, record: ProxyRecord, handlers: Readonly<Record<string, VariableHandler>>, named: ReadonlySet<string>): string[] {
  const words = text.slice(from).trim().split(' ');
  if (words.length > 3 || !isNginxSeconds(words[0]!)) return [];
  const upstream = words[1];
  if (upstream !== undefined && upstream !== '-' && !isNginxSeconds(upstream)) return [];
  const pipe = words[2];
  if (pipe !== undefined && pipe !== '.' && pipe !== 'p') return [];
  const read: string[] = [];
  const take = (variable: string, value: string): void => {
    if (named.has(variable)) return;
    if (handlers[variable]!(record, value)) read.push(variable);
  };
  take('request_time', words[0]!);
  if (upstream !== undefined) take('upstream_response_time', upstream);
  return read;
}

/**
 * Reads the pairs of `text` from `from` into `record` (or, without any, the bare times of
 * readBareTimes); returns the variables read (empty when none was). `named`: the variables the
 * format itself holds.
 */
export function readExtraPairs(text: string, from: number, record: ProxyRecord, handlers: Readonly<Record<string, VariableHandler>>, named: ReadonlySet<string>): string[] {
  const read: string[] = [];
  const n = text.length;
  let at = from;
  while (at < n) {
    while (at < n && text.charCodeAt(at) === SPACE) at++;
    if (at >= n) break;
    let keyEnd = at;
    while (keyEnd < n && isKeyChar(text.charCodeAt(keyEnd))) keyEnd++;
    if (keyEnd === at || keyEnd >= n || text.charCodeAt(keyEnd) !== EQUALS) {
      // Not a pair: pass over a quoted word whole, else up to the next space.
      if (text.charCodeAt(keyEnd) === QUOTE) {
        const close = text.indexOf('"', keyEnd + 1);
        at = close < 0 ? n : close + 1;
      } else {
        // keyEnd is past `at` or at a character that is no space: this moves on.
        const space = text.indexOf(' ', keyEnd);
        at = space < 0 ? n : space;
      }
      continue;
    }
    const key = text.slice(at, keyEnd);
    let value: string;
    const valueStart = keyEnd + 1;
    if (text.charCodeAt(valueStart) === QUOTE) {
      const close = text.indexOf('"', valueStart + 1);
      value = text.slice(valueStart + 1, close < 0 ? n : close);
      at = close < 0 ? n : close + 1;
    } else {
      const space = text.indexOf(' ', valueStart);
      value = text.slice(valueStart, space < 0 ? n : space);
      at = space < 0 ? n : space;
    }
    const variable = variableFor(key);
    if (!READABLE.has(variable) || named.has(variable) || read.includes(variable)) continue;
    const handler = handlers[variable];
    if (handler !== undefined && handler(record, value)) read.push(variable);
  }
  return read.length > 0 ? read : readBareTimes(text, from, record, handlers, named);
}
