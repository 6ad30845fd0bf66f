import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { severityRank } from '../../src/model/finding.js';
import { analyze } from '../../src/pipeline/analyze.js';
import { compileLogFormat } from '../../src/parse/workers/worker-formats.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { parseWhere, type SliceSpec } from '../../src/pipeline/slice-spec.js';

/**
 * Healthy controls on whole real logs (test/fixtures/real-logs/README.md says where each comes
 * from): every line read as what it is, and nothing above `low`, also in the slices a user would
 * take of them (their failures alone, one day); and one real incident, found as one.
 */

const DIR = join(import.meta.dirname, '..', 'fixtures', 'real-logs');

const LOGS = [
  { file: 'elastic-examples-apache_logs.log.gz', format: 'nginx-combined', lines: 10_000, skipped: [8899], from: '2015-05-17T10:05:00.000Z', day: '2015-05-18' },
  { file: 'logparser-hackers-access.log.gz', format: 'nginx-combined', lines: 3_456, skipped: [], from: '2015-10-25T03:11:25.000Z', day: '2015-10-25' },
  { file: 'lnav-shop-access.log.gz', format: 'nginx-main', lines: 1_000, skipped: [], from: '2019-01-22T00:26:14.000Z', day: '2019-01-22' },
  { file: 'raravena80-haproxylogparser-haproxy.log.gz', format: 'haproxy', lines: 17_211, skipped: [], from: '2012-02-02T04:05:24.385Z', day: '2012-02-03' },
  // Its stats page (stats/<STATS>) was read as 43 responses the proxy made up without a backend, at medium.
  { file: 'nagiosplugin-haproxy.log.gz', format: 'haproxy', lines: 1_999, skipped: [], from: '2012-08-05T00:50:12.093Z', day: '2012-08-05' },
  { file: 'maborak-monitor-stack-traefik.log.gz', format: 'traefik-json', lines: 243, skipped: [], from: '2021-02-05T07:57:16.396Z', day: '2021-02-05' },
  // An image CDN's own nginx log_format (as gonx's README gives it); its hex shard directories once made 784 routes of 1,000 requests.
  {
    file: 'gonx-example-access.log.gz', format: 'nginx', lines: 1_000, skipped: [], from: '2015-09-10T17:57:58.178Z', day: '2015-09-10', maxRoutes: 20,
    logFormat: '$remote_addr [$time_local] "$request" $status $request_length $body_bytes_sent $request_time "$t_size" $read_time $gen_time',
  },
  // httpd with the LogFormat its httpd.conf names in CustomLog (ServerRoot/conf/httpd.conf, same commit).
  {
    file: 'ensembl-webvm-access_log.gz', format: 'apache-logformat', lines: 56, skipped: [], from: '2018-04-06T13:31:32.000Z', day: '2018-04-06',
    logFormat: 'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\" io<%Iin %Oout %Dus %X%k> fwd<%{x-forwarded-for}i>" combined_proxy',
  },
] as const;

function analyzeLog(file: string, slice?: SliceSpec, logFormat?: string): Promise<Analysis> {
  return analyze({
    inputs: [join(DIR, file)], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, slice,
    ...(logFormat === undefined ? {} : { logFormat: compileLogFormat(logFormat) }),
  });
}

const aboveLow = (analysis: Analysis): string[] =>
  analysis.findings.filter((finding) => severityRank(finding.severity) > severityRank('low')).map((finding) => `${finding.severity} ${finding.title}`);

describe('whole real logs raise nothing above low', () => {
  for (const log of LOGS) {
    it(`${log.file}: every line read (${log.format}), times in their zone, nothing above low; nor in its failures alone or in one day`, async () => {
      const logFormat = 'logFormat' in log ? log.logFormat : undefined;
      const whole = await analyzeLog(log.file, undefined, logFormat);
      const [stats] = whole.inputs.files;
      expect(stats).toMatchObject({ format: log.format, linesRead: log.lines, records: log.lines - log.skipped.length, skipped: log.skipped.length });
      expect(stats!.firstIssues.map((issue) => issue.line)).toEqual(log.skipped);
      expect(whole.inputs.timeRange?.from).toBe(log.from);
      expect(aboveLow(whole)).toEqual([]);
      if ('maxRoutes' in log) {
        const routes = whole.findings.find((finding) => finding.kind === 'latency-by-route')?.figures as { routes: number } | undefined;
        expect(routes?.routes).toBeLessThanOrEqual(log.maxRoutes);
      }
      const failures = await analyzeLog(log.file, { since: null, until: null, where: [parseWhere('status=5xx'), parseWhere('status=4xx')] }, logFormat);
      expect(aboveLow(failures)).toEqual([]);
      const day = Date.parse(`${log.day}T00:00:00Z`);
      const oneDay = await analyzeLog(log.file, { since: { ms: day, text: log.day }, until: { ms: day + 86_400_000, text: 'a day later' }, where: [] }, logFormat);
      expect(oneDay.slice!.proxyKept).toBeGreaterThan(0);
      expect(aboveLow(oneDay)).toEqual([]);
    }, 60_000);
  }
});

describe('a whole real incident log is one', () => {
  it('a flood of 858 requests in 3 s, nearly all from three addresses, every one a 499: high, and the largest said to look like a flood', async () => {
    const analysis = await analyzeLog('komandakycto-ddoser-access.log.gz');
    expect(analysis.inputs.files[0]).toMatchObject({ format: 'nginx-combined', linesRead: 858, records: 858, skipped: 0 });
    const aborts = analysis.findings.find((finding) => finding.kind === 'proxy-made-responses');
    expect(aborts).toMatchObject({ severity: 'high', figures: { class: 'client-abort', count: 858 } });
    const storms = analysis.findings.filter((finding) => finding.kind === 'retry-storms' && finding.severity === 'high');
    expect(storms.map((storm) => (storm.figures as { client: string }).client).sort()).toEqual(['192.236.194.162', '192.236.195.112', '192.236.195.162'].sort());
    // 655 of them from one address within a minute; the other two sent about 100 each.
    expect(storms.filter((storm) => storm.explanation.includes('a flood')).map((storm) => (storm.figures as { client: string }).client)).toEqual(['192.236.195.162']);
  }, 60_000);
});
