import { describe, expect, it } from 'vitest';
import { emptyProxyRecord, type JoinedRequest, type ProxyRecord } from '../../src/model/records.js';
import { OTHER_UPSTREAMS, UpstreamTimeline } from '../../src/summaries/upstream-timeline.js';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

function request(fields: Partial<ProxyRecord>): JoinedRequest {
  const proxy: ProxyRecord = { ...emptyProxyRecord('test', 'access.log', 1, ''), upstreamLogged: true, status: 200, upstreamStatus: 200, ...fields };
  return { proxy, apm: null, method: 'none', confidence: 0, offsetMs: null };
}

describe('UpstreamTimeline', () => {
  it('counts requests, 5xx, proxy-made responses and connect times per upstream and minute', () => {
    const summary = new UpstreamTimeline();
    summary.observe(request({ endMs: T0 + 1000, upstreamAddr: '10.0.0.1:80', upstreamConnectTimeMs: 2 }));
    summary.observe(request({ endMs: T0 + 2000, upstreamAddr: '10.0.0.1:80', status: 502, upstreamStatus: 502, upstreamConnectTimeMs: 10 }));
    summary.observe(request({ endMs: T0 + 3000, upstreamAddr: '10.0.0.1:80', status: 504, upstreamStatus: null }));
    summary.observe(request({ endMs: T0 + 4000, upstreamAddr: '10.0.0.1:80', status: 404, upstreamStatus: null }));
    summary.observe(request({ endMs: T0 + 61_000, upstreamAddr: '10.0.0.2:80', status: 503, upstreamStatus: 503 }));
    const result = summary.summary();
    expect(result.bucketSeconds).toBe(60);
    expect(result.rows).toEqual([
      {
        time: new Date(T0).toISOString(), upstream: '10.0.0.1:80', requests: 4, status502: 1, status503: 0, status504: 1, noUpstream: 1,
        connectMeasured: 2, connectMeanMs: 6, connectMaxMs: 10,
      },
      {
        time: new Date(T0 + 60_000).toISOString(), upstream: '10.0.0.2:80', requests: 1, status502: 0, status503: 1, status504: 0, noUpstream: 0,
        connectMeasured: 0, connectMeanMs: null, connectMaxMs: null,
      },
    ]);
    expect(result.upstreams).toEqual([
      { upstream: '10.0.0.1:80', requests: 4, errors: 3 },
      { upstream: '10.0.0.2:80', requests: 1, errors: 1 },
    ]);
    expect(result.connectMeasured).toBe(2);
  });

  it('does not count a missing upstream as an error when the format never logs upstreams', () => {
    const summary = new UpstreamTimeline();
    summary.observe(request({ endMs: T0, upstreamLogged: false, upstreamStatus: null, status: 404 }));
    expect(summary.summary().rows[0]).toMatchObject({ requests: 1, noUpstream: 0 });
  });

  it('caps distinct upstreams with an (other) series and keeps every request', () => {
    const summary = new UpstreamTimeline();
    for (let i = 0; i < 50; i++) summary.observe(request({ endMs: T0 + i, upstreamAddr: `10.0.1.${i}:80` }));
    const { upstreams, rows } = summary.summary();
    expect(upstreams.length).toBeLessThanOrEqual(9);
    expect(upstreams.find((u) => u.upstream === OTHER_UPSTREAMS)?.requests).toBe(42);
    expect(rows.reduce((sum, row) => sum + row.requests, 0)).toBe(50);
  });

  it('widens buckets to stay bounded over a long log, keeping totals', () => {
    const summary = new UpstreamTimeline();
    const days = 10;
    for (let minute = 0; minute < days * 24 * 60; minute++) {
      summary.observe(request({ endMs: T0 + minute * 60_000, upstreamAddr: 'a:80', upstreamConnectTimeMs: minute % 7 }));
    }
    const result = summary.summary();
    expect(result.bucketSeconds).toBeGreaterThan(60);
    expect(new Set(result.rows.map((row) => row.time)).size).toBeLessThanOrEqual(1000);
    expect(result.rows.reduce((sum, row) => sum + row.requests, 0)).toBe(days * 24 * 60);
    expect(Math.max(...result.rows.map((row) => row.connectMaxMs ?? 0))).toBe(6);
  });
});
