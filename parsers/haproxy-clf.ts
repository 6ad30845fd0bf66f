import { emptyProxyRecord } from '../src/model/records.js';
import { parseClfTime } from './fields/clf-time.js';
import { parseUnsignedInt } from './fields/numbers.js';
import type { FormatDef, ParserOptions, RecordParser } from './format.js';
import { fillHaproxyOutcome, findAcceptDate, haproxy, haproxyTimer, isHaproxyOtherLine, type HaproxyTimers } from './haproxy.js';
import { optionalUnsigned, textLineParser } from './proxy-line-kit.js';

/**
 * HAProxy `option httplog clf`: the same facts as httplog in the Common Log Format's order, so a
 * CLF tool reads its start (src/log.c, `clf_http_log_format`; docs/formats.md, HAProxy):
 * `%{+Q}o %{-Q}ci - - [%trg] %r %ST %B "" "" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl`
 * - `%{+Q}o` quotes every later text field (frontend, backend, server, cookies, captures), never
 *   the client address or the numbers;
 * - `[%trg]` is when the request was received, in GMT with its zone (`+0000`), to the second;
 * - before 1.9 the timers were `%Tq %Tw %Tc %Tr %Tt`, in the same places and read alike.
 * A TCP session in CLF (`clf_tcp_log_format`) writes `"TCP " 000`: no HTTP request, ignored.
 * Header captures (`%hrl`, each quoted) are not read: which is which needs the configuration.
 * Read as a nginx `main` line before, the timers and the server were lost, and HAProxy's own 503s
 * (`<NOSRV>`, a backend with no server up) read as errors of an unnamed upstream.
 */

/** The fields after the request, up to the queues: status, bytes, `""`, `""`, port, ms, frontend, backend, server, 5 timers, state, 5 counts, 2 queues. */
const FIXED_FIELDS = 22;

function unquote(text: string): string | null {
  return text.length >= 2 && text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34 ? text.slice(1, -1) : null;
}

function createHaproxyClfParser(options: ParserOptions): RecordParser {
  const file = options.file;
  return textLineParser(file, (text, lineNumber, sink, fail) => {
    const open = findAcceptDate(text);
    if (open < 5 || !text.startsWith(' - - ', open - 5)) return fail('PARSE_NO_MATCH', 'trg', 'no "client - - [date]" found');
    const clientStart = text.lastIndexOf(' ', open - 6) + 1;
    const client = text.slice(clientStart, open - 5);
    const close = text.indexOf(']', open);
    if (close < 0 || text.charCodeAt(close + 1) !== 32 || text.charCodeAt(close + 2) !== 34) return fail('PARSE_NO_MATCH', 'r', 'expected the quoted request after the [date]');
    // HAProxy encodes a `"` inside the request (`#22`): the first quote after it opens closes it.
    const requestClose = text.indexOf('"', close + 3);
    if (requestClose < 0) return fail('PARSE_NO_MATCH', 'r', 'unterminated request');
    const request = text.slice(close + 3, requestClose);
    const fields = text.slice(requestClose + 2).split(' ', FIXED_FIELDS);
    if (fields.length < FIXED_FIELDS) return fail('PARSE_NO_MATCH', 'line', `expected ${FIXED_FIELDS} fields after the request, found ${fields.length}`);
    const [statusText, bytesText, , , , , frontendText, backendText, serverText, ...rest] = fields as string[];
    const [frontend, backend, server] = [unquote(frontendText!), unquote(backendText!), unquote(serverText!)];
    if (frontend === null || backend === null || server === null) return fail('PARSE_NO_MATCH', 'ft', 'expected the quoted frontend, backend and server');
    if (request === 'TCP ') {
      sink.ignore(lineNumber);
      return;
    }
    const startMs = parseClfTime(text.slice(open + 1, close));
    if (Number.isNaN(startMs)) return fail('PARSE_BAD_TIMESTAMP', 'trg', `bad request date "${text.slice(open + 1, close)}"`);
    const timerTexts = rest.slice(0, 5);
    const timers = timerTexts.map(haproxyTimer);
    const badTimer = timers.findIndex((value) => Number.isNaN(value));
    if (badTimer >= 0) return fail('PARSE_BAD_FIELD', ['TR', 'Tw', 'Tc', 'Tr', 'Ta'][badTimer]!, `bad timer "${timerTexts[badTimer]!}"`);
    const status = statusText === '-1' ? null : parseUnsignedInt(statusText!);
    if (Number.isNaN(status) || (status !== null && status > 999)) return fail('PARSE_BAD_FIELD', 'ST', `bad status "${statusText!}"`);
    const bytes = optionalUnsigned(bytesText!);
    if (Number.isNaN(bytes)) return fail('PARSE_BAD_FIELD', 'B', `bad byte count "${bytesText!}"`);
    const termination = rest[5]!;
    if (termination.length < 2) return fail('PARSE_BAD_FIELD', 'tsc', `bad termination state "${termination}"`);
    const retriesText = rest[10]!;
    const retries = parseUnsignedInt(retriesText.charCodeAt(0) === 43 /* + */ ? retriesText.slice(1) : retriesText);
    if (Number.isNaN(retries)) return fail('PARSE_BAD_FIELD', 'rc', `bad retry count "${retriesText}"`);

    const record = emptyProxyRecord('haproxy-clf', file, lineNumber, text);
    fillHaproxyOutcome(record, { startMs, timeResolutionMs: 1000, timers: timers as HaproxyTimers, status, bytes, client, termination, upstream: `${backend}/${server}`, server, retries, request });
    sink.record(record);
  }, undefined, isHaproxyOtherLine);
}

export const haproxyClf: FormatDef = {
  id: 'haproxy-clf',
  siblings: ['haproxy'],
  title: 'HAProxy option httplog clf (with or without syslog header)',
  kind: 'proxy',
  url: 'https://docs.haproxy.org/2.8/configuration.html#4-option%20httplog',
  // What it says of who answered and who gave up is httplog's: the same fields.
  traits: { ...haproxy.traits },
  example:
    'Jan 15 10:32:01 lb1 haproxy[2211]: 198.51.100.7 - - [15/Jan/2025:10:31:31 +0000] "POST /v1/reports HTTP/1.1" 504 198 "" "" 53122 901 "fe_api" "be_api" "app3" 0 0 1 -1 30004 sH-- 312 298 41 12 0 0 0 "" ""',
  exampleFields: { start: '2025-01-15T10:31:31.000Z', status: 504, method: 'POST', path: '/v1/reports', client: '198.51.100.7', upstreamStatus: null },
  createParser: (options) => createHaproxyClfParser(options),
};
