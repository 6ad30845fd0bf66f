import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { runCliAsync } from '../hostile/hostile-cli.js';
import { BUILT_MAIN } from '../layers/built-cli.js';
import { ROOT, runCli } from './run-cli.js';

const SLOW = { timeout: 90_000 };
const dir = mkdtempSync(join(tmpdir(), 'alf-outputs-'));

describe('outputs are checked before any work', SLOW, () => {
  // stdin stays open and empty: a run that started reading it would never end, so an exit here
  // shows that alf stopped before reading a line (runCliAsync kills it after the time limit).
  const cases: [string, string[], RegExp][] = [
    ['--out in a missing directory', ['analyze', '-', '-o', '/missing-dir/x.html'], /^alf: cannot write --out \/missing-dir\/x\.html: no such directory$/],
    ['--out naming a directory', ['analyze', '-', '--format', 'html', '-o', dir], /^alf: cannot write --out .*: is a directory$/],
    ['--out in a directory where no file can be made', ['analyze', '-', '-o', '/proc/x.html'], /^alf: cannot write --out \/proc\/x\.html: cannot create a file in that directory$/],
    ['--out under a file', ['analyze', '-', '-o', '/etc/hostname/x.json'], /^alf: cannot write --out .*: a part of the path is not a directory$/],
    ['--joined in a missing directory', ['analyze', '-', '--joined', '/missing-dir/pairs.csv'], /^alf: cannot write --joined \/missing-dir\/pairs\.csv: no such directory$/],
    ['an unknown --out extension', ['analyze', '-', '--out', join(dir, 'report.pdf')], /^alf: --out .*report\.pdf: unknown extension \.pdf; use \.html, \.md, \.json or \.txt, or say which with --format$/],
    ['an --out without extension', ['analyze', '-', '--out', join(dir, 'report')], /no extension/],
    ['scan --out where no directory can be made', ['scan', 'samples/incident', '--state', join(dir, 'state.json'), '--out', '/proc/alf-out'], /^alf: cannot write --out \/proc\/alf-out: no such directory$/],
    ['merge --out under a file', ['merge', join(dir, 'part0'), '--out', '/etc/hostname/merged'], /^alf: cannot write --out \/etc\/hostname\/merged: a part of the path is not a directory$/],
  ];
  for (const [what, args, message] of cases) {
    it(`exits 2 at once with one line for ${what}`, async () => {
      const run = await runCliAsync(args, 30_000);
      expect(run.signal).toBeNull();
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr.trimEnd()).toMatch(message);
    });
  }

  it('leaves no file behind when it checked a path it would create', () => {
    const target = join(dir, 'never-written.html');
    const result = runCli(['analyze', 'no/such/input.log', '--out', target]);
    expect(result.status).toBe(2);
    expect(spawnSync('test', ['-e', target]).status).toBe(1);
  });

  it('writes a .txt --out as the plain terminal summary, with no colour codes even when colour is forced', () => {
    const out = join(dir, 'summary.txt');
    const result = runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '-q', '--out', out], { env: { FORCE_COLOR: '1' } });
    expect(result.status).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^Verdict\n {2}\S/);
    expect(text).not.toContain('\u001b');
  });
});

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a shell would. */
function onTerminal(args: string[], env: Record<string, string>): string {
  const command = [process.execPath, BUILT_MAIN, ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  const result = spawnSync('script', ['-qec', `stty cols 120; ${command}`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...base, ...env } });
  return result.stdout.replace(/\r/g, '');
}

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('the terminal summary', SLOW, () => {
  const analysis = JSON.parse(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--format', 'json', '-q']).stdout) as Analysis;

  it('prints the verdict and every finding (severity, title, a figure) instead of JSON when stdout is a terminal', () => {
    const screen = onTerminal(['analyze', 'samples/incident', '--budget', '600s/5m', '-q'], { TERM: 'xterm-256color', NO_COLOR: '1' });
    expect(screen).not.toMatch(/^\s*\{/m);
    expect(screen).toMatch(/^Verdict\n {2}Clients \(mostly "newrelic exporter"\) give up/m);
    const lines = screen.split('\n');
    analysis.findings.forEach((finding, i) => {
      const line = lines.find((l) => l.startsWith(`${String(i + 1).padStart(4)}. ${finding.severity.toUpperCase()}`));
      expect(line, finding.title).toBeDefined();
      expect(line).toContain(finding.title.slice(0, 30));
    });
    // The knee's line carries its figure: how many requests hit it.
    const knee = analysis.findings.find((f) => f.kind === 'client-timeout-knee')!;
    expect(screen).toContain(`requests at knee ${Number(knee.figures.requestsAtKnee).toLocaleString('en-US')}`);
    // Severities most severe first in the counts.
    expect(screen).toMatch(/Findings \(3 high, 4 low, 3 info\)/);
  });

  it('colours severities on a terminal unless NO_COLOR, FORCE_COLOR=0 or TERM=dumb says not to', () => {
    const args = ['analyze', 'samples/incident', '--budget', '600s/5m', '-q'];
    expect(onTerminal(args, { TERM: 'xterm' })).toContain('\u001b[1;31mHIGH');
    for (const env of [{ TERM: 'xterm', NO_COLOR: '1' }, { TERM: 'xterm', FORCE_COLOR: '0' }, { TERM: 'dumb' }] as Record<string, string>[]) {
      const screen = onTerminal(args, env);
      expect(screen, JSON.stringify(env)).toContain('HIGH');
      // eslint-disable-next-line no-control-regex
      expect(screen, JSON.stringify(env)).not.toMatch(/\u001b\[[\d;]*m/);
    }
  });

  it('adds the verdict and findings to the stderr summary when the report went to a file', () => {
    const out = join(dir, 'tty.html');
    const screen = onTerminal(['analyze', 'samples/incident', '--budget', '600s/5m', '--out', out], { TERM: 'dumb' });
    expect(screen).toMatch(/alf: 9,801 lines read, 9,800 parsed, 0 skipped, 1 ignored; findings: 3 high, 4 low, 3 info; report written to/);
    expect(screen).toMatch(/^Verdict$/m);
    expect(screen).toMatch(/^ {3}1\. HIGH/m);
    // TERM=dumb: no progress bar drawn either.
    expect(screen).not.toContain('alf reading');
  });

  it('sets a file\'s warning apart from its skipped count, which it does not explain', () => {
    // A combined log whose lines carry one more quoted field than combined has, and one broken line.
    const log = join(dir, 'extra-field.log');
    const line = '198.51.100.7 - - [15/Jan/2025:10:32:01 +0000] "GET /v1/orders HTTP/1.1" 200 512 "-" "okhttp/4.12.0" "-" "curl/7.54.0"';
    writeFileSync(log, `${line}\n${line}\n "Python-urllib/2.7"\n`);
    const run = runCli(['analyze', log, '--format', 'json', '-o', join(dir, 'extra-field.json')]);
    expect(run.stderr).toContain('3 lines read, 2 parsed, 1 skipped; warning: text after the last field of the log_format, kept out of the known fields (first seen here): "curl/7.54.0";');
    expect(run.stderr).not.toContain('""curl');
  });

  it('still writes JSON to a pipe, as the README documents', () => {
    const piped = runCli(['analyze', 'samples/formats/aws-alb.log', '-q']);
    expect(JSON.parse(piped.stdout)).toHaveProperty('findings');
  });
});

describe('slicing on the command line', SLOW, () => {
  const msecs = readFileSync(join(ROOT, 'samples', 'incident', 'access.log'), 'utf8').trim().split('\n').map((line) => line.split('|'));

  it('keeps the requests logged between --since and --until, as counted in the log itself', () => {
    const since = Date.parse('2017-03-14T09:05:00Z');
    const until = Date.parse('2017-03-14T09:30:00Z');
    const expected = msecs.filter(([msec]) => Number(msec) * 1000 >= since && Number(msec) * 1000 < until).length;
    const result = runCli(['analyze', 'samples/incident', '--since', '2017-03-14 09:05', '--until', '2017-03-14T09:30:00Z', '--format', 'json']);
    expect(result.status).toBe(0);
    const analysis = JSON.parse(result.stdout) as Analysis;
    expect(analysis.slice).toMatchObject({ since: '2017-03-14T09:05:00.000Z', until: '2017-03-14T09:30:00.000Z', proxyKept: expected, proxyOutside: msecs.length - expected });
    expect(analysis.join.proxyRecords).toBe(expected);
    for (const row of analysis.charts.timeline) {
      expect(Date.parse(row.time)).toBeGreaterThanOrEqual(since - 60_000);
      expect(Date.parse(row.time)).toBeLessThan(until);
    }
    // The partners of the kept requests are not lost at the edges: the join stays as good as on the whole log.
    expect(analysis.join.joinedHeuristic / expected).toBeGreaterThan(0.95);
    expect(result.stderr).toMatch(new RegExp(`alf: slice since 2017-03-14T09:05:00Z, until 2017-03-14T09:30:00Z: ${expected.toLocaleString('en-US')} proxy requests kept of 4,941`));
  });

  it('keeps one status class and one key, and the findings describe that slice alone', () => {
    const fourXx = msecs.filter((fields) => fields[1]!.startsWith('4') && fields[12] === 'key_3xp0rt3r').length;
    const analysis = JSON.parse(runCli(['analyze', 'samples/incident', '--budget', '600s/5m', '--where', 'status=4xx', '--where', 'key=key_3xp0rt3r', '--format', 'json', '-q']).stdout) as Analysis;
    expect(analysis.slice!.proxyKept).toBe(fourXx);
    expect(new Set(analysis.charts.timeline.map((row) => row.series))).toEqual(new Set(['all 4xx', 'no upstream 404', 'no upstream 499'].filter((s) => analysis.charts.timeline.some((row) => row.series === s))));
    expect(analysis.charts.timeline.every((row) => row.series.includes('4'))).toBe(true);
    const perKey = analysis.findings.find((f) => f.kind === 'budget-per-key')!;
    expect(perKey.table!.rows.map((row) => row[0])).toEqual(['key_3xp0rt3r']);
  });

  it('refuses a bad clause or time before reading anything, with one line and exit 2', () => {
    for (const args of [['--where', 'host=x'], ['--since', 'yesterday'], ['--since', '2017-03-14T10:00', '--until', '2017-03-14T09:00']]) {
      const result = runCli(['analyze', 'samples/incident', ...args]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
  });

  it('takes the same options in alf scan, and shows the --where slice in each window\'s report', () => {
    const out = join(dir, 'scan-out');
    const state = join(dir, 'scan-state.json');
    const result = runCli(['scan', 'samples/incident', '--state', state, '--out', out, '--since', '2017-03-14T09:30Z', '--where', 'status=5xx', '-q']);
    expect(result.status, result.stderr).toBe(0);
    const window = JSON.parse(readFileSync(join(out, 'alf-20170314T0900Z.json'), 'utf8')) as Analysis;
    const expected = msecs.filter(([msec, status]) => Number(msec) * 1000 >= Date.parse('2017-03-14T09:30:00Z') && status!.startsWith('5')).length;
    expect(window.slice).toMatchObject({ where: ['status=5xx'], proxyKept: expected });
    expect(window.join.proxyRecords).toBe(expected);
    expect(readFileSync(join(out, 'alf-20170314T0900Z.html'), 'utf8')).toContain('status=5xx');
  });
});
