import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envoy } from '../../parsers/envoy.js';
import { DETECTORS } from '../../src/detectors/registry.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { severityRank } from '../../src/model/finding.js';
import type { JoinedRequest, ProxyRecord } from '../../src/model/records.js';
import { analyze } from '../../src/pipeline/analyze.js';
import { runDetectors } from '../detectors/run-detectors.js';
import { parseLines } from '../parsers/parse-lines.js';

/**
 * Each format's own conventions read as what they are, not as anomalies: the bundled sample of
 * every format (a dozen lines each, with a 504, a 502, a client that hung up: ALB 460 and -1
 * timings, CloudFront 000, Envoy DC) raises nothing above low, and Envoy's TCP proxy lines are
 * sessions, not client aborts.
 */

const FORMATS_DIR = join(import.meta.dirname, '..', '..', 'samples', 'formats');

describe('format conventions are not anomalies', () => {
  for (const file of readdirSync(FORMATS_DIR).filter((name) => name.endsWith('.log'))) {
    it(`${file}: a dozen lines with one or two of everything raise nothing above low, and name no invented upstream`, async () => {
      const analysis = await analyze({ inputs: [join(FORMATS_DIR, file)], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false });
      expect(analysis.inputs.totals.skipped).toBe(0);
      const loud = analysis.findings.filter((finding) => severityRank(finding.severity) > severityRank('low'));
      expect(loud.map((finding) => finding.title)).toEqual([]);
      for (const finding of analysis.findings) {
        if (finding.kind !== 'upstream-trouble' || finding.figures.upstream !== null) continue;
        // Errors of requests without an upstream are a share of every request, never of themselves.
        expect(finding.figures.requests).toBe(analysis.inputs.totals.proxyRecords);
      }
    });
  }

  // Envoy's default format as Istio's docs show a TCP session through the egress proxy (istio.io,
  // "Accessing External Services", Apache-2.0): the first 13 fields, Envoy's default access-log
  // format, of which Istio's adds 5 more.
  const TCP_SESSIONS = [
    '[2019-01-24T12:48:54.977Z] "- - -" 0 - 601 17766 1289 - "-" "-" "-" "-" "172.217.161.36:443"',
    '[2018-12-07T10:38:02.841Z] "- - -" 0 - 702 87599 92 - "-" "-" "-" "-" "172.30.109.95:3128"',
  ];

  it('Envoy TCP proxy lines are sessions: no status, no client abort, no missing upstream answer', () => {
    const { records, issues } = parseLines(envoy, TCP_SESSIONS);
    expect(issues).toEqual([]);
    for (const record of records as ProxyRecord[]) {
      expect(record).toMatchObject({ status: null, clientClosed: false, upstreamLogged: false, method: null, upstreamAddr: expect.any(String) });
    }
  });

  it('a log of TCP sessions raises nothing', () => {
    // The two sessions again and again, a second apart, each lasting its own time.
    const lines = Array.from({ length: 200 }, (_, i) => TCP_SESSIONS[i % 2]!
      .replace(/:\d\d\.\d{3}Z/, `:${String(i % 60).padStart(2, '0')}.${String(i).padStart(3, '0').slice(-3)}Z`)
      .replace(/ (\d+) - "-"/, ` ${50 + ((i * 7_919) % 30_000)} - "-"`));
    const requests: JoinedRequest[] = (parseLines(envoy, lines).records as ProxyRecord[])
      .sort((a, b) => a.endMs - b.endMs)
      .map((proxy) => ({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null }));
    expect(requests).toHaveLength(200);
    const findings = runDetectors(requests, { detectors: DETECTORS });
    expect(findings.filter((finding) => finding.severity !== 'info').map((finding) => finding.title)).toEqual([]);
  });
});
