import { emptyProxyRecord } from '../src/model/records.js';
import { parseClfTime } from './fields/clf-time.js';
import { parseUnsignedInt } from './fields/numbers.js';
import { parseRequestLine } from './fields/request-line.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { hostOfHostPort, optionalUnsigned, textLineParser } from './proxy-line-kit.js';

/**
 * HAProxy `option httplog` (shared/formats.md §5.5), with or without a syslog header:
 * `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq [{captures}] %{+Q}r`
 * - `[%tr]` is when the first request byte arrived (START), local time with ms and NO zone.
 *   It is read as UTC: the log does not say which zone the host was in.
 * - Timers are ms, `-1` when the phase was never reached; `Tr` is the backend's time to headers.
 * - HAProxy logs no backend status: the backend answered when a server was chosen (not `<NOSRV>`)
 *   and `Tr` is not -1; the client then saw its status.
 * - Termination state goes to `flags`; a first char `C` (client abort) or `c` (client timeout)
 *   means the client gave up (CH is nginx's 499).
 */

const NO_SERVER = '<NOSRV>';

/** Where the httplog body starts: the `[` that opens `dd/Mon/yyyy:` after the client address. */
function findAcceptDate(line: string): number {
  let at = line.indexOf(' [');
  while (at >= 0) {
    const code = line.charCodeAt(at + 2);
    if (code >= 48 && code <= 57 && line.charCodeAt(at + 4) === 47 /* / */) return at + 1;
    at = line.indexOf(' [', at + 2);
  }
  return -1;
}

/** A timer: an integer, `-1`, or `+n` (logasap). null for -1, NaN when malformed. */
function timer(text: string): number | null {
  if (text === '-1') return null;
  return parseUnsignedInt(text.charCodeAt(0) === 43 /* + */ ? text.slice(1) : text);
}

const TIMER_NAMES = ['TR', 'Tw', 'Tc', 'Tr', 'Ta'] as const;

function createHaproxyParser(options: ParserOptions): RecordParser {
  const file = options.file;
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    const open = findAcceptDate(text);
    if (open < 0) return fail('PARSE_NO_MATCH', 'tr', 'no [accept date] found');
    const close = text.indexOf(']', open);
    if (close < 0) return fail('PARSE_NO_MATCH', 'tr', 'unterminated [accept date]');
    const clientStart = text.lastIndexOf(' ', open - 2) + 1;
    const client = text.slice(clientStart, open - 1);
    // The request is the last quoted field; HAProxy encodes `"` inside it, so lastIndexOf is safe.
    if (!text.endsWith('"')) return fail('PARSE_NO_MATCH', 'r', 'expected the quoted request last');
    const requestOpen = text.lastIndexOf('"', text.length - 2);
    if (requestOpen <= close) return fail('PARSE_NO_MATCH', 'r', 'expected the quoted request last');
    const request = text.slice(requestOpen + 1, text.length - 1);
    // Fixed fields between the date and the request; header captures `{…}` (may hold spaces) follow them.
    const middle = text.slice(close + 2, requestOpen - 1);
    const fields = middle.split(' ', 10);
    if (fields.length < 10) return fail('PARSE_NO_MATCH', 'line', `expected 10 fields between [date] and the request, found ${fields.length}`);
    const [, backendServer, timers, statusText, bytesText, , , termination, connections] = fields as [
      string, string, string, string, string, string, string, string, string, string,
    ];
    const captures = middle.slice(fields.join(' ').length).trim();
    if (captures !== '' && !captures.startsWith('{')) return fail('PARSE_NO_MATCH', 'hr', 'unexpected text before the request');

    const startMs = parseClfTime(`${text.slice(open + 1, close)} +0000`);
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'tr', `bad accept date "${text.slice(open + 1, close)}"`);
    const slash = backendServer.indexOf('/');
    if (slash <= 0) return fail('PARSE_NO_MATCH', 'b/s', `expected backend/server, got "${backendServer}"`);
    const timerParts = timers.split('/');
    if (timerParts.length !== 5) return fail('PARSE_NO_MATCH', 'TR/Tw/Tc/Tr/Ta', `expected five timers, got "${timers}"`);
    const timerValues = timerParts.map(timer);
    const badTimer = timerValues.findIndex((value) => Number.isNaN(value));
    if (badTimer >= 0) return fail('PARSE_BAD_FIELD', TIMER_NAMES[badTimer]!, `bad timer "${timerParts[badTimer]!}"`);
    const [, , connectMs, responseMs, totalMs] = timerValues as [number | null, number | null, number | null, number | null, number | null];
    // A status of -1 when nothing was produced is UNCONFIRMED (§5.5); tolerate it as "none".
    const status = statusText === '-1' ? null : parseUnsignedInt(statusText);
    if (Number.isNaN(status) || (status !== null && status > 999)) return fail('PARSE_BAD_FIELD', 'ST', `bad status "${statusText}"`);
    const bytes = optionalUnsigned(bytesText);
    if (Number.isNaN(bytes)) return fail('PARSE_BAD_FIELD', 'B', `bad byte count "${bytesText}"`);
    if (termination.length < 2) return fail('PARSE_BAD_FIELD', 'tsc', `bad termination state "${termination}"`);
    const connectionParts = connections.split('/');
    const retriesText = connectionParts[4] ?? '';
    const retries = parseUnsignedInt(retriesText.charCodeAt(0) === 43 ? retriesText.slice(1) : retriesText);
    if (connectionParts.length !== 5 || Number.isNaN(retries)) return fail('PARSE_BAD_FIELD', 'ac/fc/bc/sc/rc', `bad connection counts "${connections}"`);

    const record = emptyProxyRecord('haproxy', file, lineNumber, text);
    record.startMs = startMs;
    record.timeResolutionMs = 1;
    record.requestTimeMs = totalMs;
    record.endMs = startMs + (totalMs ?? 0);
    record.status = status;
    record.bytesSent = bytes;
    record.clientIp = hostOfHostPort(client);
    record.flags = termination === '----' ? null : termination;
    const cause = termination[0];
    record.clientClosed = cause === 'C' || cause === 'c';

    const server = backendServer.slice(slash + 1);
    const dispatched = server !== NO_SERVER;
    record.upstreamLogged = true;
    record.upstreamAddr = dispatched ? backendServer : null;
    record.upstreamAttempts = dispatched ? 1 + retries : 0;
    record.upstreamConnectTimeMs = dispatched ? connectMs : null;
    record.upstreamHeaderTimeMs = dispatched ? responseMs : null;
    record.upstreamTimeMs = dispatched ? responseMs : null;
    record.upstreamStatus = dispatched && responseMs !== null ? status : null;

    const parsed = request.charCodeAt(0) === 60 /* < */ ? null : parseRequestLine(request);
    if (parsed !== null) {
      record.method = parsed.method;
      record.path = parsed.path;
      record.query = parsed.query;
    }
    sink.record(record);
  });
}

export const haproxy: FormatDef = {
  id: 'haproxy',
  title: 'HAProxy option httplog (with or without syslog header)',
  kind: 'proxy',
  url: 'https://docs.haproxy.org/2.8/configuration.html#8.2.3',
  example:
    'Jan 15 10:32:01 lb1 haproxy[2211]: 198.51.100.7:53122 [15/Jan/2025:10:31:31.901] fe_api~ be_api/app3 0/0/1/-1/30004 504 198 - - sH-- 312/298/41/12/0 0/0 "POST /v1/reports HTTP/1.1"',
  createParser: createHaproxyParser,
};
