import { describe, expect, it } from 'vitest';
import { retryStorms } from '../../src/detectors/retry-storms.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { emptyProxyRecord, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { analyzeRecords } from '../../src/pipeline/analyze.js';
import { parseWhere } from '../../src/pipeline/slice-spec.js';
import { inBatches } from '../generators/join-scenarios.js';
import { cleanTraffic, retryStorm, upstreamTrouble } from '../generators/scenarios.js';
import { runDetectors } from './run-detectors.js';

const run = (requests: readonly JoinedRequest[]) => runDetectors(requests, { detectors: [retryStorms] });

function attempt(startMs: number, status: number, path = '/api/x'): JoinedRequest {
  const proxy = Object.assign(emptyProxyRecord('nginx', 'r.log', 1, `${status}`), {
    startMs, endMs: startMs + 10, requestTimeMs: 10, status, method: 'GET', path, apiKey: 'key_a', clientIp: '1.2.3.4',
  });
  return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
}

describe('retry storms', () => {
  it('finds the client that hammers a failing backend, with its amplification factor', () => {
    const s = retryStorm({ seed: 71 });
    const [finding, ...rest] = run(s.requests);
    expect(rest).toEqual([]);
    expect(finding!.figures.client).toBe(s.truth.stormClient);
    expect(['medium', 'high']).toContain(finding!.severity);
    expect(Math.abs(Number(finding!.figures.amplificationFactor) - s.truth.stormAmplification!)).toBeLessThan(0.2);
    expect(Number(finding!.figures.longestChain)).toBeGreaterThanOrEqual(4);
  });

  it('stays silent on clean traffic', () => {
    for (const seed of [1, 2, 3]) expect(run(cleanTraffic({ seed }).requests).filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('clients that revisit the same URL anyway are not storming when an upstream fails', () => {
    const findings = run(upstreamTrouble('burst', { seed: 72 }).requests);
    expect(findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  it('says a client whose every request fails, hundreds a minute, may be a flood as much as a retry loop', () => {
    // As a real flood log had it: one URL, every request a 499, 655 in a minute from one address.
    const flood = Array.from({ length: 655 }, (_, i) => {
      const request = attempt(i * 5, 499, '/');
      request.proxy!.clientClosed = true;
      return request;
    });
    const [finding] = run(flood);
    expect(finding!.explanation).toContain('100.0% of its requests failed, 655 of them in one minute: a flood');
    expect(finding!.explanation).toContain('Its failures formed 1 chain of repeats, 655 attempts in all');
    // A retry loop where half the requests succeed: no such remark.
    const loop = Array.from({ length: 700 }, (_, i) => attempt(i * 80, i % 2 === 0 ? 503 : 200, `/api/x/${Math.floor(i / 2)}`));
    for (const f of run(loop)) expect(f.explanation).not.toContain('a flood');
  });

  it('counts a chain: 3 failures then success = 4 attempts for 1 request', () => {
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 60_000;
      const path = `/api/x/${i}`;
      requests.push(attempt(t, 503, path), attempt(t + 100, 503, path), attempt(t + 200, 503, path), attempt(t + 300, 200, path));
    }
    const [finding] = run(requests);
    expect(finding!.figures.amplificationFactor).toBe(4);
    expect(finding!.figures.retries).toBe(90);
    expect(finding!.figures.longestChain).toBe(4);
    // 90 failures in 30 chains: the figure counts chains and is named so, not "failed requests".
    expect(finding!.figures).toMatchObject({ failureChains: 30 });
    expect(finding!.figures).not.toHaveProperty('failedRequests');
  });

  it('names its busiest minute and the retries in it, also when the client has been seen for hours', () => {
    const chains = (hours: number): JoinedRequest[] => {
      const requests: JoinedRequest[] = [];
      for (let i = 0; i < 30; i++) {
        const t = Math.round((i * hours * 3_600_000) / 30);
        requests.push(attempt(t, 503, `/x/${i}`), attempt(t + 100, 503, `/x/${i}`), attempt(t + 200, 503, `/x/${i}`), attempt(t + 300, 200, `/x/${i}`));
      }
      // One busier minute, five hours in when the log spans five hours.
      const busy = (hours * 3_600_000) / 2 + 7_000;
      for (let i = 0; i < 10; i++) requests.push(attempt(busy + i * 1_000, 503, `/y/${i}`), attempt(busy + i * 1_000 + 100, 503, `/y/${i}`), attempt(busy + i * 1_000 + 200, 503, `/y/${i}`));
      return requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs);
    };
    for (const hours of [1, 5]) {
      const [finding] = run(chains(hours));
      expect(finding!.figures.busiestMinute).toBe(new Date(Math.floor(((hours * 3_600_000) / 2 + 7_000) / 60_000) * 60_000).toISOString());
      expect(finding!.explanation).toMatch(/in its busiest minute \(from \S+\) it retried 2\d times, /);
    }
  });

  it('is at most low when no minute holds more retries than a person pressing reload makes', () => {
    // A developer's own server: one client, a page that fails, reloaded 20 times at once (half a
    // second apart), among an hour of ordinary requests.
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 200; i++) requests.push(attempt(i * 18_000, 200, `/page/${i % 40}`));
    for (let i = 0; i < 21; i++) requests.push(attempt(1_800_000 + i * 500, 500, '/broken.php'));
    const [finding] = run(requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs));
    expect(finding!.title).toMatch(/^Retry storm from /);
    expect(finding!.figures.retries).toBe(20);
    expect(finding!.severity).toBe('low');
    expect(finding!.explanation).toContain('as few as a person pressing reload or a scanner repeating a probe sends');
  });

  it('with --where status=5xx, still sees the successes between a client\'s failures: a poller\'s failures are not retries of each other', async () => {
    // Polls every half second for ten minutes, every third answered 500: its failures follow
    // successes, never each other, and it repeats after successes as often as after failures.
    const requests: ProxyRecord[] = [];
    for (let i = 0; i < 1_200; i++) {
      const record = attempt(i * 500, i % 3 === 2 ? 500 : 200, '/status').proxy!;
      requests.push(Object.assign(record, { upstreamLogged: true }));
    }
    const severities = async (where: string[]): Promise<string[]> => {
      const analysis = await analyzeRecords({
        proxyStreams: [inBatches(requests)], apmStreams: [], files: () => [], budget: null, join: DEFAULT_JOIN_OPTIONS,
        slice: where.length === 0 ? undefined : { since: null, until: null, where: where.map(parseWhere) },
      });
      return analysis.findings.filter((finding) => finding.kind === 'retry-storms').map((finding) => finding.severity);
    };
    expect((await severities([])).filter((severity) => severity !== 'info')).toEqual([]);
    expect((await severities(['status=5xx'])).filter((severity) => severity !== 'info')).toEqual([]);
  });

  it('in a time slice that cuts a chain, counts the chain from its first attempt inside: attempts per chain never exceed the chains\' own', async () => {
    // Thirty chains of four attempts (three 503s, then a 200), one a minute; the slice starts inside the first.
    const records: ProxyRecord[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 60_000;
      for (const [offset, status] of [[0, 503], [100, 503], [200, 503], [300, 200]] as const) records.push(attempt(t + offset, status, `/api/x/${i}`).proxy!);
    }
    const amplification = async (sinceMs: number | null): Promise<number> => {
      const analysis = await analyzeRecords({
        proxyStreams: [inBatches(records)], apmStreams: [], files: () => [], budget: null, join: DEFAULT_JOIN_OPTIONS,
        slice: sinceMs === null ? undefined : { since: { ms: sinceMs, text: 'inside the first chain' }, until: null, where: [] },
      });
      const figures = analysis.findings.find((finding) => finding.kind === 'retry-storms')!.figures as unknown as Record<string, unknown>;
      return Number(figures.amplificationFactor);
    };
    expect(await amplification(null)).toBe(4);
    // The first chain's last two attempts are in the slice: (29 × 4 + 2) / 30.
    expect(await amplification(150)).toBeCloseTo(118 / 30, 2);
  });

  it('a repeat after a success, or long after a failure, is not a retry', () => {
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 40; i++) requests.push(attempt(i * 60_000, 503, `/a/${i}`), attempt(i * 60_000 + 30_000, 503, `/a/${i}`));
    for (let i = 0; i < 40; i++) requests.push(attempt(5_000_000 + i * 100, 200, '/poll'));
    expect(run(requests.sort((a, b) => a.proxy!.endMs - b.proxy!.endMs))).toEqual([]);
  });

  it('counts no repeat as a retry at once when the client waited a second or more (a 429\'s Retry-After, a backoff)', () => {
    // A paginating crawler held to 5 requests a second: each 429 is answered with Retry-After: 1,
    // and it waits that out (1.0-1.5 s) before asking again, 300 times over ten minutes.
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 300; i++) {
      const t = i * 2_000;
      requests.push(attempt(t, 429, `/api/search/${i}`), attempt(t + 10 + 1_000 + (i % 5) * 100, 200, `/api/search/${i}`));
    }
    const findings = run(requests);
    expect(findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
    // The same crawler retrying at once, 100 ms after each 429, is a storm.
    const atOnce = requests.map((request, i) => (i % 2 === 1 ? attempt(request.proxy!.startMs - 1_000 + 100 - (Math.floor(i / 2) % 5) * 100, 200, request.proxy!.path!) : request));
    expect(run(atOnce)[0]!.title).toMatch(/^Retry storm from key_a/);
  });

  it('finds retries in a log whose lines are a minute out of time order', () => {
    // nginx writes a line at the request's end: a slow request's line sits among lines of requests
    // that started up to a minute later. Those lines must not make it forget the failures before them.
    const requests: JoinedRequest[] = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 120_000;
      const path = `/api/y/${i}`;
      const slow = attempt(t, 200, `/slow/${i}`);
      slow.proxy!.endMs = t + 60_000;
      requests.push(attempt(t, 503, path), slow, attempt(t + 500, 503, path), attempt(t + 1_000, 200, path));
    }
    const [finding] = run(requests);
    expect(finding!.figures.retries).toBe(60);
  });
});
