import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILT_MAIN } from '../layers/built-cli.js';
import { ROOT } from './run-cli.js';

/**
 * `alf --version` and `--help` must start as quickly as Node itself: they load commander and
 * alf's option parsers, never a command's module (parsers, detectors, the AWS SDK, vega). Checked
 * by the modules Node really loads (a module-loader hook writes each URL to a file), not by a
 * timing; the time against `node -e ''` is measured in `npm run bench`.
 */

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(process.env.ALF_LOADED_LOG, url + '\\n'); return next(url, context); }`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

function loadedModules(args: string[]): string[] {
  const log = join(mkdtempSync(join(tmpdir(), 'alf-startup-')), 'loaded.txt');
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, BUILT_MAIN, ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, ALF_LOADED_LOG: log },
  });
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(log, 'utf8').trim().split('\n').filter((url) => url.startsWith('file:'));
}

describe('alf start-up', () => {
  it('`alf --version` answers from main.js and the version module alone, before commander', () => {
    const loaded = loadedModules(['--version']);
    expect(loaded.some((url) => url.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(loaded.some((url) => url.endsWith('/dist/src/model/version.js'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/') || url.endsWith('/program.js'))).toEqual([]);
  });

  for (const args of [['--help'], ['analyze', '--help'], ['scan', '--help']]) {
    it(`\`alf ${args.join(' ')}\` loads commander and the option parsers, nothing heavy`, () => {
      const loaded = loadedModules(args);
      // The hook sees the modules (else this test would prove nothing).
      expect(loaded.some((url) => url.endsWith('/dist/src/cli/program.js'))).toBe(true);
      const packages = new Set(loaded.filter((url) => url.includes('/node_modules/')).map((url) => url.split('/node_modules/')[1]!.split('/')[0]));
      expect([...packages]).toEqual(['commander']);
      const own = loaded.filter((url) => !url.includes('/node_modules/')).map((url) => url.slice(url.indexOf('/dist/') + 6));
      expect(own.filter((path) => /^(parsers|reports)\/|src\/(detectors|join|sources|lines|parse|statistics|scan|summaries|cli\/commands)\//.test(path))).toEqual([]);
    });
  }

  it('loads a command\'s module when that command runs', () => {
    const loaded = loadedModules(['formats']);
    expect(loaded.some((url) => url.endsWith('/dist/src/cli/commands/formats.js'))).toBe(true);
    expect(loaded.some((url) => url.includes('/dist/parsers/'))).toBe(true);
  });
});
