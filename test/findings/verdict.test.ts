import { describe, expect, it } from 'vitest';
import { buildVerdict } from '../../src/findings/verdict.js';

describe('the verdict', () => {
  it('never reads as all clear when nothing could be read', () => {
    const [sentence, ...rest] = buildVerdict({ findings: [], timeRange: null, totals: { linesRead: 4_941, proxyRecords: 0, apmRecords: 0 }, hasApm: false });
    expect(rest).toEqual([]);
    expect(sentence!.text).toBe('Nothing in the inputs could be read (none of 4,941 lines parsed): these logs were not judged.');
    expect(sentence!.text).not.toContain('No anomaly');
  });

  it('says nothing stands out, and what the logs cover, when they were read and nothing is wrong', () => {
    const sentences = buildVerdict({
      findings: [], timeRange: { from: '2024-01-02T00:00:00.000Z', to: '2024-01-02T01:00:00.000Z' },
      totals: { linesRead: 10, proxyRecords: 10, apmRecords: 0 }, hasApm: false,
    });
    expect(sentences.map((s) => s.text)).toEqual([
      'No anomaly stands out in these logs.',
      'Logs cover 2024-01-02 00:00:00 UTC to 2024-01-02 01:00:00 UTC: 10 proxy requests, no APM export.',
    ]);
    expect(sentences[1]!.cites.map((c) => c.pointer)).toEqual(['/inputs/timeRange/from', '/inputs/timeRange/to', '/inputs/totals/proxyRecords']);
  });
});
