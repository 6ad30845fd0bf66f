import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The exit status contract of `alf analyze` (README "Exit codes"), through the real binary:
 * 0 when nothing reaches --fail-on, 1 when a finding does, 2 for usage or input errors.
 */

function alf(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  // `npm test` builds first; building here too keeps `npx vitest run` honest. tsc emits even
  // when another module has type errors, so the exit code is not ours to judge.
  spawnSync('npx', ['tsc', '-p', '.'], { stdio: 'ignore', shell: process.platform === 'win32' });
}, 120_000);

const incident = ['analyze', 'samples/incident', '--budget', '600s/5m', '--format', 'json', '--quiet'];

describe('alf analyze exit status', { timeout: 60_000 }, () => {
  it('0 by default (--fail-on never), with the report on stdout', () => {
    const run = alf(...incident);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).findings.length).toBeGreaterThan(0);
  });

  it('1 when a finding reaches --fail-on (the incident has high findings)', () => {
    expect(alf(...incident, '--fail-on', 'high').status).toBe(1);
    expect(alf(...incident, '--fail-on', 'medium').status).toBe(1);
  });

  it('0 when nothing reaches --fail-on (no critical finding in the incident)', () => {
    expect(alf(...incident, '--fail-on', 'critical').status).toBe(0);
  });

  it('2 for a bad --fail-on value, with a one-line message', () => {
    const run = alf(...incident, '--fail-on', 'sometimes');
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--fail-on');
  });

  it('2 for a missing input and for no input at all', () => {
    expect(alf('analyze', 'samples/no-such-file.log', '--format', 'json').status).toBe(2);
    expect(alf('analyze', '--format', 'json').status).toBe(2);
  });
});
