import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, upstreamTrouble } from '../../src/detectors/upstream-trouble.js';
import { emptyProxyRecord, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { cleanTraffic, upstreamTrouble as scenario } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: Parameters<typeof runDetectors>[0]) => runDetectors(requests, { detectors: [upstreamTrouble] });

function record(format: string, fields: Partial<ProxyRecord>): ProxyRecord {
  return Object.assign(emptyProxyRecord(format, 'x.log', 1, ''), fields);
}

describe('upstream trouble', () => {
  it('an outage burst on one upstream: high, pattern burst, the right address and time', () => {
    const s = scenario('burst', { seed: 51 });
    const findings = run(s.requests);
    const trouble = findings.find((f) => f.figures.upstream === s.truth.troubledUpstream)!;
    expect(trouble.severity).toBe('high');
    expect(trouble.figures.pattern).toBe('burst');
    expect(Number(trouble.figures.burstMinutes)).toBeGreaterThanOrEqual(3);
    expect(Number(trouble.figures.connectSpikePeriods)).toBeGreaterThan(0);
    expect(trouble.evidence.length).toBeGreaterThan(0);
    // The healthy upstreams are not blamed.
    expect(findings.filter((f) => f.figures.upstream !== s.truth.troubledUpstream)).toEqual([]);
  });

  it('a handful of scattered errors is transient: low', () => {
    const s = scenario('transient', { seed: 52 });
    const findings = run(s.requests);
    expect(findings.map((f) => f.figures.upstream)).toEqual([s.truth.troubledUpstream]);
    for (const finding of findings) {
      expect(finding.severity).toBe('low');
      expect(finding.figures.pattern).toBe('transient');
    }
  });

  it('stays silent on clean traffic', () => {
    for (const seed of [1, 2, 3]) expect(run(cleanTraffic({ seed }).requests)).toEqual([]);
  });

  it('reads Envoy flags and HAProxy termination states', () => {
    expect(classifyUpstreamError(record('envoy', { status: 503, flags: 'UF,URX' }))).toMatchObject({ error: true, connect: true });
    expect(classifyUpstreamError(record('envoy', { status: 503, flags: 'UC' }))).toMatchObject({ reset: true, connect: false });
    // No healthy host, no cluster, retries used up: errors, but no connection was refused.
    for (const flags of ['UH', 'NC', 'URX']) expect(classifyUpstreamError(record('envoy', { status: 503, flags })), flags).toMatchObject({ error: true, connect: false });
    expect(classifyUpstreamError(record('envoy', { status: 504, flags: 'UT' }))).toMatchObject({ timeout: true });
    expect(classifyUpstreamError(record('haproxy', { status: 503, flags: 'SC--' }))).toMatchObject({ connect: true, reset: false });
    expect(classifyUpstreamError(record('haproxy', { status: 502, flags: 'SH--' }))).toMatchObject({ reset: true });
    expect(classifyUpstreamError(record('haproxy', { status: 504, flags: 'sH--' }))).toMatchObject({ timeout: true, reset: false });
    expect(classifyUpstreamError(record('nginx', { status: 200, upstreamStatus: 200 }))).toMatchObject({ error: false });
    // nginx: a 502 after it had connected is the backend resetting the connection; without a connect time it never connected.
    expect(classifyUpstreamError(record('nginx', { status: 502, upstreamStatus: 502, upstreamConnectTimeMs: 0, upstreamAddr: '127.0.0.1:1' }))).toMatchObject({ error: true, reset: true });
    expect(classifyUpstreamError(record('nginx', { status: 502, upstreamStatus: 502, upstreamConnectTimeMs: null, upstreamAddr: '127.0.0.1:1' }))).toMatchObject({ error: true, reset: false });
  });

  it('counts no backend failure in nginx\'s own limit_req 503, but does in a 503 an ALB answered for want of a target', () => {
    expect(classifyUpstreamError(record('nginx-combined', { status: 503, upstreamLogged: true }))).toMatchObject({ error: false });
    expect(classifyUpstreamError(record('nginx-json', { status: 503, upstreamLogged: true }))).toMatchObject({ error: false });
    // Once the backend was tried, a 503 is the backend's (or nginx's own "no live upstreams").
    expect(classifyUpstreamError(record('nginx-combined', { status: 503, upstreamLogged: true, upstreamStatus: 503, upstreamAttempts: 1 }))).toMatchObject({ error: true });
    // A log that does not say whether a backend was tried (plain `combined`) keeps the 503 as trouble.
    expect(classifyUpstreamError(record('nginx-combined', { status: 503, upstreamLogged: false }))).toMatchObject({ error: true });
    expect(classifyUpstreamError(record('aws-alb', { status: 503, upstreamLogged: true }))).toMatchObject({ error: true });
  });

  it('counts no backend failure in a CONNECT a scanner sent to see whether the proxy is open', () => {
    // A real HAProxy log: `CONNECT 64.12.202.59:443`, answered 502 by the backend, its only 502s.
    expect(classifyUpstreamError(record('haproxy', { status: 502, flags: 'SH--', method: 'CONNECT', path: null }))).toMatchObject({ error: false, reset: false });
    expect(classifyUpstreamError(record('haproxy', { status: 502, flags: 'SH--', method: 'GET', path: '/' }))).toMatchObject({ error: true, reset: true });
  });
});

describe('upstream trouble in logs that name no upstream', () => {
  /** A `combined`-like log: no upstream fields, 0.4% scattered 503s, and optionally a 4-minute burst of 502s on one route. */
  function combinedLog(burst: boolean): JoinedRequest[] {
    const requests: JoinedRequest[] = [];
    const startMs = Date.UTC(2024, 4, 6, 12, 0, 0);
    for (let i = 0; i < 20_000; i++) {
      const t = startMs + i * 180; // an hour
      const route = i % 4 === 0 ? '/api/v1/search' : `/api/v1/orders/${i}`;
      const inBurst = burst && route === '/api/v1/search' && t >= startMs + 1_200_000 && t < startMs + 1_440_000 && i % 8 !== 0;
      const status = inBurst ? 502 : i % 250 === 7 ? 503 : 200;
      // Clients in turn, eight requests each: the scattered 503s fall on many of them, as background errors do.
      const proxy = record('apache-combined', { line: i + 1, startMs: t, endMs: t, status, method: 'GET', path: route, clientIp: `192.0.2.${(i >> 3) % 50}` });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    return requests;
  }

  it('background 503s (0.4%): one low finding over all requests, no invented upstream, no 100%', () => {
    const findings = run(combinedLog(false));
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding!.severity).toBe('low');
    expect(finding!.figures).toMatchObject({ upstream: null, requests: 20_000, errors: 80, pattern: 'transient' });
    expect(Number(finding!.figures.errorRate)).toBe(0.004);
    expect(finding!.title).not.toContain('(no upstream)');
    expect(finding!.title).not.toContain('100');
  });

  it('503s that fall on one client among many (a rate limit in a plain combined log): low, naming the client; the same spread over everyone stays trouble', () => {
    const startMs = Date.UTC(2024, 4, 6, 12, 0, 0);
    const requestsWith = (limitedClient: (i: number) => string, failure = 503): JoinedRequest[] => {
      const requests: JoinedRequest[] = [];
      for (let i = 0; i < 20_000; i++) {
        const t = startMs + i * 180;
        // Two bursts of one bulk client, 400 calls in all, of which limit_req turns 360 away.
        const burst = (i >= 5_000 && i < 5_200) || (i >= 12_000 && i < 12_200);
        const status = burst && i % 10 !== 0 ? failure : 200;
        const client = burst ? limitedClient(i) : `192.0.2.${i % 50}`;
        const proxy = record('nginx-combined', { line: i + 1, startMs: t, endMs: t, status, method: 'GET', path: burst ? '/api/v1/items' : `/api/v1/orders/${i}`, clientIp: client });
        requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
      }
      return requests;
    };
    const [limited] = run(requestsWith(() => '203.0.113.50'));
    expect(limited!.severity).toBe('low');
    expect(limited!.figures).toMatchObject({ upstream: null, pattern: 'one-client', topClient: '203.0.113.50', errors: 360 });
    expect(limited!.explanation).toContain('limit_req');
    // 502s are no rate limit's answer: the client's own requests, not limit_req, are named.
    const [bad] = run(requestsWith(() => '203.0.113.50', 502));
    expect(bad!.figures.pattern).toBe('one-client');
    expect(bad!.explanation).not.toContain('limit_req');
    expect(bad!.explanation).toContain('that client made requests only it makes');
    const [everyone] = run(requestsWith((i) => `192.0.2.${i % 50}`));
    expect(everyone!.figures.pattern).not.toBe('one-client');
    expect(['medium', 'high']).toContain(everyone!.severity);
  });

  it('503s of the only client at a quiet hour, when the backend was down for everyone: a burst, not a client turned away', () => {
    // As a real HAProxy logged it with no server left (`<NOSRV>`, every request of the hour failing):
    // busy hours of many clients, then one visitor who gets nothing but 503s.
    const startMs = Date.UTC(2016, 10, 7, 8, 0, 0);
    const requests: JoinedRequest[] = [];
    const add = (t: number, client: string, status: number, path: string): void => {
      const proxy = record('haproxy-clf', { line: requests.length + 1, startMs: t, endMs: t, status, method: 'GET', path, clientIp: client });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    };
    for (let i = 0; i < 300; i++) add(startMs + i * 20_000, `198.51.100.${i % 40}`, 200, `/cbioportal/study/${i}`);
    for (let i = 0; i < 32; i++) add(startMs + 3 * 3_600_000 + i * 3_000, '123.136.68.2', 503, i % 2 === 0 ? '/cbioportal' : '/favicon.ico');
    const [outage] = run(requests);
    expect(outage!.figures.pattern).toBe('burst');
    expect(outage!.explanation).not.toContain('limit_req');
    expect(outage!.severity).toBe('high');
  });

  it('a short burst among scattered errors: the burst\'s rate counts with the burst\'s errors, not every error of the log', () => {
    // A route whose backend restarts now and then for a few seconds: clients reconnect into 502s.
    const startMs = Date.UTC(2020, 10, 21, 0, 0, 0);
    const requests: JoinedRequest[] = [];
    const add = (t: number, status: number): void => {
      const proxy = record('nginx-combined', { line: requests.length + 1, startMs: t, endMs: t, status, method: 'GET', path: '/ws/', clientIp: `203.0.113.${requests.length % 3}` });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    };
    // 14 days of steady traffic to other routes, 300 a day.
    for (let i = 0; i < 14 * 300; i++) {
      const t = startMs + i * 288_000;
      const proxy = record('nginx-combined', { line: requests.length + 1, startMs: t, endMs: t, status: 200, method: 'GET', path: `/api/${i % 20}`, clientIp: `198.51.100.${i % 90}` });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    // One restart seen by 30 reconnects, then 55 errors scattered over the other days.
    for (let i = 0; i < 30; i++) add(startMs + 86_400_000 + i * 300, 502);
    for (let i = 0; i < 12; i++) add(startMs + 86_400_000 + 10_000 + i * 300, 101);
    for (let i = 0; i < 55; i++) add(startMs + 2 * 86_400_000 + i * 19_000_000, 502);
    requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs);
    const [blips] = run(requests);
    expect(blips!.figures.pattern).toBe('burst');
    // 30 burst errors at 71% of the burst's requests reach medium, not high (which would need 50).
    expect(Number(blips!.figures.burstErrors)).toBeLessThan(50);
    expect(blips!.severity).toBe('medium');
  });

  it('a burst of 502s on one route: the route is named, the rate is of that route\'s requests then, not diluted by the others', () => {
    const [finding] = run(combinedLog(true));
    expect(finding!.figures).toMatchObject({ upstream: null, pattern: 'burst', topRoute: '/api/v1/search', burstMinutes: 4 });
    expect(finding!.title).toContain('/api/v1/search');
    // Half of the route's requests failed in the burst (an eighth of all requests then).
    expect(Math.abs(Number(finding!.figures.burstErrorRate) - 0.5)).toBeLessThan(0.03);
    expect(['medium', 'high']).toContain(finding!.severity);
  });

  it('in a log of days, whose periods are minutes wide, says when the burst\'s first and last errors fell, not only its periods', () => {
    // A real nginx log's 502s fell from 07:30 to 08:06 and read "a burst of 128 minute(s) … in each minute".
    const startMs = Date.UTC(2024, 4, 6, 0, 0, 0);
    const firstErrorMs = startMs + 20 * 3_600_000 + 3 * 60_000;
    const lastErrorMs = firstErrorMs + 36 * 60_000;
    const requests: JoinedRequest[] = [];
    for (let i = 0, t = startMs; t < startMs + 3 * 86_400_000; i++, t += 12_000) {
      const route = i % 4 === 0 ? '/api/v1/search' : `/api/v1/orders/${i}`;
      const status = route === '/api/v1/search' && t >= firstErrorMs && t <= lastErrorMs ? 502 : 200;
      const proxy = record('apache-combined', { line: i + 1, startMs: t, endMs: t, status, method: 'GET', path: route, clientIp: `192.0.2.${i % 50}` });
      requests.push({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null });
    }
    const errors = requests.filter((request) => request.proxy!.status === 502);
    const [finding] = run(requests);
    expect(finding!.figures).toMatchObject({ pattern: 'burst', topRoute: '/api/v1/search', errors: errors.length });
    expect(finding!.explanation).toMatch(/in each \d+-minute period/);
    expect(finding!.explanation).toContain(`the first at ${new Date(errors[0]!.proxy!.endMs).toISOString()}, the last at ${new Date(errors.at(-1)!.proxy!.endMs).toISOString()}`);
    expect(finding!.explanation).not.toContain('in each minute');
  });

  it('calls errors sustained only when there are enough of them: three scattered in a quiet log are transient, thirty are sustained', () => {
    const startMs = Date.UTC(2024, 4, 6, 12, 0, 0);
    // 1.5% of requests fail, one every ~2 minutes, each from another client.
    const requestsWith = (errors: number): JoinedRequest[] => Array.from({ length: Math.round(errors / 0.015) }, (_, i) => {
      const t = startMs + i * 2_000;
      const failed = i % 67 === 33;
      const proxy = record('nginx-combined', { line: i + 1, startMs: t, endMs: t, status: failed ? 502 : 200, method: 'GET', path: `/api/v1/orders/${i}`, clientIp: `192.0.2.${Math.floor(i / 67) % 50}` });
      return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
    });
    const patternOf = (errors: number) => (run(requestsWith(errors))[0]?.figures as { pattern?: string } | undefined)?.pattern;
    expect(patternOf(3)).toBe('transient');
    expect(patternOf(30)).toBe('sustained');
  });

  it('does not call a few errors "rare and scattered" when they are most of what an upstream was sent', () => {
    // A real Istio sidecar's incident (a TLS secret not supplied): 6 requests in 3 minutes, every one a 503.
    const startMs = Date.UTC(2022, 3, 19, 13, 35, 0);
    const requests: JoinedRequest[] = Array.from({ length: 6 }, (_, i) => {
      const t = startMs + i * 35_000;
      const proxy = record('envoy', { line: i + 1, startMs: t, endMs: t + 18, status: 503, flags: 'UF,URX', method: 'POST', path: '/', upstreamAddr: '10.37.0.73:8000', upstreamAttempts: 1 });
      return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
    });
    const [finding] = run(requests);
    expect(finding!.figures).toMatchObject({ pattern: 'few-mostly-failing', errors: 6, errorRate: 1, connectFailures: 6 });
    expect(finding!.title).toContain('few requests, mostly failing');
    expect(finding!.explanation).toContain('Few, but 100.0% of the requests to 10.37.0.73:8000 failed');
    expect(`${finding!.explanation} ${finding!.nextStep}`).not.toMatch(/rare and scattered|nothing urgent/i);
  });
});
