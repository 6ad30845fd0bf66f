import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { severityRank } from '../../src/model/finding.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { HEALTHY_COMBINED, healthyCombinedLog } from '../generators/healthy-traffic.js';

/**
 * A healthy 100 k-line `combined` log (1.5% client drops, 0.4% scattered 500/503, 1% 404s from
 * scanners and favicons, probes every 5 s): the control every detector must stay quiet on.
 */
describe('a healthy 100 k-line combined log with its background noise', () => {
  let analysis: Analysis;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-healthy-'));
    const path = join(dir, 'access.log');
    writeFileSync(path, `${healthyCombinedLog().join('\n')}\n`);
    analysis = await analyze({ inputs: [path], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
  }, 120_000);

  it('is read whole', () => {
    expect(analysis.inputs.totals).toMatchObject({ records: HEALTHY_COMBINED.lines, skipped: 0 });
  });

  it('raises nothing above low, and its verdict says nothing stands out', () => {
    const loud = analysis.findings.filter((finding) => severityRank(finding.severity) > severityRank('low'));
    expect(loud.map((finding) => finding.title)).toEqual([]);
    expect(analysis.verdict[0]!.text).toMatch(/^No anomaly stands out/);
  });

  it('invents no upstream, and its server errors are a share of all requests', () => {
    const trouble = analysis.findings.filter((finding) => finding.kind === 'upstream-trouble');
    for (const finding of trouble) {
      if (finding.kind !== 'upstream-trouble') continue;
      expect(finding.figures.upstream).toBeNull();
      expect(finding.figures.requests).toBe(HEALTHY_COMBINED.lines);
      expect(finding.figures.errorRate).toBeLessThan(0.01);
      expect(finding.figures.pattern).toBe('transient');
    }
  });
});

/**
 * Healthy Envoy traffic from a proxy that strips the `x-envoy-*` headers, as Envoy Gateway does
 * by default: no line carries an upstream service time. In the text format every answered
 * request then has an upstream host and no failure flag; in Envoy Gateway's JSON, a fifth are
 * redirects Envoy answers itself (`direct_response`). 1% of clients hang up (DC).
 */
describe('healthy Envoy traffic without an upstream service time', () => {
  const START = Date.parse('2025-12-31T16:00:00Z');
  const LINES = 20_000;
  const at = (i: number): { start: string; ms: number; closed: boolean } => ({ start: new Date(START + i * 180).toISOString(), ms: 5 + ((i * 7919) % 60), closed: i % 97 === 0 });
  const run = async (name: string, lines: string[]): Promise<Analysis> => {
    const path = join(mkdtempSync(join(tmpdir(), 'alf-healthy-envoy-')), name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return analyze({ inputs: [path], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
  };
  const loud = (analysis: Analysis): string[] => analysis.findings.filter((f) => severityRank(f.severity) > severityRank('low')).map((f) => f.title);

  it('text format: raises nothing above low', async () => {
    const text = Array.from({ length: LINES }, (_, i) => {
      const { start, ms, closed } = at(i);
      return `[${start}] "GET /api/items/${i % 300} HTTP/1.1" ${closed ? '0 DC' : '200 -'} 0 1200 ${ms} - "10.0.${i % 50}.${i % 200}" "okhttp/4.${i % 7}" "id-${i}" "api.example.com" "10.42.0.82:8080"`;
    });
    const analysis = await run('envoy.log', text);
    expect(analysis.inputs.totals).toMatchObject({ records: LINES, skipped: 0 });
    expect(loud(analysis)).toEqual([]);
  }, 60_000);

  it('Envoy Gateway JSON with its redirects: raises nothing above low', async () => {
    const json = Array.from({ length: LINES }, (_, i) => {
      const { start, ms, closed } = at(i);
      const redirect = i % 5 === 0;
      return JSON.stringify({
        ':authority': 'www.example.com', bytes_sent: redirect ? 0 : 1200, downstream_remote_address: `10.0.${i % 50}.${i % 200}:${30000 + i}`, duration: redirect ? 0 : ms,
        method: 'GET', response_code: redirect ? 301 : closed ? 0 : 200, response_code_details: redirect ? 'direct_response' : closed ? 'downstream_remote_disconnect' : 'via_upstream',
        response_flags: closed && !redirect ? 'DC' : '-', start_time: start, upstream_host: redirect ? null : '10.42.0.82:8080', 'user-agent': `okhttp/4.${i % 7}`,
        'x-envoy-origin-path': `/api/items/${i % 300}`, 'x-envoy-upstream-service-time': null, 'x-request-id': `id-${i}`,
      });
    });
    const analysis = await run('envoy-gateway.log', json);
    expect(analysis.inputs.files[0]!.format).toBe('envoy-json');
    expect(loud(analysis)).toEqual([]);
  }, 60_000);
});
