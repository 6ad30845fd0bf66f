import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import { severityRank } from '../../src/model/finding.js';
import { analyze } from '../../src/pipeline/analyze.js';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { parseWhere, type SliceSpec } from '../../src/pipeline/slice-spec.js';

/**
 * Healthy controls on whole real logs (test/fixtures/real-logs/README.md says where each comes
 * from): every line read as what it is, and nothing above `low`, also in the slices a user would
 * take of them (their failures alone, one day).
 */

const DIR = join(import.meta.dirname, '..', 'fixtures', 'real-logs');

const LOGS = [
  { file: 'elastic-examples-apache_logs.log.gz', format: 'nginx-combined', lines: 10_000, skipped: [8899], from: '2015-05-17T10:05:00.000Z', day: '2015-05-18' },
  { file: 'logparser-hackers-access.log.gz', format: 'nginx-combined', lines: 3_456, skipped: [], from: '2015-10-25T03:11:25.000Z', day: '2015-10-25' },
  { file: 'lnav-shop-access.log.gz', format: 'nginx-main', lines: 1_000, skipped: [], from: '2019-01-22T00:26:14.000Z', day: '2019-01-22' },
] as const;

function analyzeLog(file: string, slice?: SliceSpec): Promise<Analysis> {
  return analyze({ inputs: [join(DIR, file)], apmInputs: [], budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, slice });
}

const aboveLow = (analysis: Analysis): string[] =>
  analysis.findings.filter((finding) => severityRank(finding.severity) > severityRank('low')).map((finding) => `${finding.severity} ${finding.title}`);

describe('whole real logs raise nothing above low', () => {
  for (const log of LOGS) {
    it(`${log.file}: every line read (${log.format}), times in their zone, nothing above low; nor in its failures alone or in one day`, async () => {
      const whole = await analyzeLog(log.file);
      const [stats] = whole.inputs.files;
      expect(stats).toMatchObject({ format: log.format, linesRead: log.lines, records: log.lines - log.skipped.length, skipped: log.skipped.length });
      expect(stats!.firstIssues.map((issue) => issue.line)).toEqual(log.skipped);
      expect(whole.inputs.timeRange?.from).toBe(log.from);
      expect(aboveLow(whole)).toEqual([]);
      const failures = await analyzeLog(log.file, { since: null, until: null, where: [parseWhere('status=5xx'), parseWhere('status=4xx')] });
      expect(aboveLow(failures)).toEqual([]);
      const day = Date.parse(`${log.day}T00:00:00Z`);
      const oneDay = await analyzeLog(log.file, { since: { ms: day, text: log.day }, until: { ms: day + 86_400_000, text: 'a day later' }, where: [] });
      expect(oneDay.slice!.proxyKept).toBeGreaterThan(0);
      expect(aboveLow(oneDay)).toEqual([]);
    }, 60_000);
  }
});
