import { expect } from 'vitest';
import type { FormatDef } from '../../parsers/format.js';
import type { ParseIssue } from '../../src/model/parse-issue.js';
import type { ApmTransaction, LogRecord, ProxyRecord } from '../../src/model/records.js';

/** Runs a format's parser over lines the way ingest does, and returns everything it produced. */
export interface Parsed {
  records: LogRecord[];
  issues: ParseIssue[];
  ignored: number;
  /** File-level doubts; not skipped lines. */
  warnings: ParseIssue[];
}

export function parseLines(format: FormatDef, lines: readonly string[], keyField?: string, timeZone?: string): Parsed {
  const parsed: Parsed = { records: [], issues: [], ignored: 0, warnings: [] };
  const parser = format.createParser({ file: 'fixture.log', keyField, timeZone });
  const sink = {
    record: (record: LogRecord) => parsed.records.push(record),
    issue: (issue: ParseIssue) => parsed.issues.push(issue),
    ignore: () => { parsed.ignored++; },
    warn: (warning: ParseIssue) => parsed.warnings.push(warning),
  };
  lines.forEach((line, index) => parser.line(line, index + 1, sink));
  parser.end(sink);
  return parsed;
}

/**
 * A format's other lines (a proxy's own notices and error log on the same stream): each of
 * `others` is ignored while `request` still becomes a record, and each look-alike is an issue.
 */
export function expectOtherLinesIgnored(format: FormatDef, others: readonly string[], request: string, lookalikes: readonly string[]): void {
  const read = parseLines(format, [...others, request]);
  expect(read.issues.map((issue) => issue.message)).toEqual([]);
  expect([read.records.length, read.ignored]).toEqual([1, others.length]);
  const rejected = parseLines(format, lookalikes);
  expect([rejected.records.length, rejected.issues.length, rejected.ignored]).toEqual([0, lookalikes.length, 0]);
}

export function onlyProxy(format: FormatDef, line: string, keyField?: string): ProxyRecord {
  const { records, issues } = parseLines(format, [line], keyField);
  if (issues.length > 0) throw new Error(`unexpected issue: ${issues[0]!.message}`);
  const record = records[0];
  if (records.length !== 1 || record?.kind !== 'proxy') throw new Error(`expected one proxy record, got ${records.length}`);
  return record;
}

export function onlyApm(format: FormatDef, lines: readonly string[], timeZone?: string): ApmTransaction[] {
  const { records, issues } = parseLines(format, lines, undefined, timeZone);
  if (issues.length > 0) throw new Error(`unexpected issue: ${issues[0]!.message}`);
  return records.filter((record): record is ApmTransaction => record.kind === 'apm');
}
