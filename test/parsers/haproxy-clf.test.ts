import { describe, expect, it } from 'vitest';
import { haproxyClf } from '../../parsers/haproxy-clf.js';
import { onlyProxy, parseLines } from './parse-lines.js';

/** HAProxy's `option httplog clf` (src/log.c clf_http_log_format); the lines are a real HAProxy 2.6's (test/fixtures/real-software/haproxy-clf). */
describe('haproxy-clf', () => {
  const timedOut = '127.0.0.1 - - [07/Dec/2026:18:02:22 +0000] "GET /v1/export/3 HTTP/1.1" 504 198 "" "" 37192 290 "fe_api" "be_app" "app1" 0 0 0 -1 2003 sH-- 6 6 5 5 0 0 0 "" "" "export-job/2.1" ';
  const noServer = '127.0.0.1 - - [07/Dec/2026:18:02:22 +0000] "GET /v1/legacy/4 HTTP/1.1" 503 217 "" "" 37222 421 "fe_api" "be_down" "<NOSRV>" 0 -1 -1 -1 0 SC-- 11 11 0 0 0 0 0 "" "" "legacy/1.0" ';
  const start = Date.UTC(2026, 11, 7, 18, 2, 22);

  it('reads the request date (GMT, to the second), the timers, the server and the termination state', () => {
    expect(onlyProxy(haproxyClf, timedOut)).toMatchObject({
      startMs: start, endMs: start + 2003, timeResolutionMs: 1000, requestTimeMs: 2003, status: 504, bytesSent: 198,
      method: 'GET', path: '/v1/export/3', clientIp: '127.0.0.1', flags: 'sH--', clientClosed: false,
      // No response headers came: the server had the request for Ta less the request and connect times.
      upstreamAddr: 'be_app/app1', upstreamStatus: null, upstreamTimeMs: 2003, upstreamConnectTimeMs: 0, upstreamAttempts: 1, upstreamLogged: true,
    });
  });

  it('reads <NOSRV> as HAProxy answering itself: no upstream tried', () => {
    expect(onlyProxy(haproxyClf, noServer)).toMatchObject({ status: 503, upstreamAddr: null, upstreamAttempts: 0, upstreamStatus: null, flags: 'SC--' });
  });

  it('ignores a TCP session in CLF and HAProxy\'s notices; reports a bad timer by name', () => {
    const tcp = '10.0.0.9 - - [07/Dec/2026:18:02:22 +0000] "TCP " 000 5120 "" "" 40112 100 "fe_db" "be_db" "db1" 0 0 1 5000 -- 1 1 1 1 0 0 0 "" "" ';
    const notice = 'Server be_down/old1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.';
    const read = parseLines(haproxyClf, [tcp, notice, timedOut.replace(' 0 0 0 -1 2003 ', ' 0 0 x -1 2003 ')]);
    expect([read.records.length, read.ignored]).toEqual([0, 2]);
    expect(read.issues.map((issue) => [issue.field, issue.message])).toEqual([['Tc', 'bad timer "x"']]);
  });
});
