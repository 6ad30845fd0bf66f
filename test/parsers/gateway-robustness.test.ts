import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROXY_FORMATS } from '../../parsers/proxy-formats.js';
import { parseLines } from './parse-lines.js';

/**
 * Logs are attacker-controlled: whatever a line holds, a parser must emit a record, an issue or
 * an ignore for it — never throw, never drop it silently, never hang on a crafted line.
 */
const accountedFor = (id: string, lines: string[]): void => {
  const format = PROXY_FORMATS.find((candidate) => candidate.id === id)!;
  const { records, issues, ignored } = parseLines(format, lines);
  // Apache duration variants may add one end-of-file warning about implausible units.
  const extra = id.startsWith('apache-combined-') ? 1 : 0;
  expect(records.length + issues.length + ignored).toBeGreaterThanOrEqual(lines.length);
  expect(records.length + issues.length + ignored).toBeLessThanOrEqual(lines.length + extra);
};

describe('gateway parsers on hostile input', () => {
  it.each(PROXY_FORMATS.map((format) => [format.id, format.example] as const))('%s: mutated examples never throw', (id, example) => {
    fc.assert(fc.property(
      fc.nat(example.length), fc.nat(example.length), fc.string({ maxLength: 8 }),
      (cut, at, insert) => {
        accountedFor(id, [example.slice(0, cut), example.slice(0, at) + insert + example.slice(at)]);
      },
    ), { numRuns: 150 });
  });

  it.each(PROXY_FORMATS.map((format) => [format.id] as const))('%s: JSON of any shape never throws', (id) => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
      accountedFor(id, [JSON.stringify(value) ?? 'null']);
    }), { numRuns: 100 });
  });

  it('stays linear on long runs of quotes, backslashes and brackets', () => {
    const nasty = ['"\\'.repeat(50_000), '[ '.repeat(50_000), ' "'.repeat(50_000), `{"a":${'['.repeat(5000)}`];
    const started = performance.now();
    for (const format of PROXY_FORMATS) accountedFor(format.id, nasty);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
