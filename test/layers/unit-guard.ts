import { createRequire, syncBuiltinESMExports } from 'node:module';

/**
 * Set up before every file of the `unit` project (vitest.config.ts): a unit test runs alf's
 * TypeScript in its own process and nothing else. Starting a process (the CLI, nginx, Chromium),
 * a worker thread or a server fails at once with a message naming the layer the file belongs in,
 * so a test cannot drift into the slow layers while keeping its fast name.
 */

const require = createRequire(import.meta.url);

function refuse(what: string): never {
  throw new Error(`a unit test may not ${what}: name the file *.integration.test.ts (CLI, workers) or *.e2e.test.ts (nginx, HAProxy, Chromium, S3); see README, Testing`);
}

const childProcess = require('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
/** esbuild's own service: reports/page-script.ts bundles the report page from source with it. */
const esbuildService = /[\\/]@?esbuild[\\/]/;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  const original = childProcess[name]!;
  childProcess[name] = (command: unknown, ...rest: unknown[]) =>
    typeof command === 'string' && esbuildService.test(command) ? original(command, ...rest) : refuse(`start a process (child_process.${name} ${String(command)})`);
}

const workerThreads = require('node:worker_threads') as Record<string, unknown>;
workerThreads.Worker = class {
  constructor() {
    refuse('start a worker thread');
  }
};

const net = require('node:net') as typeof import('node:net');
net.Server.prototype.listen = function listen(): never {
  return refuse('listen on a port');
};

// ESM imports of these modules (`import { spawn } from 'node:child_process'`) see the changes too.
syncBuiltinESMExports();
