import { spawnSync } from 'node:child_process';

/**
 * Start-up time: `alf --version` and `alf --help` against `node -e ''` on the same machine, in
 * rounds (each round runs all three once, so a busy moment slows all alike), medians of wall
 * time. The target: within 1.5× of Node's own start. `npm run bench` prints this as a block;
 * `tsx test/bench/startup.ts [runs]` runs it alone.
 */
export interface StartupFigures {
  runs: number;
  nodeMs: number;
  versionMs: number;
  helpMs: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function wallMs(args: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: 'ignore' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
  return ms;
}

export function measureStartup(alfMain: string, runs = 21): StartupFigures {
  const node: number[] = [];
  const version: number[] = [];
  const help: number[] = [];
  for (let round = 0; round < runs; round++) {
    node.push(wallMs(['-e', '']));
    version.push(wallMs([alfMain, '--version']));
    help.push(wallMs([alfMain, '--help']));
  }
  return { runs, nodeMs: median(node), versionMs: median(version), helpMs: median(help) };
}

export function renderStartup(figures: StartupFigures): string {
  const row = (what: string, ms: number): string => `| ${what} | ${ms.toFixed(0)} ms | ${(ms / figures.nodeMs).toFixed(2)}× |`;
  return [
    `| start-up (median of ${figures.runs} rounds) | wall | vs node -e '' (target ≤ 1.5×) |`,
    '| --- | --- | --- |',
    row("node -e ''", figures.nodeMs),
    row('alf --version', figures.versionMs),
    row('alf --help', figures.helpMs),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { join, resolve } = await import('node:path');
  const main = join(resolve(import.meta.dirname, '../..'), 'dist/src/cli/main.js');
  process.stdout.write(`${renderStartup(measureStartup(main, Number(process.argv[2] ?? 21)))}\n`);
}
