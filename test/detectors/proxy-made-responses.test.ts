import { describe, expect, it } from 'vitest';
import { clientTimeoutKnee } from '../../src/detectors/client-timeout-knee.js';
import { classifyProxyMade, proxyMadeResponses } from '../../src/detectors/proxy-made-responses.js';
import { emptyProxyRecord, type JoinedRequest } from '../../src/model/records.js';
import { apiGatewayWall, cleanTraffic, foundingCase } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

function request(fields: Partial<ReturnType<typeof emptyProxyRecord>>, apmMs: number | null = null): JoinedRequest {
  const proxy = Object.assign(emptyProxyRecord('nginx', 'edge.log', 1, 'line'), { upstreamLogged: true, requestTimeMs: 100, ...fields });
  const apm = apmMs === null ? null : { kind: 'apm' as const, format: 'x', file: 'apm', line: 1, startMs: 0, durationMs: apmMs, queueMs: null, name: null,
    method: null, path: null, status: null, userAgent: null, host: null, traceId: null, requestId: null, apiKey: null, raw: '' };
  return { proxy, apm, method: apm ? 'heuristic' : 'none', confidence: apm ? 1 : 0, offsetMs: null };
}

const run = (requests: JoinedRequest[]) => runDetectors(requests, { detectors: [clientTimeoutKnee, proxyMadeResponses] }).filter((f) => f.kind === 'proxy-made-responses');

describe('responses the proxy made up', () => {
  it('in a log without upstream fields (combined), counts 499s as client aborts, judged by the client they fall on, not by their share of all requests', () => {
    // 2,000 requests of 20 user agents, no request time, no upstream fields.
    const combined = (abort: (i: number) => boolean): JoinedRequest[] => Array.from({ length: 2_000 }, (_, i) => request({
      upstreamLogged: false, requestTimeMs: null, path: `/p/${i % 7}`, userAgent: `agent-${i % 20}`, clientClosed: abort(i), status: abort(i) ? 499 : 200,
    }));
    // A healthy background: 3% of everyone's requests abandoned (users navigating away).
    const [background] = run(combined((i) => i % 33 === 0));
    expect(background!.figures).toMatchObject({ class: 'client-abort', count: 61 });
    expect(background!.severity).toBe('low');
    // One client's calls cut off again and again: 90 of its 100.
    const [incident] = run(combined((i) => i % 20 === 3 && i % 200 < 180));
    expect(incident!.figures.count).toBe(90);
    expect(incident!.severity).toBe('high');
    expect(incident!.explanation).toContain('Most came from agent-3: 90 of its 100 requests');
  });

  it('classifies each kind of upstream-less response', () => {
    expect(classifyProxyMade(request({ status: 499, clientClosed: true, upstreamAddr: '10.0.0.1:80' }))).toBe('client-abort');
    expect(classifyProxyMade(request({ status: 404, requestTimeMs: 4668, upstreamAddr: '127.0.0.1:8100' }, 29_800))).toBe('client-abort');
    expect(classifyProxyMade(request({ status: 504, requestTimeMs: 29_000, upstreamAddr: '10.0.0.1:80' }, 35_000))).toBe('proxy-error');
    expect(classifyProxyMade(request({ status: 502, upstreamAddr: '10.0.0.1:80' }))).toBe('proxy-error');
    expect(classifyProxyMade(request({ status: 429 }))).toBe('gateway-rejection');
    expect(classifyProxyMade(request({ status: 301 }))).toBe('local');
    expect(classifyProxyMade(request({ status: 404, upstreamAddr: '127.0.0.1:8100' }))).toBe('unexplained');
  });

  it('reads a 503 nginx answered without trying a backend as its limiter turning the client away, and the same from an ALB as a proxy error', () => {
    expect(classifyProxyMade(request({ status: 503 }))).toBe('gateway-rejection');
    expect(classifyProxyMade(request({ status: 503, format: 'nginx-combined' }))).toBe('gateway-rejection');
    expect(classifyProxyMade(request({ status: 503, upstreamAddr: '10.0.0.1:80' }))).toBe('proxy-error');
    expect(classifyProxyMade(request({ status: 503, format: 'aws-alb' }))).toBe('proxy-error');
    expect(classifyProxyMade(request({ status: 503, format: 'haproxy' }))).toBe('proxy-error');
  });

  it('titles count in words that agree with the number: one response, two responses', () => {
    const ok = Array.from({ length: 20 }, (_, i) => request({ status: 200, startMs: i * 1000, upstreamAddr: '10.0.0.1:80', upstreamStatus: 200 }));
    const one = run([...ok, request({ status: 429, startMs: 30_000 })]).find((f) => f.figures.class === 'gateway-rejection')!;
    expect(one.title).toMatch(/^1 gateway-rejection response made by the proxy/);
    const two = run([...ok, request({ status: 429, startMs: 30_000 }), request({ status: 429, startMs: 31_000 })]).find((f) => f.figures.class === 'gateway-rejection')!;
    expect(two.title).toMatch(/^2 gateway-rejection responses made by the proxy/);
  });

  it('a made-up 404 joined to a transaction that was still running is a client abort, even by a thin margin', () => {
    // Seen with a real nginx post_action: client 4.905 s, backend 5.100 s (less than the knee's margin).
    expect(classifyProxyMade(request({ status: 404, requestTimeMs: 4_905, upstreamAddr: '127.0.0.1:8100' }, 5_100))).toBe('client-abort');
    // The backend had finished before the proxy answered without it: that is not the client leaving.
    expect(classifyProxyMade(request({ status: 404, requestTimeMs: 4_905, upstreamAddr: '127.0.0.1:8100' }, 3_000))).toBe('unexplained');
  });

  it('founding case: the 404s at the knee are client aborts the log disguised, high', () => {
    const scenario = foundingCase({ seed: 21 });
    const aborts = run(scenario.requests).find((f) => f.figures.class === 'client-abort')!;
    expect(aborts.severity).toBe('high');
    expect(aborts.figures.topStatus).toBe(404);
    expect(Number(aborts.figures.loggedWithOtherStatus)).toBeGreaterThan(100);
    const byClient = aborts.table!.rows.find((row) => row[0] === 'userAgent')!;
    expect(byClient[1]).toBe(scenario.truth.kneeUserAgent);
  });

  it('without APM the same 404s are unexplained, all at the knee, and as severe as their share of all requests', () => {
    const unexplained = run(foundingCase({ seed: 21, withApm: false }).requests).find((f) => f.figures.class === 'unexplained')!;
    expect(unexplained.figures.atClientTimeoutKnee).toBe(unexplained.figures.count);
    expect(unexplained.explanation).toContain('client-timeout knee');
    expect(Number(unexplained.figures.shareOfRequests)).toBeGreaterThan(0.05);
    expect(unexplained.severity).toBe('high');
  });

  it('a quiet run where ten mobile clients drop at random after 5-350 ms raises nothing above low', () => {
    // 588 requests, like a real quiet nginx run: fast answers, and mobile clients that hang up early now and then.
    const requests: JoinedRequest[] = [];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 588; i++) {
      const client = i % 10;
      const dropped = random() < 0.12;
      const clientMs = dropped ? 5 + random() * 345 : 3 + random() * 30;
      requests.push(request({
        line: i + 1, startMs: i * 500, endMs: i * 500 + clientMs, requestTimeMs: clientMs, status: dropped ? 499 : 200, clientClosed: dropped,
        upstreamStatus: dropped ? null : 200, upstreamAddr: '127.0.0.1:8080', upstreamAttempts: 1, method: 'GET', path: `/v1/feed/${i}`,
        clientIp: `10.8.0.${client}`, userAgent: `ShopApp/3.2 (iPhone; iOS 17.${client})`,
      }));
    }
    const findings = runDetectors(requests);
    const aborts = findings.find((f) => f.kind === 'proxy-made-responses' && f.figures.class === 'client-abort')!;
    expect(Number(aborts.figures.shareOfRequests)).toBeGreaterThan(0.05);
    for (const finding of findings) expect(['info', 'low'], finding.title).toContain(finding.severity);
  });

  it('gateway 504s count as proxy errors, by status', () => {
    const errors = run(apiGatewayWall({ seed: 5 }).requests).find((f) => f.figures.class === 'proxy-error')!;
    expect(errors.figures.topStatus).toBe(504);
    expect(Number(errors.figures.count)).toBeGreaterThan(10);
  });

  it('clean traffic: a few honest 499s are at most low', () => {
    for (const seed of [1, 2, 3]) {
      for (const finding of run(cleanTraffic({ seed }).requests)) expect(['info', 'low']).toContain(finding.severity);
    }
  });
});
