import type { ParseIssue } from '../src/model/parse-issue.js';
import type { LogRecord } from '../src/model/records.js';
import type { FormatDef, ParserOptions, RecordParser, RecordSink } from './format.js';
import { findFormat } from './registry.js';

/**
 * A file's parser that hands a line not of its format's shape (PARSE_NO_MATCH, PARSE_BAD_JSON) to
 * the formats the same software writes instead (FormatDef.siblings), before counting it skipped.
 * An operator who switches Traefik's access log from CLF to JSON leaves a file of both: its 25 CLF
 * lines were skipped as "not valid JSON" (geraldcroes/adeo-dev-summit-2018, Traefik 1.6). A line of
 * the right shape with a bad value stays an issue. The sink is one object for every line: nothing
 * is allocated on a line its own format reads.
 */
export function withSiblings(format: FormatDef, parser: RecordParser, options: ParserOptions): RecordParser {
  const ids = format.siblings ?? [];
  if (ids.length === 0 || format.traits.unit !== 'line') return parser;
  let siblings: RecordParser[] | null = null;
  let target: RecordSink | null = null;
  let failed: ParseIssue | null = null;
  const intercept: RecordSink = {
    record: (record) => target!.record(record),
    issue: (issue) => {
      if (failed === null && (issue.code === 'PARSE_NO_MATCH' || issue.code === 'PARSE_BAD_JSON')) failed = issue;
      else target!.issue(issue);
    },
    ignore: (line) => target!.ignore(line),
    warn: (warning) => target!.warn(warning),
    extra: (line) => target!.extra?.(line),
    declined: (line) => target!.declined?.(line),
  };
  let found: LogRecord | null = null;
  const probe: RecordSink = {
    record: (record) => { found = record; },
    issue: () => undefined,
    ignore: () => undefined,
    warn: () => undefined,
  };
  return {
    line(text, lineNumber, sink) {
      target = sink;
      failed = null;
      parser.line(text, lineNumber, intercept);
      if (failed === null) return;
      siblings ??= ids.map((id) => findFormat(id)).filter((def): def is FormatDef => def !== undefined).map((def) => def.createParser(options));
      for (const sibling of siblings) {
        found = null;
        sibling.line(text, lineNumber, probe);
        if (found !== null) {
          sink.record(found);
          return;
        }
      }
      sink.issue(failed);
    },
    end: (sink) => parser.end(sink),
  };
}
