import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXTENDED_LOG_FORMAT, generate, type GeneratedCounts, type InputKind } from './generate.js';
import { measureStartup, renderStartup } from './startup.js';
import { measureQueue, renderQueue } from './queue.js';

/**
 * `npm run bench`: alf end to end against a minimal Node baseline and GoAccess, as whole
 * processes in the same run, on seeded generated inputs. Every alf run is checked against the
 * generated counts (a fast wrong answer fails the bench). Medians of --runs runs, taken in rounds:
 * each round runs every scenario once, so a busy spell on the machine touches them alike.
 *
 *   --lines N        lines per input (default 2,000,000; the APM join uses N/2 against N/2)
 *   --runs R         runs per measurement (default 3)
 *   --big N          lines for the flat-memory check, piped from the generator (default 20,000,000; 0 skips)
 *   --cap MB         --max-memory for the flat-memory rows (default 200; 0 runs them uncapped): V8
 *                    grows its heap lazily, so uncapped peak RSS says more about V8 than about alf
 *   --dir DIR        where inputs are written (default .bench/, gitignored)
 *   --only a,b       only these scenarios (ids as printed)
 *   --readme         rewrite README.md's "Performance" table with this run's figures
 *   (queue)          the queued-scan rows (test/bench/queue.ts) on min(--lines, 400,000) lines, when /usr/bin/redis-server exists
 *
 * Wall time is what the targets are about, but this machine is shared, so each row also shows
 * CPU time (user + sys): a run slowed by a neighbour shows a wall/CPU gap, not a slower alf.
 */

const root = resolve(import.meta.dirname, '../..');
const ALF = join(root, 'dist/src/cli/main.js');
const GENERATOR = join(root, 'test/bench/generate.ts');
const TSX = join(root, 'node_modules/.bin/tsx');
const TIME = '/usr/bin/time';

interface Options {
  lines: number;
  runs: number;
  big: number;
  cap: number;
  dir: string;
  only: Set<string> | null;
  readme: boolean;
}

function parseOptions(argv: string[]): Options {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const number = (name: string, fallback: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} wants a whole number, not "${text}"`);
    return n;
  };
  const only = value('--only');
  return {
    lines: number('--lines', 2_000_000),
    runs: Math.max(1, number('--runs', 3)),
    big: number('--big', 20_000_000),
    cap: number('--cap', 200),
    dir: resolve(value('--dir') ?? join(root, '.bench')),
    only: only ? new Set(only.split(',')) : null,
    readme: argv.includes('--readme'),
  };
}

// ---------------------------------------------------------------- inputs

interface Input {
  path: string;
  counts: GeneratedCounts;
}

/** Generates an input once per (kind, lines, seed); later runs reuse it (a sidecar holds the counts). */
async function input(dir: string, kind: InputKind, lines: number, extension = 'log'): Promise<Input> {
  const path = join(dir, `${kind}-${lines}.${extension}`);
  const sidecar = `${path}.counts.json`;
  if (existsSync(path) && existsSync(sidecar)) {
    const counts = JSON.parse(readFileSync(sidecar, 'utf8')) as GeneratedCounts;
    if (statSync(path).size === counts.bytes) return { path, counts };
  }
  const started = performance.now();
  const counts = await generate(kind, lines, createWriteStream(path));
  writeFileSync(sidecar, JSON.stringify(counts));
  log(`generated ${path} (${counts.lines} lines, ${mb(counts.bytes)} MB) in ${seconds(performance.now() - started)} s`);
  return { path, counts };
}

// ---------------------------------------------------------------- measuring

interface Measured {
  wallMs: number;
  cpuMs: number;
  rssKb: number;
  stdout: string;
}

/**
 * Runs a command under /usr/bin/time -v (when present); wall from hrtime, CPU and peak RSS from time.
 * `feed` is a shell pipeline put before the command (generators), outside the timed process.
 */
function measure(command: string, args: readonly string[], feed?: string): Promise<Measured> {
  const timed = existsSync(TIME);
  let bin: string;
  let binArgs: string[];
  if (feed !== undefined) {
    bin = 'bash';
    binArgs = ['-o', 'pipefail', '-c', `${feed} ${timed ? `${TIME} -v ` : ''}${[command, ...args].map(quote).join(' ')}`];
  } else {
    [bin, binArgs] = timed ? [TIME, ['-v', command, ...args]] : [command, [...args]];
  }
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(bin, binArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { if (stdout.length < 1 << 20) stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000); });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`));
        return;
      }
      const field = (name: string): number => {
        const match = new RegExp(`${name}: ([0-9.]+)`).exec(stderr);
        return match ? Number(match[1]) : NaN;
      };
      const cpuMs = (field('User time \\(seconds\\)') + field('System time \\(seconds\\)')) * 1000;
      const rssKb = field('Maximum resident set size \\(kbytes\\)');
      resolvePromise({ wallMs, cpuMs, rssKb, stdout });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

interface Row {
  id: string;
  what: string;
  lines: number;
  bytes: number;
  wallMs: number;
  cpuMs: number;
  rssKb: number;
  note: string;
  /** Every run, in round order (runRounds): run i of two rows shared round i. */
  runs: Measured[];
}

const rows: Row[] = [];

interface Scenario {
  id: string;
  what: string;
  units: { lines: number; bytes: number };
  run: () => Promise<Measured>;
  check: (result: Measured) => string;
}

/** Timed scenarios, run together in rounds by runRounds(). */
const planned: Scenario[] = [];

function plan(
  options: Options, id: string, what: string, units: { lines: number; bytes: number },
  run: () => Promise<Measured>, check: (result: Measured) => string,
): void {
  if (options.only && !options.only.has(id)) return;
  planned.push({ id, what, units, run, check });
}

/**
 * Runs every scenario once per round, `runs` rounds, so that a neighbour who loads this shared
 * machine for a minute slows one run of each scenario rather than every run of one. Run one
 * scenario after the other, a busy spell had made alf look 0.91× the baseline it beat 1.11× in
 * the run before (median CPU time 4.35 s, with one run at 6.62 s).
 */
async function runRounds(runs: number, scenarios: readonly Scenario[]): Promise<void> {
  const results = scenarios.map(() => [] as Measured[]);
  const notes = scenarios.map(() => '');
  for (let round = 1; round <= runs; round++) {
    for (const [at, scenario] of scenarios.entries()) {
      const result = await scenario.run();
      // Every run is checked, not only the first: a flaky wrong answer must not hide in a median.
      notes[at] = scenario.check(result);
      results[at]!.push(result);
      log(`  ${scenario.id} run ${round}: ${seconds(result.wallMs)} s wall, ${seconds(result.cpuMs)} s CPU, ${Math.round(result.rssKb / 1024)} MB`);
    }
  }
  for (const [at, scenario] of scenarios.entries()) {
    const measured = results[at]!;
    const row: Row = {
      id: scenario.id, what: scenario.what, lines: scenario.units.lines, bytes: scenario.units.bytes,
      wallMs: median(measured.map((r) => r.wallMs)),
      cpuMs: median(measured.map((r) => r.cpuMs)),
      rssKb: median(measured.map((r) => r.rssKb)),
      note: notes[at]!,
      runs: measured,
    };
    rows.push(row);
    log(`${row.id}: ${rate(row.lines, row.wallMs)} lines/s, ${(row.bytes / 1e6 / (row.wallMs / 1000)).toFixed(1)} MB/s, ${Math.round(row.rssKb / 1024)} MB peak RSS ${row.note}`);
  }
}

/** One scenario measured once, now (the memory rows, whose inputs exist only for their run). */
async function measureOnce(
  options: Options, id: string, what: string, units: { lines: number; bytes: number },
  run: () => Promise<Measured>, check: (result: Measured) => string,
): Promise<void> {
  if (options.only && !options.only.has(id)) return;
  await runRounds(1, [{ id, what, units, run, check }]);
}

class BenchFailure extends Error {}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new BenchFailure(`wrong answer: ${message}`);
}

interface Report {
  inputs: { totals: { linesRead: number; records: number; skipped: number; proxyRecords: number; apmRecords: number } };
  join: { proxyRecords: number; apmRecords: number; joinedById: number; joinedHeuristic: number };
  findings: unknown[];
}

function checkAlfJson(out: string, expected: { lines: number; proxy: number; apm: number }): string {
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  const totals = report.inputs.totals;
  expect(totals.linesRead === expected.lines, `${out}: ${totals.linesRead} lines read, generated ${expected.lines}`);
  expect(totals.proxyRecords === expected.proxy, `${out}: ${totals.proxyRecords} proxy records, generated ${expected.proxy}`);
  expect(totals.apmRecords === expected.apm, `${out}: ${totals.apmRecords} APM records, generated ${expected.apm}`);
  expect(totals.skipped === 0, `${out}: ${totals.skipped} lines skipped`);
  expect(report.join.proxyRecords === expected.proxy, `${out}: the join saw ${report.join.proxyRecords} proxy records`);
  if (expected.apm > 0) {
    const joined = report.join.joinedById + report.join.joinedHeuristic;
    // Every APM row was generated from a proxy request: nearly all must find their partner.
    expect(joined >= 0.95 * expected.apm, `${out}: only ${joined} of ${expected.apm} transactions joined`);
    return `(${joined} pairs, ${((joined / expected.apm) * 100).toFixed(1)}% of transactions)`;
  }
  return `(${report.findings.length} findings)`;
}

function alfArgs(inputs: readonly string[], out: string, extra: readonly string[] = []): string[] {
  return [ALF, 'analyze', ...inputs, '--quiet', '--out', out, ...extra];
}

function alfSupports(flag: string): boolean {
  const help = spawnSync(process.execPath, [ALF, 'analyze', '--help'], { encoding: 'utf8' });
  return help.stdout.includes(flag);
}

function alfHasFormat(id: string): boolean {
  const formats = spawnSync(process.execPath, [ALF, 'formats'], { encoding: 'utf8' });
  return formats.stdout.split('\n').some((line) => line.startsWith(`${id} `));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(options.dir, { recursive: true });
  const outDir = join(options.dir, 'out');
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(ALF)) throw new Error(`${ALF} is missing: run \`npx tsc -p .\` first (npm run bench does)`);
  if (!existsSync(TIME)) log(`${TIME} is missing (apt-get install -y time): no CPU time or peak RSS`);
  const machine = machineLine();
  log(machine);

  const n = options.lines;
  const half = Math.floor(n / 2);
  const combined = await input(options.dir, 'combined', n);
  const extended = await input(options.dir, 'extended', n);
  const formatFile = join(options.dir, 'extended-nginx.conf');
  writeFileSync(formatFile, EXTENDED_LOG_FORMAT);
  const hasAlb = alfHasFormat('aws-alb');
  const alb = hasAlb ? await input(options.dir, 'alb', n) : null;
  if (!hasAlb) log('no aws-alb format in this build: ALB scenario skipped');
  const joinProxy = await input(options.dir, 'extended', half);
  const joinApm = await input(options.dir, 'newrelic', half, 'csv');
  const units = (i: Input): { lines: number; bytes: number } => ({ lines: i.counts.lines, bytes: i.counts.bytes });
  const expectProxy = (i: Input) => ({ lines: i.counts.lines, proxy: i.counts.records, apm: 0 });

  // alf end to end, JSON findings.
  const out = (name: string): string => join(outDir, name);
  plan(options, 'alf-combined', 'alf analyze, nginx combined, JSON', units(combined),
    () => measure(process.execPath, alfArgs([combined.path], out('combined.json'))),
    () => checkAlfJson(out('combined.json'), expectProxy(combined)));
  if (alfSupports('--jobs')) {
    plan(options, 'alf-combined-jobs2', 'alf analyze --jobs 2, nginx combined, JSON', units(combined),
      () => measure(process.execPath, alfArgs([combined.path], out('combined-jobs2.json'), ['--jobs', '2'])),
      () => checkAlfJson(out('combined-jobs2.json'), expectProxy(combined)));
  }
  plan(options, 'alf-combined-html', 'alf analyze, nginx combined, HTML', units(combined),
    () => measure(process.execPath, alfArgs([combined.path], out('combined.html'), ['--format', 'html'])),
    () => {
      const size = statSync(out('combined.html')).size;
      const html = readFileSync(out('combined.html'), 'utf8');
      // The report states the line count (grouped or not); a report about some other input fails.
      expect(html.includes(combined.counts.lines.toLocaleString('en-US')) || html.includes(String(combined.counts.lines)),
        `${out('combined.html')} does not mention ${combined.counts.lines} lines`);
      return `(${(size / 1e6).toFixed(2)} MB HTML)`;
    });
  plan(options, 'alf-extended', 'alf analyze, nginx extended (upstream lists), JSON', units(extended),
    () => measure(process.execPath, alfArgs([extended.path], out('extended.json'), ['--log-format', formatFile])),
    () => checkAlfJson(out('extended.json'), expectProxy(extended)));
  if (alb) {
    plan(options, 'alf-alb', 'alf analyze, AWS ALB, JSON', units(alb),
      () => measure(process.execPath, alfArgs([alb.path], out('alb.json'))),
      () => checkAlfJson(out('alb.json'), expectProxy(alb)));
    if (alfSupports('--jobs')) {
      // Where parsing dominates: the one file in line-aligned ranges, one per worker at a time.
      plan(options, 'alf-alb-jobs2', 'alf analyze --jobs 2, AWS ALB, JSON', units(alb),
        () => measure(process.execPath, alfArgs([alb.path], out('alb-jobs2.json'), ['--jobs', '2'])),
        () => checkAlfJson(out('alb-jobs2.json'), expectProxy(alb)));
    }
  }
  const joinExpected = { lines: joinProxy.counts.lines + joinApm.counts.lines, proxy: joinProxy.counts.records, apm: joinApm.counts.records };
  plan(options, 'alf-join', `alf analyze, extended + New Relic CSV joined (${fmt(half)} × ${fmt(joinApm.counts.records)}), JSON`,
    { lines: joinProxy.counts.lines, bytes: joinProxy.counts.bytes + joinApm.counts.bytes },
    () => measure(process.execPath, alfArgs([joinProxy.path], out('join.json'), ['--log-format', formatFile, '--apm', joinApm.path])),
    () => checkAlfJson(out('join.json'), joinExpected));
  if (alfSupports('--jobs')) {
    // Two files, one worker each (the proxy log is also split in ranges once it passes 64 MiB).
    plan(options, 'alf-join-jobs2', `alf analyze --jobs 2, extended + New Relic CSV joined, JSON`,
      { lines: joinProxy.counts.lines, bytes: joinProxy.counts.bytes + joinApm.counts.bytes },
      () => measure(process.execPath, alfArgs([joinProxy.path], out('join-jobs2.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--jobs', '2'])),
      () => checkAlfJson(out('join-jobs2.json'), joinExpected));
    // --jobs auto: the New Relic CSV in a worker, the nginx log (cheap to parse) on the main thread.
    plan(options, 'alf-join-jobs-auto', `alf analyze --jobs auto, extended + New Relic CSV joined, JSON`,
      { lines: joinProxy.counts.lines, bytes: joinProxy.counts.bytes + joinApm.counts.bytes },
      () => measure(process.execPath, alfArgs([joinProxy.path], out('join-jobs-auto.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--jobs', 'auto'])),
      () => checkAlfJson(out('join-jobs-auto.json'), joinExpected));
  }

  // The minimal Node baseline and GoAccess on the same combined input.
  plan(options, 'baseline', 'minimal Node baseline (indexOf split, 1 regex, per-path histogram)', units(combined),
    () => measure(process.execPath, [join(root, 'test/bench/baseline.mjs'), combined.path]),
    (result) => {
      const counts = JSON.parse(result.stdout) as { lines: number; matched: number };
      expect(counts.lines === combined.counts.lines && counts.matched === combined.counts.lines, `baseline matched ${counts.matched} of ${counts.lines}`);
      return '';
    });
  const goaccess = ['/usr/bin/goaccess', 'goaccess'].find((bin) => spawnSync(bin, ['--version']).status === 0);
  if (goaccess) {
    plan(options, 'goaccess', `GoAccess ${goaccessVersion(goaccess)} --log-format=COMBINED -o out.json`, units(combined),
      () => measure(goaccess, [combined.path, '--log-format=COMBINED', '--no-progress', '--no-global-config', '-o', out('goaccess.json')]),
      () => {
        const general = (JSON.parse(readFileSync(out('goaccess.json'), 'utf8')) as { general: { valid_requests: number } }).general;
        expect(general.valid_requests === combined.counts.lines, `GoAccess parsed ${general.valid_requests}`);
        return '';
      });
  } else {
    log('goaccess not installed: skipped');
  }

  await runRounds(options.runs, planned);

  // Flat memory: the same generator piped into alf, N and options.big lines, without and with the join.
  if (options.big > 0) await memoryRows(options, outDir);

  // Benches other engineers own, when present.
  const extras: string[] = [];
  for (const name of ['join.bench.ts', 'report-size.ts', 'memory-bombs.ts']) {
    const file = join(root, 'test/bench', name);
    if (!existsSync(file)) {
      log(`test/bench/${name} not present: skipped`);
      continue;
    }
    if (options.only && !options.only.has(name)) continue;
    log(`running test/bench/${name}`);
    const result = spawnSync(TSX, [file], { cwd: root, encoding: 'utf8', env: { ...process.env, BENCH_LINES: String(n), BENCH_DIR: options.dir } });
    extras.push(`### test/bench/${name}${result.status === 0 ? '' : ` (exit ${result.status})`}\n\n\`\`\`\n${(result.stdout + (result.status === 0 ? '' : result.stderr)).trim()}\n\`\`\``);
  }

  // Start-up of `alf --version` / `--help` against `node -e ''` (a small row of its own: no input).
  if (options.only?.has('queue') || (!options.only && existsSync('/usr/bin/redis-server'))) {
    // Opt-in by --only when redis-server is absent: the queued scan needs it.
    log('queue: alf scan --queue with 1 and 2 alf workers');
    extras.push(`### queued scan (alf scan --queue, alf worker)\n\n${renderQueue(await measureQueue(ALF, options.dir, Math.min(options.lines, 400_000), options.runs, log))}`);
  }
  if (!options.only || options.only.has('startup')) {
    log('measuring start-up');
    extras.push(`### start-up\n\n${renderStartup(measureStartup(ALF))}`);
  }

  const table = renderTable(machine, options);
  const text = [table, ...extras].join('\n\n');
  process.stdout.write(`\n${text}\n`);
  writeFileSync(join(options.dir, 'results.md'), `${text}\n`);
  writeFileSync(join(options.dir, 'results.json'), JSON.stringify({ machine, options: { ...options, only: options.only && [...options.only] }, rows }, null, 2));
  if (options.readme) writeReadme(table);
}

async function memoryRows(options: Options, outDir: string): Promise<void> {
  const sizes = [...new Set([options.lines, options.big])];
  const capArgs = options.cap > 0 ? ['--max-memory', String(options.cap)] : [];
  const capNote = options.cap > 0 ? `, --max-memory ${options.cap}` : '';
  for (const lines of sizes) {
    const id = `rss-${lines}`;
    const outFile = join(outDir, `${id}.json`);
    await measureOnce(options, id, `alf analyze - (combined piped from the generator, ${fmt(lines)} lines${capNote}), peak RSS`,
      { lines, bytes: NaN },
      () => measure(process.execPath, alfArgs(['-'], outFile, ['--input-format', 'nginx-combined', ...capArgs]), `${quote(TSX)} ${quote(GENERATOR)} combined --lines ${lines} 2>/dev/null |`),
      () => checkAlfJson(outFile, { lines, proxy: lines, apm: 0 }));
  }
  // With the join on: proxy and APM from two generator processes through named pipes.
  for (const lines of sizes) {
    const id = `rss-join-${lines}`;
    if (options.only && !options.only.has(id)) continue;
    const fifoDir = join(tmpdir(), `alf-bench-${process.pid}`);
    mkdirSync(fifoDir, { recursive: true });
    const proxyFifo = join(fifoDir, 'proxy.log');
    const apmFifo = join(fifoDir, 'apm.csv');
    const formatFile = join(options.dir, 'extended-nginx.conf');
    const outFile = join(outDir, `${id}.json`);
    const apmRows = await countApm(lines);
    try {
      await measureOnce(options, id, `alf analyze with the join (extended + New Relic piped, ${fmt(lines)} × ${fmt(apmRows)}${capNote}), peak RSS`,
        { lines, bytes: NaN },
        () => {
          rmSync(proxyFifo, { force: true });
          rmSync(apmFifo, { force: true });
          spawnSync('mkfifo', [proxyFifo, apmFifo]);
          const generator = (kind: string, fifo: string): string => `(${quote(TSX)} ${quote(GENERATOR)} ${kind} --lines ${lines} --out ${quote(fifo)} 2>/dev/null &);`;
          return measure(process.execPath, alfArgs([proxyFifo], outFile, ['--log-format', formatFile, '--apm', apmFifo, ...capArgs]),
            `${generator('extended', proxyFifo)} ${generator('newrelic', apmFifo)}`);
        },
        () => checkAlfJson(outFile, { lines: lines + apmRows + 1, proxy: lines, apm: apmRows }));
    } finally {
      rmSync(fifoDir, { recursive: true, force: true });
    }
  }
}

async function countApm(lines: number): Promise<number> {
  const { countApmRows } = await import('./generate.js');
  return countApmRows(lines);
}

// ---------------------------------------------------------------- output

function renderTable(machine: string, options: Options): string {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const alf = byId.get('alf-combined');
  const baseline = byId.get('baseline');
  const goaccess = byId.get('goaccess');
  const lines: string[] = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; \`npm run bench -- --lines ${options.lines} --runs ${options.runs}\`, medians.`,
    '',
    '| run | lines | wall s | lines/s | MB/s | CPU s | lines/CPU-s | peak RSS MB | × baseline | × GoAccess |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const perSecond = row.lines / (row.wallMs / 1000);
    const vsBaseline = baseline && row.id !== 'baseline' && !row.id.startsWith('rss') ? (baseline.wallMs / row.wallMs).toFixed(2) : '';
    const vsGoaccess = goaccess && row.id !== 'goaccess' && !row.id.startsWith('rss') ? (goaccess.wallMs / row.wallMs).toFixed(1) : '';
    lines.push(`| ${row.what} ${row.note} | ${fmt(row.lines)} | ${seconds(row.wallMs)} | ${fmt(Math.round(perSecond))} | ` +
      `${Number.isNaN(row.bytes) ? '' : (row.bytes / 1e6 / (row.wallMs / 1000)).toFixed(1)} | ${seconds(row.cpuMs)} | ` +
      `${Number.isNaN(row.cpuMs) ? '' : fmt(Math.round(row.lines / (row.cpuMs / 1000)))} | ${Math.round(row.rssKb / 1024)} | ${vsBaseline} | ${vsGoaccess} |`);
  }
  const summary: string[] = [];
  if (alf && baseline) {
    summary.push(`alf/baseline ${(baseline.wallMs / alf.wallMs).toFixed(2)}× (wall), ${(baseline.cpuMs / alf.cpuMs).toFixed(2)}× (CPU); ` +
      `median of each round's ratio ${byRound(baseline, alf, (b, a) => b.wallMs / a.wallMs).toFixed(2)}× (wall), ${byRound(baseline, alf, (b, a) => b.cpuMs / a.cpuMs).toFixed(2)}× (CPU)`);
  }
  if (alf && goaccess) summary.push(`alf/GoAccess ${(goaccess.wallMs / alf.wallMs).toFixed(1)}× (wall), ${(goaccess.cpuMs / alf.cpuMs).toFixed(1)}× (CPU)`);
  const jobsPairs = [
    ['alf-combined', 'alf-combined-jobs2', '--jobs 2 on nginx combined'], ['alf-alb', 'alf-alb-jobs2', '--jobs 2 on AWS ALB'],
    ['alf-join', 'alf-join-jobs2', '--jobs 2 on extended + New Relic joined'], ['alf-join', 'alf-join-jobs-auto', '--jobs auto on extended + New Relic joined'],
  ] as const;
  for (const [single, parallel, what] of jobsPairs) {
    const one = byId.get(single);
    const two = byId.get(parallel);
    if (one && two) summary.push(speedUp(what, one, two));
  }
  const html = byId.get('alf-combined-html');
  if (alf && html) {
    // The two runs of a round follow each other, so their difference is the report's cost with
    // the machine's load of that moment; the difference of two medians mixes different moments.
    const added = byRound(html, alf, (h, a) => h.wallMs - a.wallMs);
    const addedCpu = byRound(html, alf, (h, a) => h.cpuMs - a.cpuMs);
    summary.push(`HTML instead of JSON adds ${seconds(added)} s wall (${((added / html.wallMs) * 100).toFixed(1)}% of the HTML run) and ` +
      `${seconds(addedCpu)} s CPU (${((addedCpu / html.cpuMs) * 100).toFixed(1)}%), medians of each round's difference`);
  }
  const small = byId.get(`rss-${options.lines}`);
  const big = byId.get(`rss-${options.big}`);
  if (small && big && small !== big) summary.push(`peak RSS ${fmt(options.big)} / ${fmt(options.lines)} lines: ${(big.rssKb / small.rssKb).toFixed(2)}×`);
  const smallJoin = byId.get(`rss-join-${options.lines}`);
  const bigJoin = byId.get(`rss-join-${options.big}`);
  const capped = options.cap > 0 ? ` (--max-memory ${options.cap})` : ' (uncapped)';
  if (smallJoin && bigJoin && smallJoin !== bigJoin) summary.push(`peak RSS with the join on, ${fmt(options.big)} / ${fmt(options.lines)} lines: ${(bigJoin.rssKb / smallJoin.rssKb).toFixed(2)}×${capped}`);
  if (bigJoin) summary.push(`peak RSS with the join on ${fmt(options.big)} lines: ${Math.round(bigJoin.rssKb / 1024)} MB${capped}`);
  return [...lines, '', ...summary.map((s) => `- ${s}`)].join('\n');
}

/** Workers against `--jobs 1` in the same run, from the medians: wall time, and what it cost in CPU and memory. */
/** The median over rounds of `value` on one row's run and the other's in the same round. */
function byRound(a: Row, b: Row, value: (x: Measured, y: Measured) => number): number {
  const rounds = Math.min(a.runs.length, b.runs.length);
  return median(Array.from({ length: rounds }, (_, i) => value(a.runs[i]!, b.runs[i]!)));
}

function speedUp(what: string, single: Row, parallel: Row): string {
  return `${what}: speed-up ${(single.wallMs / parallel.wallMs).toFixed(2)}× (wall ${seconds(single.wallMs)} → ${seconds(parallel.wallMs)} s), ` +
    `CPU ${seconds(single.cpuMs)} → ${seconds(parallel.cpuMs)} s, peak RSS ${Math.round(single.rssKb / 1024)} → ${Math.round(parallel.rssKb / 1024)} MB`;
}

const README_START = '<!-- bench:start (npm run bench -- --readme) -->';
const README_END = '<!-- bench:end -->';

function writeReadme(table: string): void {
  const path = join(root, 'README.md');
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) {
    log(`README.md has no ${README_START} … ${README_END} block: not updated`);
    return;
  }
  writeFileSync(path, `${text.slice(0, start + README_START.length)}\n${table}\n${text.slice(end)}`);
  log('README.md Performance table updated');
}

function machineLine(): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown CPU';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim() || String(cpus().length);
  return `nproc ${nproc}, ${cpu.trim()}, Node ${process.version}`;
}

function goaccessVersion(bin: string): string {
  return /GoAccess - ([0-9.]+)/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout)?.[1]?.replace(/\.$/, '') ?? '';
}

function quote(word: string): string {
  return /^[\w./:=-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
function seconds(ms: number): string {
  return Number.isNaN(ms) ? '' : (ms / 1000).toFixed(2);
}
function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}
function rate(lines: number, ms: number): string {
  return fmt(Math.round(lines / (ms / 1000)));
}
function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof BenchFailure ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exit(1);
});
