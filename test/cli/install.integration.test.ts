import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './run-cli.js';

/**
 * The README's Install section, as written: `npm pack`, then `npm install -g ./alf-*.tgz` gives an
 * `alf` on the PATH that runs the quick start. The global install goes to a temporary prefix (the
 * machine's own is left alone) and takes its dependencies from npm's cache when it has them.
 * The Dockerfile runs the same two npm steps in node:20-slim; docker itself is not run here.
 */

const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });

describe('installed like a real tool', { timeout: 600_000 }, () => {
  it('npm pack, then npm install -g of the tarball, gives an alf on the PATH that runs the quick start', () => {
    const work = mkdtempSync(join(tmpdir(), 'alf-install-'));
    // The integration project has just built dist/ (test/layers/build-once.ts): pack it as it is (the prepare script would rebuild it under the other tests' feet).
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = readdirSync(work).find((name) => /^alf-.*\.tgz$/.test(name));
    expect(tarball).toBeDefined();
    const prefix = join(work, 'prefix');
    const install = npm(['install', '-g', '--prefer-offline', '--prefix', prefix, `./${tarball}`], work);
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, 'bin');
    expect(existsSync(join(bin, 'alf'))).toBe(true);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
    const run = (args: string[]) => spawnSync('alf', args, { cwd: ROOT, encoding: 'utf8', env });
    const version = run(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    // The quick start, from the installed copy.
    const report = join(work, 'report.html');
    const quickStart = run(['analyze', 'samples/incident', '--budget', '600s/5m', '--out', report]);
    expect(quickStart.status, quickStart.stderr).toBe(0);
    expect(quickStart.stderr).toMatch(/findings: 3 high, 4 low, 3 info; report written to/);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('Clients give up at 4.98 s');
    // The page script ships prebuilt: an installed alf has no esbuild to bundle it with.
    expect(/<script>([\s\S]*?)<\/script>/.exec(html)?.[1]?.length ?? 0).toBeGreaterThan(100_000);
    const formats = run(['formats']);
    expect(formats.status).toBe(0);
    expect(formats.stdout).toContain('aws-alb');
  });

  it('has a Dockerfile on node:20-slim that installs the packed tarball and runs as a user other than root', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(from).toEqual(['node:20-slim', 'node:20-slim']);
    expect(dockerfile).toMatch(/npm pack --ignore-scripts/);
    expect(dockerfile).toMatch(/npm install -g [^\n]*alf-\*\.tgz/);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)$/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["alf"\]/m);
  });
});
