import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const REPORT_RSS = join(import.meta.dirname, 'report-max-rss.mjs');

export interface CliRun {
  /** Exit code; null when the process was killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
  /** Peak resident set size of the alf process (process.resourceUsage at exit), KiB; null when killed. */
  maxRssKb: number | null;
  seconds: number;
}

export interface CliOptions {
  /** Added to the environment; a variable given as undefined is removed from it. */
  env?: Record<string, string | undefined>;
  /** `ulimit -f`: files the process writes are cut at this many KiB (EFBIG past it). */
  fileSizeLimitKb?: number;
  /** Called once the child runs (to SIGKILL or SIGSTOP it, or another process, at a chosen moment). */
  started?: (child: ChildProcess) => void;
}

let runs = 0;
let entry: string[] | null = null;

/** Newest modification time of the TypeScript sources alf is built from. */
function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The built CLI when it is newer than every source (`npm test` builds first): it starts in a
 * third of tsx's time, which matters to tests that start dozens of scans. Otherwise the sources
 * through tsx, so a test never runs stale code.
 */
export function cliEntry(): string[] {
  if (entry) return entry;
  const built = join(ROOT, 'dist/src/cli/main.js');
  const fresh = existsSync(built) && statSync(built).mtimeMs > Math.max(...['src', 'parsers', 'reports'].map((d) => newestSource(join(ROOT, d))));
  entry = fresh ? [built] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
  return entry;
}

/** `alf <args>` in a child process, as a scheduler would start it. */
export function runAlf(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const rssFile = join(tmpdir(), `alf-rss-${process.pid}-${runs++}`);
  return new Promise((done, fail) => {
    const started = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env, ALF_TEST_RSS_FILE: rssFile };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const command = [process.execPath, '--import', REPORT_RSS, ...cliEntry(), ...args];
    // bash sets the limit, then exec: the limit applies to alf itself (1 block = 1 KiB in bash).
    const [bin, ...binArgs] = options.fileSizeLimitKb === undefined ? command : ['bash', '-c', `ulimit -f ${options.fileSizeLimitKb} && exec "$@"`, 'bash', ...command];
    const child = spawn(bin!, binArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      let maxRssKb: number | null = null;
      try {
        maxRssKb = Number(readFileSync(rssFile, 'utf8'));
        rmSync(rssFile, { force: true });
      } catch {
        // killed before its exit handler ran
      }
      done({ code, signal, stderr, stdout, maxRssKb, seconds: (performance.now() - started) / 1000 });
    });
    options.started?.(child);
  });
}

/** The `--quiet` JSON line of a scan (the last line of stderr that parses as one). */
export function quietLine(run: CliRun): Record<string, unknown> {
  const lines = run.stderr.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      const value = JSON.parse(line) as unknown;
      if (value !== null && typeof value === 'object' && (value as { alf?: unknown }).alf === 'scan') return value as Record<string, unknown>;
    } catch {
      // not the JSON line
    }
  }
  throw new Error(`no --quiet JSON line in stderr:\n${run.stderr}`);
}
