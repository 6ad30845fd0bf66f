import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, upstreamTrouble } from '../../src/detectors/upstream-trouble.js';
import { emptyProxyRecord, type ProxyRecord } from '../../src/model/records.js';
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
    expect(classifyUpstreamError(record('envoy', { status: 504, flags: 'UT' }))).toMatchObject({ timeout: true });
    expect(classifyUpstreamError(record('haproxy-http', { status: 503, flags: 'SC--' }))).toMatchObject({ connect: true, reset: false });
    expect(classifyUpstreamError(record('haproxy-http', { status: 502, flags: 'SH--' }))).toMatchObject({ reset: true });
    expect(classifyUpstreamError(record('haproxy-http', { status: 504, flags: 'sH--' }))).toMatchObject({ timeout: true, reset: false });
    expect(classifyUpstreamError(record('nginx', { status: 200, upstreamStatus: 200 }))).toMatchObject({ error: false });
  });
});
