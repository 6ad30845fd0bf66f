import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXTENDED_LOG_FORMAT, generate, PROFILES, type GeneratedCounts, type InputKind, type Profile } from './generate.js';
import { measureStartup, renderStartup } from './startup.js';
import { measureQueue, renderQueue } from './queue.js';

/**
 * `npm run bench`: alf end to end against a minimal Node baseline and GoAccess, as whole
 * processes in the same run, on seeded generated inputs. Every alf run is checked against the
 * generated counts (a fast wrong answer fails the bench). Medians of --runs runs, taken in rounds:
 * each round runs every scenario once, so a busy spell on the machine touches them alike.
 *
 *   --lines N        lines per input (default 1,000,000; the APM join uses N/2 against N/2)
 *   --runs R         runs per measurement (default 3)
 *   --profile P,Q    generated traffic (test/bench/generate.ts): standard (few distinct addresses,
 *                    paths and agents), high (production-like cardinality, issue 26); default both
 *   --input FILE     bench alf, the bare loop, the first baseline and GoAccess on this log instead
 *                    (read as nginx combined by all but alf; their counts are shown, not checked)
 *   --big N          lines for the flat-memory check, piped from the generator (default 0: skipped,
 *                    it takes longer than the rest together; 20000000 is the issue's figure)
 *   --extras         also run the other benches (join.bench.ts, report-size.ts, memory-bombs.ts)
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
  profiles: Profile[];
  input: string | null;
  extras: boolean;
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
  const profiles = (value('--profile') ?? PROFILES.join(',')).split(',');
  for (const profile of profiles) if (!(PROFILES as readonly string[]).includes(profile)) throw new Error(`--profile wants ${PROFILES.join(', ')}, not "${profile}"`);
  const inputFile = value('--input');
  if (inputFile !== undefined && !existsSync(inputFile)) throw new Error(`--input ${inputFile}: no such file`);
  return {
    lines: number('--lines', 1_000_000),
    runs: Math.max(1, number('--runs', 3)),
    profiles: profiles as Profile[],
    input: inputFile === undefined ? null : resolve(inputFile),
    extras: argv.includes('--extras'),
    big: number('--big', 0),
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

/** Generates an input once per (kind, lines, profile); later runs reuse it (a sidecar holds the counts). */
async function input(dir: string, kind: InputKind, lines: number, profile: Profile, extension = 'log'): Promise<Input> {
  const path = join(dir, `${kind}${profile === 'standard' ? '' : `-${profile}`}-${lines}.${extension}`);
  const sidecar = `${path}.counts.json`;
  if (existsSync(path) && existsSync(sidecar)) {
    const counts = JSON.parse(readFileSync(sidecar, 'utf8')) as GeneratedCounts;
    if (statSync(path).size === counts.bytes) return { path, counts };
  }
  const started = performance.now();
  const counts = await generate(kind, lines, createWriteStream(path), 42, profile);
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
/** Lines for the summary that are not measurements (a tool missing on this machine). */
const notes: string[] = [];

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
  // --only takes an id as printed (alf-scan@high) or without its profile (alf-scan: every profile).
  if (options.only && !options.only.has(id) && !options.only.has(id.split('@')[0]!)) return;
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
  const formatFile = join(options.dir, 'extended-nginx.conf');
  writeFileSync(formatFile, EXTENDED_LOG_FORMAT);

  if (options.input !== null) await planInput(options, options.input, outDir);
  else for (const profile of options.profiles) await planProfile(options, profile, outDir, formatFile);

  await runRounds(options.runs, planned);

  // Flat memory: the same generator piped into alf, N and options.big lines, without and with the join.
  if (options.big > 0 && options.input === null) for (const profile of options.profiles) await memoryRows(options, outDir, profile);

  // Benches other engineers own, when present.
  const extras: string[] = [];
  for (const name of ['join.bench.ts', 'report-size.ts', 'memory-bombs.ts']) {
    const file = join(root, 'test/bench', name);
    if (!existsSync(file)) {
      log(`test/bench/${name} not present: skipped`);
      continue;
    }
    if (!options.only?.has(name) && (options.only || !options.extras)) continue;
    log(`running test/bench/${name}`);
    const result = spawnSync(TSX, [file], { cwd: root, encoding: 'utf8', env: { ...process.env, BENCH_LINES: String(options.lines), BENCH_DIR: options.dir } });
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

const units = (i: Input): { lines: number; bytes: number } => ({ lines: i.counts.lines, bytes: i.counts.bytes });
const expectProxy = (i: Input) => ({ lines: i.counts.lines, proxy: i.counts.records, apm: 0 });

/** Every timed scenario of one generated profile; ids end in @profile. */
async function planProfile(options: Options, profile: Profile, outDir: string, formatFile: string): Promise<void> {
  const n = options.lines;
  const half = Math.floor(n / 2);
  const at = (id: string): string => `${id}@${profile}`;
  const wanted = (id: string): boolean => !options.only || options.only.has(id) || options.only.has(at(id));
  const combined = await input(options.dir, 'combined', n, profile);
  const extended = await input(options.dir, 'extended', n, profile);
  const hasAlb = alfHasFormat('aws-alb');
  const alb = hasAlb && (wanted('alf-alb') || wanted('alf-alb-jobs2')) ? await input(options.dir, 'alb', n, profile) : null;
  const joinProxy = await input(options.dir, 'extended', half, profile);
  const joinApm = await input(options.dir, 'newrelic', half, profile, 'csv');
  const out = (name: string): string => join(outDir, `${profile}-${name}`);
  const add = (id: string, what: string, u: { lines: number; bytes: number }, run: () => Promise<Measured>, check: (result: Measured) => string): void =>
    plan(options, at(id), `${what} [${profile}]`, u, run, check);

  // alf end to end, JSON findings.
  add('alf-combined', 'alf analyze, nginx combined, JSON', units(combined),
    () => measure(process.execPath, alfArgs([combined.path], out('combined.json'))),
    () => checkAlfJson(out('combined.json'), expectProxy(combined)));
  if (alfSupports('--jobs')) {
    add('alf-combined-jobs2', 'alf analyze --jobs 2, nginx combined, JSON', units(combined),
      () => measure(process.execPath, alfArgs([combined.path], out('combined-jobs2.json'), ['--jobs', '2'])),
      () => checkAlfJson(out('combined-jobs2.json'), expectProxy(combined)));
  }
  add('alf-combined-html', 'alf analyze, nginx combined, HTML', units(combined),
    () => measure(process.execPath, alfArgs([combined.path], out('combined.html'), ['--format', 'html'])),
    () => {
      const size = statSync(out('combined.html')).size;
      const html = readFileSync(out('combined.html'), 'utf8');
      // The report states the line count (grouped or not); a report about some other input fails.
      expect(html.includes(combined.counts.lines.toLocaleString('en-US')) || html.includes(String(combined.counts.lines)),
        `${out('combined.html')} does not mention ${combined.counts.lines} lines`);
      return `(${(size / 1e6).toFixed(2)} MB HTML)`;
    });
  add('alf-extended', 'alf analyze, nginx extended (upstream lists), JSON', units(extended),
    () => measure(process.execPath, alfArgs([extended.path], out('extended.json'), ['--log-format', formatFile])),
    () => checkAlfJson(out('extended.json'), expectProxy(extended)));
  if (alb) {
    add('alf-alb', 'alf analyze, AWS ALB, JSON', units(alb),
      () => measure(process.execPath, alfArgs([alb.path], out('alb.json'))),
      () => checkAlfJson(out('alb.json'), expectProxy(alb)));
    if (alfSupports('--jobs')) {
      // Where parsing dominates: the one file in line-aligned ranges, one per worker at a time.
      add('alf-alb-jobs2', 'alf analyze --jobs 2, AWS ALB, JSON', units(alb),
        () => measure(process.execPath, alfArgs([alb.path], out('alb-jobs2.json'), ['--jobs', '2'])),
        () => checkAlfJson(out('alb-jobs2.json'), expectProxy(alb)));
    }
  }
  const joinExpected = { lines: joinProxy.counts.lines + joinApm.counts.lines, proxy: joinProxy.counts.records, apm: joinApm.counts.records };
  const joinUnits = { lines: joinProxy.counts.lines, bytes: joinProxy.counts.bytes + joinApm.counts.bytes };
  add('alf-join', `alf analyze, extended + New Relic CSV joined (${fmt(half)} × ${fmt(joinApm.counts.records)}), JSON`, joinUnits,
    () => measure(process.execPath, alfArgs([joinProxy.path], out('join.json'), ['--log-format', formatFile, '--apm', joinApm.path])),
    () => checkAlfJson(out('join.json'), joinExpected));
  // The founding case's own run: a worker-time budget replayed per key, both ways.
  add('alf-join-budget', 'alf analyze --budget 600s/5m, extended + New Relic CSV joined, JSON', joinUnits,
    () => measure(process.execPath, alfArgs([joinProxy.path], out('join-budget.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--budget', '600s/5m'])),
    () => checkAlfJson(out('join-budget.json'), joinExpected));
  // The same two inputs read and parsed, nothing joined or detected: the join's yardstick (a hidden option).
  add('alf-join-parse-only', 'alf analyze --parse-only, the joined run\'s two inputs', joinUnits,
    () => measure(process.execPath, alfArgs([joinProxy.path], out('join-parse.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--parse-only'])),
    () => checkParsedJson(out('join-parse.json'), joinExpected));
  if (alfSupports('--jobs')) {
    // Two files, one worker each (the proxy log is also split in ranges once it passes 64 MiB).
    add('alf-join-jobs2', 'alf analyze --jobs 2, extended + New Relic CSV joined, JSON', joinUnits,
      () => measure(process.execPath, alfArgs([joinProxy.path], out('join-jobs2.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--jobs', '2'])),
      () => checkAlfJson(out('join-jobs2.json'), joinExpected));
    // --jobs auto: the New Relic CSV in a worker, the nginx log (cheap to parse) on the main thread.
    add('alf-join-jobs-auto', 'alf analyze --jobs auto, extended + New Relic CSV joined, JSON', joinUnits,
      () => measure(process.execPath, alfArgs([joinProxy.path], out('join-jobs-auto.json'), ['--log-format', formatFile, '--apm', joinApm.path, '--jobs', 'auto'])),
      () => checkAlfJson(out('join-jobs-auto.json'), joinExpected));
  }

  // The scheduled path over the combined input cut into 24 files (hourly rotation), against analyze over the same files.
  const rotated = rotatedCopy(options.dir, combined, 24);
  add('alf-analyze-dir', 'alf analyze over the combined input in 24 rotated files, JSON', units(combined),
    () => measure(process.execPath, alfArgs([rotated], out('rotated.json'))),
    () => checkAlfJson(out('rotated.json'), expectProxy(combined)));
  // A directory of many files (a log's rotations over months, a bucket): each read when the merge reaches it.
  const many = rotatedCopy(options.dir, combined, 250);
  add('alf-analyze-files', 'alf analyze over the combined input in 250 files, JSON', units(combined),
    () => measure(process.execPath, alfArgs([many], out('files.json'))),
    () => checkAlfJson(out('files.json'), expectProxy(combined)));
  const scanOut = out('scan');
  add('alf-scan', 'alf scan (first run) over the same 24 files', units(combined),
    () => {
      rmSync(scanOut, { recursive: true, force: true });
      return measure(process.execPath, [ALF, 'scan', rotated, '--state', join(scanOut, 'state.json'), '--out', scanOut, '--quiet']);
    },
    () => checkScan(scanOut, combined.counts.records));
  // Like for like with analyze's one JSON report: per-window JSON only, no charts drawn (scan --format json).
  const scanJsonOut = out('scan-json');
  add('alf-scan-json', 'alf scan --format json (first run) over the same 24 files', units(combined),
    () => {
      rmSync(scanJsonOut, { recursive: true, force: true });
      return measure(process.execPath, [ALF, 'scan', rotated, '--state', join(scanJsonOut, 'state.json'), '--out', scanJsonOut, '--format', 'json', '--quiet']);
    },
    () => checkScan(scanJsonOut, combined.counts.records));
  if (wanted('alf-merge')) {
    // Two shards scanned once (not timed), then merged in every round.
    const shards = [0, 1].map((i) => out(`shard-${i}`));
    for (const [i, shard] of shards.entries()) {
      rmSync(shard, { recursive: true, force: true });
      const scanned = spawnSync(process.execPath, [ALF, 'scan', rotated, '--state', join(shard, 'state.json'), '--out', shard, '--shard', `${i}/2`, '--quiet'], { encoding: 'utf8' });
      if (scanned.status !== 0) throw new Error(`alf scan --shard ${i}/2 exited ${scanned.status}: ${scanned.stderr.slice(-2000)}`);
    }
    const merged = out('merged');
    add('alf-merge', 'alf merge of 2 shards of the same scan', units(combined),
      () => {
        rmSync(merged, { recursive: true, force: true });
        return measure(process.execPath, [ALF, 'merge', ...shards, '--out', merged, '--quiet']);
      },
      () => checkScan(merged, combined.counts.records));
  }

  planBaselines(options, at, profile, combined, extended, out);
}

/** The bare loops, the first baseline and GoAccess on one combined (and extended) input. */
function planBaselines(options: Options, at: (id: string) => string, label: string, combined: Input, extended: Input | null, out: (name: string) => string): void {
  const add = (id: string, what: string, u: { lines: number; bytes: number }, run: () => Promise<Measured>, check: (result: Measured) => string): void =>
    plan(options, at(id), `${what} [${label}]`, u, run, check);
  const countsMatch = (input: Input, name: string) => (result: Measured): string => {
    const counts = JSON.parse(result.stdout) as { lines: number; matched: number };
    expect(counts.lines === input.counts.lines && counts.matched === input.counts.records, `${name} matched ${counts.matched} of ${counts.lines}`);
    return '';
  };
  add('bare-combined', 'bare Node loop (indexOf, latin1Slice, 1 regex, per-second time cache, per-path histograms)', units(combined),
    () => measure(process.execPath, [join(root, 'test/bench/bare-loop.mjs'), 'combined', combined.path]), countsMatch(combined, 'the bare loop'));
  if (extended) {
    add('bare-pipe', 'bare Node loop, extended with split(\'|\')', units(extended),
      () => measure(process.execPath, [join(root, 'test/bench/bare-loop.mjs'), 'pipe', extended.path]), countsMatch(extended, 'the bare split loop'));
  }
  add('baseline', 'minimal Node baseline (indexOf split, UTF-8 per line, 1 regex, per-path histogram)', units(combined),
    () => measure(process.execPath, [join(root, 'test/bench/baseline.mjs'), combined.path]), countsMatch(combined, 'the baseline'));
  const goaccess = ['/usr/bin/goaccess', 'goaccess'].find((bin) => spawnSync(bin, ['--version']).status === 0);
  if (goaccess) {
    add('goaccess', `GoAccess ${goaccessVersion(goaccess)} --log-format=COMBINED -o out.json`, units(combined),
      () => measure(goaccess, [combined.path, '--log-format=COMBINED', '--no-progress', '--no-global-config', '-o', out('goaccess.json')]),
      () => {
        const general = (JSON.parse(readFileSync(out('goaccess.json'), 'utf8')) as { general: { valid_requests: number } }).general;
        expect(general.valid_requests === combined.counts.records, `GoAccess parsed ${general.valid_requests}`);
        return '';
      });
  } else {
    log('goaccess not installed: its rows say so');
    notes.push(`GoAccess: not installed on this machine (apt-get install goaccess), no GoAccess row [${label}]`);
  }
}

/** `--input FILE`: alf, the bare loops and GoAccess on a log the user points at (read as nginx combined by the loops and GoAccess). */
async function planInput(options: Options, file: string, outDir: string): Promise<void> {
  const lines = countLines(file);
  const counts: GeneratedCounts = { requests: lines, lines, records: lines, bytes: statSync(file).size };
  const given: Input = { path: file, counts };
  const out = (name: string): string => join(outDir, `input-${name}`);
  const at = (id: string): string => `${id}@input`;
  plan(options, at('alf-combined'), `alf analyze ${file}, JSON [input]`, units(given),
    () => measure(process.execPath, alfArgs([file], out('alf.json'))),
    () => {
      const report = JSON.parse(readFileSync(out('alf.json'), 'utf8')) as Report;
      expect(report.inputs.totals.linesRead === lines, `alf read ${report.inputs.totals.linesRead} of ${lines} lines`);
      return `(${report.inputs.totals.skipped} lines skipped, ${report.findings.length} findings)`;
    });
  // A user's log may hold lines the loops' regex and GoAccess reject: their counts are reported, not checked.
  const lenient = (name: string) => (result: Measured): string => {
    const c = JSON.parse(result.stdout) as { lines: number; matched: number };
    return `(${name} matched ${c.matched} of ${c.lines})`;
  };
  plan(options, at('bare-combined'), 'bare Node loop (indexOf, latin1Slice, 1 regex, per-second time cache, per-path histograms) [input]', units(given),
    () => measure(process.execPath, [join(root, 'test/bench/bare-loop.mjs'), 'combined', file]), lenient('the loop'));
  plan(options, at('baseline'), 'minimal Node baseline (indexOf split, UTF-8 per line, 1 regex, per-path histogram) [input]', units(given),
    () => measure(process.execPath, [join(root, 'test/bench/baseline.mjs'), file]), lenient('the baseline'));
  const goaccess = ['/usr/bin/goaccess', 'goaccess'].find((bin) => spawnSync(bin, ['--version']).status === 0);
  if (goaccess) {
    plan(options, at('goaccess'), `GoAccess ${goaccessVersion(goaccess)} --log-format=COMBINED [input]`, units(given),
      () => measure(goaccess, [file, '--log-format=COMBINED', '--no-progress', '--no-global-config', '-o', out('goaccess.json')]),
      () => `(${(JSON.parse(readFileSync(out('goaccess.json'), 'utf8')) as { general: { valid_requests: number } }).general.valid_requests} valid)`);
  } else {
    notes.push('GoAccess: not installed on this machine, no GoAccess row [input]');
  }
}

function countLines(file: string): number {
  let lines = 0;
  let last = 10;
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      for (let at = buffer.indexOf(10, 0); at >= 0 && at < n; at = buffer.indexOf(10, at + 1)) lines++;
      last = buffer[n - 1]!;
    }
  } finally {
    closeSync(fd);
  }
  return last === 10 ? lines : lines + 1;
}

/**
 * The input cut into `files` consecutive pieces named as logrotate names them (access.log.23 the
 * oldest ... access.log), made once beside the input.
 */
function rotatedCopy(dir: string, source: Input, files: number): string {
  const target = files === 24 ? `${source.path}.rotated` : `${source.path}.files${files}`;
  const done = join(target, '.complete');
  if (existsSync(done)) return target;
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const text = readFileSync(source.path);
  const per = Math.ceil(source.counts.lines / files);
  let at = 0;
  for (let i = 0; i < files; i++) {
    let end = at;
    for (let k = 0; k < per && end < text.length; k++) {
      const newline = text.indexOf(10, end);
      end = newline < 0 ? text.length : newline + 1;
    }
    const age = files - 1 - i;
    writeFileSync(join(target, age === 0 ? 'access.log' : `access.log.${age}`), text.subarray(at, end));
    at = end;
  }
  writeFileSync(done, '');
  void dir;
  return target;
}

interface ScanIndex {
  windows?: { records?: number }[];
}

/** A scan's or merge's out directory: every record of the input counted once over its windows. */
function checkScan(outDir: string, records: number): string {
  const reports = readdirSync(outDir).filter((name) => name.endsWith('.json') && name !== 'state.json');
  let proxy = 0;
  let windows = 0;
  for (const name of reports) {
    const report = JSON.parse(readFileSync(join(outDir, name), 'utf8')) as Partial<Report> & ScanIndex;
    if (report.inputs?.totals === undefined) continue;
    proxy += report.inputs.totals.proxyRecords;
    windows++;
  }
  expect(proxy === records, `${outDir}: ${proxy} proxy records over ${windows} window reports, generated ${records}`);
  return `(${windows} windows)`;
}

function checkParsedJson(out: string, expected: { lines: number; proxy: number; apm: number }): string {
  const totals = (JSON.parse(readFileSync(out, 'utf8')) as Report).inputs.totals;
  expect(totals.linesRead === expected.lines && totals.proxyRecords === expected.proxy && totals.apmRecords === expected.apm,
    `${out}: parse-only read ${totals.linesRead} lines, ${totals.proxyRecords} proxy records, ${totals.apmRecords} transactions`);
  return '';
}

/** Lines of the smaller flat-memory run (the issue compares 20 M against 2 M). */
const MEMORY_SMALL_LINES = 2_000_000;

async function memoryRows(options: Options, outDir: string, profile: Profile): Promise<void> {
  const sizes = [...new Set([MEMORY_SMALL_LINES, options.big])];
  const capArgs = options.cap > 0 ? ['--max-memory', String(options.cap)] : [];
  const capNote = options.cap > 0 ? `, --max-memory ${options.cap}` : '';
  const generatorArgs = (kind: string, lines: number): string => `${quote(TSX)} ${quote(GENERATOR)} ${kind} --lines ${lines} --profile ${profile}`;
  for (const lines of sizes) {
    const id = `rss-${lines}@${profile}`;
    const outFile = join(outDir, `${profile}-rss-${lines}.json`);
    await measureOnce(options, id, `alf analyze - (combined piped from the generator, ${fmt(lines)} lines${capNote}), peak RSS [${profile}]`,
      { lines, bytes: NaN },
      () => measure(process.execPath, alfArgs(['-'], outFile, ['--input-format', 'nginx-combined', ...capArgs]), `${generatorArgs('combined', lines)} 2>/dev/null |`),
      () => checkAlfJson(outFile, { lines, proxy: lines, apm: 0 }));
  }
  // With the join on: proxy and APM from two generator processes through named pipes.
  for (const lines of sizes) {
    const id = `rss-join-${lines}@${profile}`;
    if (options.only && !options.only.has(id)) continue;
    const fifoDir = join(tmpdir(), `alf-bench-${process.pid}`);
    mkdirSync(fifoDir, { recursive: true });
    const proxyFifo = join(fifoDir, 'proxy.log');
    const apmFifo = join(fifoDir, 'apm.csv');
    const formatFile = join(options.dir, 'extended-nginx.conf');
    const outFile = join(outDir, `${profile}-rss-join-${lines}.json`);
    const apmRows = await countApm(lines, profile);
    try {
      await measureOnce(options, id, `alf analyze with the join (extended + New Relic piped, ${fmt(lines)} × ${fmt(apmRows)}${capNote}), peak RSS [${profile}]`,
        { lines, bytes: NaN },
        () => {
          rmSync(proxyFifo, { force: true });
          rmSync(apmFifo, { force: true });
          spawnSync('mkfifo', [proxyFifo, apmFifo]);
          const generator = (kind: string, fifo: string): string => `(${generatorArgs(kind, lines)} --out ${quote(fifo)} 2>/dev/null &);`;
          return measure(process.execPath, alfArgs([proxyFifo], outFile, ['--log-format', formatFile, '--apm', apmFifo, ...capArgs]),
            `${generator('extended', proxyFifo)} ${generator('newrelic', apmFifo)}`);
        },
        () => checkAlfJson(outFile, { lines: lines + apmRows + 1, proxy: lines, apm: apmRows }));
    } finally {
      rmSync(fifoDir, { recursive: true, force: true });
    }
  }
}

async function countApm(lines: number, profile: Profile): Promise<number> {
  const { countApmRows } = await import('./generate.js');
  return countApmRows(lines, 42, profile);
}

// ---------------------------------------------------------------- output

function renderTable(machine: string, options: Options): string {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const command = options.input !== null ? `--input ${options.input}` : `--lines ${options.lines} --profile ${options.profiles.join(',')}`;
  const lines: string[] = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; \`npm run bench -- ${command} --runs ${options.runs}\`, medians.`,
    '',
    '| run | lines | wall s | lines/s | MB/s | CPU s | lines/CPU-s | peak RSS MB | × bare loop (CPU) | × baseline | × GoAccess |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const [id, profile] = row.id.split('@') as [string, string | undefined];
    const sibling = (name: string): Row | undefined => byId.get(`${name}@${profile}`);
    const baseline = sibling('baseline');
    const goaccess = sibling('goaccess');
    // Rows on the extended format (and the joins, whose proxy side is extended) against the split('|') loop.
    const bare = /extended|join/.test(id) ? sibling('bare-pipe') : id.startsWith('alf-combined') || id === 'goaccess' || id === 'baseline' ? sibling('bare-combined') : undefined;
    const timed = !id.startsWith('rss') && !id.startsWith('bare') && !id.startsWith('alf-scan') && id !== 'alf-merge' && id !== 'alf-analyze-dir' && id !== 'alf-analyze-files';
    const vsBare = bare && timed ? (bare.cpuMs / row.cpuMs).toFixed(2) : '';
    const vsBaseline = baseline && timed && id !== 'baseline' ? (baseline.wallMs / row.wallMs).toFixed(2) : '';
    const vsGoaccess = goaccess && timed && id !== 'goaccess' ? (goaccess.wallMs / row.wallMs).toFixed(1) : '';
    const perSecond = row.lines / (row.wallMs / 1000);
    lines.push(`| ${row.what} ${row.note} | ${fmt(row.lines)} | ${seconds(row.wallMs)} | ${fmt(Math.round(perSecond))} | ` +
      `${Number.isNaN(row.bytes) ? '' : (row.bytes / 1e6 / (row.wallMs / 1000)).toFixed(1)} | ${seconds(row.cpuMs)} | ` +
      `${Number.isNaN(row.cpuMs) ? '' : fmt(Math.round(row.lines / (row.cpuMs / 1000)))} | ${Math.round(row.rssKb / 1024)} | ${vsBare} | ${vsBaseline} | ${vsGoaccess} |`);
  }
  const summary: string[] = [...notes];
  const profiles = options.input !== null ? ['input'] : options.profiles;
  for (const profile of profiles) {
    const get = (name: string): Row | undefined => byId.get(`${name}@${profile}`);
    const tag = `[${profile}]`;
    const ratio = (what: string, slow: Row | undefined, fast: Row | undefined, target: string): void => {
      if (!slow || !fast) return;
      summary.push(`${tag} ${what}: ${(fast.cpuMs / slow.cpuMs).toFixed(2)}× (CPU), ${(fast.wallMs / slow.wallMs).toFixed(2)}× (wall); ` +
        `median of each round's ratio ${byRound(fast, slow, (f, s) => f.cpuMs / s.cpuMs).toFixed(2)}× (CPU), ${byRound(fast, slow, (f, s) => f.wallMs / s.wallMs).toFixed(2)}× (wall) (${target})`);
    };
    ratio('alf/bare loop, combined', get('alf-combined'), get('bare-combined'), 'target ≥ 0.9');
    ratio('alf/bare split loop, extended', get('alf-extended'), get('bare-pipe'), 'target ≥ 0.9');
    ratio('alf/first baseline, combined', get('alf-combined'), get('baseline'), 'UTF-8 per line');
    ratio('alf/GoAccess', get('alf-combined'), get('goaccess'), 'target ≥ 10 on 1 M high-cardinality lines');
    const join = get('alf-join');
    const parse = get('alf-join-parse-only');
    if (join && parse) {
      summary.push(`${tag} the join's CPU over parsing both inputs alone: ${(join.cpuMs / parse.cpuMs).toFixed(2)}× (${seconds(join.cpuMs)} against ${seconds(parse.cpuMs)} s; ` +
        `median of each round's ratio ${byRound(join, parse, (j, p) => j.cpuMs / p.cpuMs).toFixed(2)}×; target ≤ 1.4)`);
    }
    const files = get('alf-analyze-files');
    const single = get('alf-combined');
    if (files && single) {
      summary.push(`${tag} alf analyze of the combined input in 250 files over one file: ${(files.cpuMs / single.cpuMs).toFixed(2)}× (CPU, ${seconds(files.cpuMs)} against ${seconds(single.cpuMs)} s), ` +
        `${(files.wallMs / single.wallMs).toFixed(2)}× (wall), peak RSS ${Math.round(single.rssKb / 1024)} -> ${Math.round(files.rssKb / 1024)} MB`);
    }
    const scan = get('alf-scan');
    const dir = get('alf-analyze-dir');
    const merge = get('alf-merge');
    if (scan && dir) {
      summary.push(`${tag} first alf scan (JSON and HTML per window) over analyze (JSON), same 24 files: ${(scan.cpuMs / dir.cpuMs).toFixed(2)}× (CPU, ${seconds(scan.cpuMs)} against ${seconds(dir.cpuMs)} s), ` +
        `${(scan.wallMs / dir.wallMs).toFixed(2)}× (wall); median of each round's ratio ${byRound(scan, dir, (a, b) => a.cpuMs / b.cpuMs).toFixed(2)}× (CPU; target ≤ 1.5)`);
    }
    const scanJson = get('alf-scan-json');
    if (scanJson && dir) {
      summary.push(`${tag} first alf scan --format json over analyze (JSON), same 24 files: ${(scanJson.cpuMs / dir.cpuMs).toFixed(2)}× (CPU, ${seconds(scanJson.cpuMs)} against ${seconds(dir.cpuMs)} s), ` +
        `${(scanJson.wallMs / dir.wallMs).toFixed(2)}× (wall); median of each round's ratio ${byRound(scanJson, dir, (a, b) => a.cpuMs / b.cpuMs).toFixed(2)}× (CPU; target ≤ 1.5)`);
    }
    if (scan && merge) {
      summary.push(`${tag} alf merge of 2 shards over the unsharded scan: ${(merge.cpuMs / scan.cpuMs).toFixed(2)}× (CPU, ${seconds(merge.cpuMs)} against ${seconds(scan.cpuMs)} s; target ≤ 0.5)`);
    }
    const jobsPairs = [
      ['alf-combined', 'alf-combined-jobs2', '--jobs 2 on nginx combined'], ['alf-alb', 'alf-alb-jobs2', '--jobs 2 on AWS ALB'],
      ['alf-join', 'alf-join-jobs2', '--jobs 2 on extended + New Relic joined'], ['alf-join', 'alf-join-jobs-auto', '--jobs auto on extended + New Relic joined'],
    ] as const;
    for (const [single, parallel, what] of jobsPairs) {
      const one = get(single);
      const two = get(parallel);
      if (one && two) summary.push(`${tag} ${speedUp(what, one, two)}`);
    }
    const alf = get('alf-combined');
    const html = get('alf-combined-html');
    if (alf && html) {
      // The two runs of a round follow each other, so their difference is the report's cost with
      // the machine's load of that moment; the difference of two medians mixes different moments.
      const added = byRound(html, alf, (h, a) => h.wallMs - a.wallMs);
      const addedCpu = byRound(html, alf, (h, a) => h.cpuMs - a.cpuMs);
      summary.push(`${tag} HTML instead of JSON adds ${seconds(added)} s wall (${((added / html.wallMs) * 100).toFixed(1)}% of the HTML run) and ` +
        `${seconds(addedCpu)} s CPU (${((addedCpu / html.cpuMs) * 100).toFixed(1)}%), medians of each round's difference`);
    }
    const joined = get('alf-join');
    const budgeted = get('alf-join-budget');
    if (joined && budgeted) {
      const addedCpu = byRound(budgeted, joined, (b, j) => b.cpuMs - j.cpuMs);
      summary.push(`${tag} --budget 600s/5m adds ${seconds(addedCpu)} s CPU to the joined run (${((addedCpu / budgeted.cpuMs) * 100).toFixed(1)}% of it; ` +
        `peak RSS ${Math.round(joined.rssKb / 1024)} -> ${Math.round(budgeted.rssKb / 1024)} MB), median of each round's difference`);
    }
    const small = get(`rss-${MEMORY_SMALL_LINES}`);
    const big = get(`rss-${options.big}`);
    if (small && big && small !== big) summary.push(`${tag} peak RSS ${fmt(options.big)} / ${fmt(MEMORY_SMALL_LINES)} lines: ${(big.rssKb / small.rssKb).toFixed(2)}×`);
    const smallJoin = get(`rss-join-${MEMORY_SMALL_LINES}`);
    const bigJoin = get(`rss-join-${options.big}`);
    const capped = options.cap > 0 ? ` (--max-memory ${options.cap})` : ' (uncapped)';
    if (smallJoin && bigJoin && smallJoin !== bigJoin) summary.push(`${tag} peak RSS with the join on, ${fmt(options.big)} / ${fmt(MEMORY_SMALL_LINES)} lines: ${(bigJoin.rssKb / smallJoin.rssKb).toFixed(2)}×${capped} (target ≤ 1.15)`);
  }
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
