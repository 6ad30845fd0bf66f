import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFormat, FORMATS } from '../../parsers/registry.js';
import type { ParseIssue } from '../../src/model/parse-issue.js';
import type { LogRecord } from '../../src/model/records.js';
import { MAIN, ROOT } from '../cli/run-cli.js';

/**
 * Real lines, as the real software wrote them, from public sources whose licence allows copying
 * (test/fixtures/real/README.md). Each fixture names its source and, per line, what alf must read
 * from it, or why the line cannot be read. Every line goes through its format's parser, and every
 * file through `alf detect`.
 */

const DIR = join(ROOT, 'test', 'fixtures', 'real');

interface Expected {
  start: string | null; end: string | null; method: string | null; path: string | null; query: string | null;
  status: number | null; requestMs: number | null; upstreamMs: number | null; upstreamStatus: number | null;
  upstreamAddr: string | null; client: string | null; userAgent: string | null; host: string | null; requestId: string | null;
}

/** What an APM transaction must hold: start in UTC, duration in ms, and the request it served. */
interface ExpectedTransaction {
  start: string; durationMs: number; name: string | null; method: string | null; path: string | null; status: number | null;
  userAgent: string | null; host: string | null; traceId: string | null; requestId: string | null;
}

type FixtureLine =
  | { line: string; expect: Expected }
  | { line: string; fails: { field: string | null; reason: string } }
  /** A line the software writes that is no record (a notice, a TCP session), counted as ignored; `why` says what it is. */
  | { line: string; ignored: true; why?: string }
  /** A line of a document (pretty-printed JSON, a CSV row): what it yields is in the fixture's `records`. */
  | { line: string };

interface Fixture {
  title: string;
  source: { project: string; path: string; commit: string; licence: string; url: string };
  /** The format the lines are read as. */
  format: string;
  /** What `alf detect` says for the whole file: a format id, or null for "no known format fits" (see `note`). */
  detect: string | null;
  note?: string;
  /** File-level warnings (codes), in order. */
  warnings: string[];
  lines: FixtureLine[];
  /** Document formats: every record the file yields, in order (lines then carry no `expect` of their own). */
  records?: (Expected | ExpectedTransaction)[];
}

const LICENCES = new Set(['Apache-2.0', 'MIT', 'BSD-2-Clause', 'BSD-3-Clause', 'MPL-2.0', 'CC-BY-SA-4.0']);

const fixtures = readdirSync(DIR).filter((name) => name.endsWith('.json')).sort()
  .map((name) => ({ name, fixture: JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Fixture }));

const iso = (ms: number): string | null => (Number.isNaN(ms) ? null : new Date(ms).toISOString());

function fieldsOf(record: LogRecord): Expected | ExpectedTransaction {
  if (record.kind === 'apm') {
    return {
      start: new Date(record.startMs).toISOString(), durationMs: record.durationMs, name: record.name, method: record.method, path: record.path,
      status: record.status, userAgent: record.userAgent, host: record.host, traceId: record.traceId, requestId: record.requestId,
    };
  }
  return {
    start: iso(record.startMs), end: iso(record.endMs), method: record.method, path: record.path, query: record.query,
    status: record.status, requestMs: record.requestTimeMs, upstreamMs: record.upstreamTimeMs, upstreamStatus: record.upstreamStatus,
    upstreamAddr: record.upstreamAddr, client: record.clientIp, userAgent: record.userAgent, host: record.host, requestId: record.requestId,
  };
}

describe('real lines from public sources', () => {
  it('holds at least 100 lines, each file with its provenance under a licence that allows copying', () => {
    const lines = fixtures.reduce((sum, { fixture }) => sum + fixture.lines.length, 0);
    expect(lines).toBeGreaterThanOrEqual(100);
    for (const { name, fixture } of fixtures) {
      expect(fixture.source.project, name).not.toBe('');
      expect(fixture.source.commit, name).not.toBe('');
      expect(fixture.source.url, name).toMatch(/^https:\/\//);
      expect(LICENCES.has(fixture.source.licence), `${name}: ${fixture.source.licence}`).toBe(true);
      expect(findFormat(fixture.format), `${name}: format ${fixture.format}`).toBeDefined();
    }
  });

  it('has real lines for every format alf claims, or says in its README why none could be copied', () => {
    const covered = new Set(fixtures.map(({ fixture }) => fixture.format));
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    const notes = readme.slice(readme.indexOf('## Formats without real lines'));
    for (const format of FORMATS) {
      if (covered.has(format.id)) continue;
      expect(notes, `${format.id}: no fixture, and no note in test/fixtures/real/README.md`).toMatch(new RegExp(`^- \\x60${format.id}\\x60: `, 'm'));
    }
  });

  it.each(fixtures.map(({ name, fixture }) => [name, fixture] as const))('%s: every line read as its software wrote it, or failing for its stated reason', (name, fixture) => {
    const parser = findFormat(fixture.format)!.createParser({ file: name });
    const records = new Map<number, LogRecord>();
    const inOrder: LogRecord[] = [];
    const issues = new Map<number, ParseIssue>();
    const ignored = new Set<number>();
    const warnings: string[] = [];
    const sink = {
      record: (record: LogRecord) => { records.set(record.line, record); inOrder.push(record); },
      issue: (issue: ParseIssue) => issues.set(issue.line, issue),
      ignore: (lineNumber: number) => ignored.add(lineNumber),
      warn: (warning: ParseIssue) => warnings.push(warning.code),
    };
    fixture.lines.forEach(({ line }, index) => parser.line(line, index + 1, sink));
    parser.end(sink);
    fixture.lines.forEach((entry, index) => {
      const at = `${name} line ${index + 1}: ${entry.line.slice(0, 80)}`;
      if ('expect' in entry) {
        expect(issues.get(index + 1)?.message, at).toBeUndefined();
        expect(fieldsOf(records.get(index + 1)!), at).toEqual(entry.expect);
      } else if ('fails' in entry) {
        expect(records.has(index + 1), at).toBe(false);
        expect(issues.get(index + 1)?.field, at).toBe(entry.fails.field);
      } else if ('ignored' in entry) {
        expect(ignored.has(index + 1), at).toBe(true);
      } else {
        expect(fixture.records, `${at}: a document line needs the fixture's records`).toBeDefined();
        expect(issues.get(index + 1)?.message, at).toBeUndefined();
      }
    });
    if (fixture.records !== undefined) expect(inOrder.map(fieldsOf)).toEqual(fixture.records);
    expect(warnings).toEqual(fixture.warnings);
  });

  it('alf detect names each file\'s format, or says that none fits where the fixture explains why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-real-'));
    const files = fixtures.map(({ name, fixture }) => {
      const path = join(dir, name.replace(/\.json$/, '.log'));
      writeFileSync(path, fixture.lines.map((entry) => entry.line).join('\n') + '\n');
      return path;
    });
    const run = spawnSync(process.execPath, [MAIN, 'detect', ...files], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const said = new Map(run.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
    fixtures.forEach(({ name, fixture }, index) => {
      const verdict = said.get(files[index]!) ?? '';
      if (fixture.detect === null) {
        expect(fixture.note, `${name} must say why no format fits`).toBeDefined();
        // Where it failed, or, for a file of a server's lines that hold no HTTP request, that.
        expect(verdict, name).toMatch(/^(?:no known format fits; closest is \S+ \(\d+%\), failing at line \d+|no request in its first \d+ lines: all are of the kind a server writes besides its requests)/);
      } else {
        expect(verdict.split(' ')[0], name).toBe(fixture.detect);
      }
    });
    expect(run.status).toBe(fixtures.some(({ fixture }) => fixture.detect === null) ? 2 : 0);
  });
});
