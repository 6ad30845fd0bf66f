import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Memory bombs (issue 25): peak RSS of `alf scan` and `alf analyze` on a 2 GiB file without a
 * newline (sparse: no disk used) and on a 3 MB gzip that inflates to 3 GiB of zeros, against the
 * same commands on a one-line file. Bounded means the bombs cost about what the small file
 * costs; before the line cap applied while reading, scan peaked at 2.2 GB and 3.3 GB on them.
 * Run by run.ts (or alone: `npx tsx test/bench/memory-bombs.ts`, after `npm run build`).
 */

const root = resolve(import.meta.dirname, '../..');
const ALF = join(root, 'dist/src/cli/main.js');
const TIME = '/usr/bin/time';
const dir = resolve(process.env.BENCH_DIR ?? join(root, '.bench'), 'bombs');
/** A bomb run over this peak RSS fails the bench: about 3x what alf needs for a small file. */
const LIMIT_MB = 512;

interface Run {
  exitCode: number | null;
  seconds: number;
  rssMb: number;
}

function timed(args: readonly string[]): Promise<Run> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(TIME, ['-v', process.execPath, ALF, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000); });
    child.on('error', fail);
    child.on('close', () => {
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const status = /Exit status: (\d+)/.exec(stderr);
      done({ exitCode: status ? Number(status[1]) : null, seconds: (performance.now() - started) / 1000, rssMb: rss ? Number(rss[1]) / 1024 : NaN });
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(ALF)) throw new Error(`${ALF} is missing: npm run build first`);
  if (!existsSync(TIME)) throw new Error(`${TIME} is missing (apt-get install -y time)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const small = join(dir, 'one-line.log');
  writeFileSync(small, '127.0.0.1 - - [15/Jan/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"\n');
  const noNewline = join(dir, 'no-newline.log');
  const fd = openSync(noNewline, 'w');
  writeSync(fd, Buffer.from('x'), 0, 1, 2 * 1024 ** 3 - 1); // 2 GiB, sparse
  closeSync(fd);
  const gzipBomb = join(dir, 'zeros.log.gz');
  const member = gzipSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 }); // concatenated members inflate one after another
  writeFileSync(gzipBomb, Buffer.concat(Array.from({ length: 48 }, () => member)));

  const inputs = [['one-line file', small], ['2 GiB without newline', noNewline], [`gzip of zeros (${(48 * member.length / 1e6).toFixed(1)} MB -> 3 GiB)`, gzipBomb]] as const;
  const lines = ['| input | scan peak RSS MB | scan exit | scan s | analyze peak RSS MB | analyze exit | analyze s |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  const failures: string[] = [];
  for (const [name, path] of inputs) {
    const scan = await timed(['scan', path, '--state', join(dir, `${name.length}-state.json`), '--out', join(dir, `${name.length}-out`), '--quiet']);
    const analyze = await timed(['analyze', path, '--format', 'json', '--quiet', '--out', join(dir, `${name.length}.json`)]);
    lines.push(`| ${name} | ${scan.rssMb.toFixed(0)} | ${scan.exitCode} | ${scan.seconds.toFixed(1)} | ${analyze.rssMb.toFixed(0)} | ${analyze.exitCode} | ${analyze.seconds.toFixed(1)} |`);
    for (const [command, run] of [['scan', scan], ['analyze', analyze]] as const) {
      if (!(run.rssMb < LIMIT_MB)) failures.push(`${command} on ${name}: peak RSS ${run.rssMb.toFixed(0)} MB (limit ${LIMIT_MB})`);
    }
    // Nothing in a bomb is a log line: the scan says so (exit 2) rather than reporting all clear.
    if (path !== small && scan.exitCode !== 2) failures.push(`scan on ${name}: exit ${scan.exitCode}, expected 2`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
  if (failures.length > 0) {
    process.stderr.write(`memory bombs: ${failures.join('; ')}\n`);
    process.exit(1);
  }
}

void main();
