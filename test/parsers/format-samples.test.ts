import { describe, expect, it } from 'vitest';
import { detectFirstLines, detectFormat } from '../../parsers/detect.js';
import type { ExampleFields } from '../../parsers/format.js';
import { FORMATS } from '../../parsers/registry.js';
import type { LogRecord } from '../../src/model/records.js';
import { parseLines } from './parse-lines.js';

/**
 * Each format module carries its example with the fields it must read (parsers/*.ts,
 * `exampleFields`): one test reads every example with its own format, and detection must pick
 * that format for it among all of them. Real lines from other projects: real-corpus.integration.test.ts.
 */

function fieldsOf(record: LogRecord, expected: ExampleFields): ExampleFields {
  const common = { start: new Date(record.startMs).toISOString(), status: record.status, method: record.method, path: record.path };
  if (record.kind === 'apm') return { ...common, ...('durationMs' in expected ? { durationMs: record.durationMs } : {}) };
  return {
    ...common,
    ...('client' in expected ? { client: record.clientIp } : {}),
    ...('upstreamStatus' in expected ? { upstreamStatus: record.upstreamStatus } : {}),
  };
}

describe('every format\'s own example', () => {
  it.each(FORMATS.map((format) => [format.id, format] as const))('%s: reads as its module says, and is detected as itself', (id, format) => {
    expect(format.exampleFields, `${id} declares the fields of its example`).toBeDefined();
    const lines = format.example.split('\n');
    const { records, issues } = parseLines(format, lines);
    expect(issues).toEqual([]);
    expect(fieldsOf(records[0]!, format.exampleFields!)).toEqual(format.exampleFields);
    expect(detectFormat(FORMATS, 'example', lines).best?.format.id).toBe(id);
  });

  const real = FORMATS.flatMap((format) => (format.realSamples ?? []).map((sample, index) => [`${format.id} #${index + 1} (${sample.source.project})`, format, sample] as const));
  it.each(real)('%s: a real sample reads as its module says', (_name, format, sample) => {
    expect(sample.source.commit).toMatch(/^[0-9a-f]{40}$/);
    const { records, issues } = parseLines(format, sample.lines);
    expect(issues).toEqual([]);
    expect(fieldsOf(records[0]!, sample.fields)).toEqual(sample.fields);
    expect(detectFirstLines(FORMATS, 'sample', sample.lines).best?.format.id).toBe(sample.detectedAs ?? format.id);
  });

  it('most formats carry real samples; the rest are explained in test/fixtures/real/README.md', () => {
    const withSamples = FORMATS.filter((format) => (format.realSamples ?? []).length > 0).length;
    expect(withSamples).toBeGreaterThanOrEqual(12);
  });
});
