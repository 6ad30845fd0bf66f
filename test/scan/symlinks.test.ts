import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandLocal } from '../../src/sources/glob.js';
import { resolveInputs } from '../../src/sources/sources.js';
import { albLines, scan, totalProxyRequests } from './helpers.js';

// Sources stay inside their roots: a symlink in a log directory must not make alf read
// /etc/shadow, another team's logs, or its own state and reports.
describe('sources stay inside their roots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const t0 = Date.UTC(2025, 0, 15, 4);

  /** logs/ with one real log, a link to it, and links out: a secret file, a directory, `..`. */
  function layout(name: string): { root: string; logs: string; outside: string } {
    const root = join(dir, name);
    const logs = join(root, 'logs');
    const outside = join(root, 'elsewhere');
    mkdirSync(logs, { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(logs, 'access.log'), albLines(t0, 0, 100));
    writeFileSync(join(outside, 'other.log'), albLines(t0, 1000, 40));
    writeFileSync(join(outside, 'secret'), albLines(t0, 2000, 7)); // stands in for /etc/shadow: readable, and must not be read
    symlinkSync(join(logs, 'access.log'), join(logs, 'current.log')); // inside: the same file, read once
    symlinkSync(join(outside, 'secret'), join(logs, 'secret.log'));
    symlinkSync(outside, join(logs, 'other-team'));
    symlinkSync('..', join(logs, 'loop'));
    return { root, logs, outside };
  }

  it('passes over links out of a directory or a glob root, reads a link inside it once', async () => {
    const { root, logs } = layout('plain');
    for (const source of [logs, `${logs}/*`, `${logs}/**/*.log`]) {
      const listing = await expandLocal(source);
      expect(listing.files, source).toEqual([join(logs, 'access.log'), join(logs, 'current.log')]);
      // `logs/*` does not descend, so linked directories are not even candidates there.
      const links = source.endsWith('/*') ? ['secret.log'] : ['loop', 'other-team', 'secret.log'];
      expect(listing.outside.sort(), source).toEqual(links.map((name) => join(logs, name)));
    }
    const summary = await scan([logs], root);
    expect(summary.symlinksSkipped.sort()).toEqual([join(logs, 'loop'), join(logs, 'other-team'), join(logs, 'secret.log')]);
    expect(summary.sourcesListed).toBe(1); // current.log is access.log
    expect(totalProxyRequests(join(root, 'out'))).toBe(100);
    // analyze follows the same rule for a directory input.
    expect((await resolveInputs([logs])).map((s) => s.name)).toEqual([join(logs, 'access.log'), join(logs, 'current.log')]);
  }, 30_000);

  it('with --follow-symlinks reads what the links lead to, still never its own state or out directory', async () => {
    const { root, logs } = layout('follow');
    // The state and out directory beside the logs, reachable through `loop -> ..`.
    const summary = await scan([logs], root, { followSymlinks: true });
    expect(summary.symlinksSkipped).toEqual([]);
    expect(totalProxyRequests(join(root, 'out'))).toBe(100 + 40 + 7);
    const again = await scan([logs], root, { followSymlinks: true });
    expect(again.records).toBe(0);
    expect(totalProxyRequests(join(root, 'out'))).toBe(147);
  }, 30_000);

  it('never reads its out directory or state as input, however they are reached', async () => {
    const root = join(dir, 'own');
    const logs = join(root, 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'access.log'), albLines(t0, 0, 800));
    // --out given through a symlink that points into the scanned directory: its spool must not be read back.
    mkdirSync(join(logs, 'reports'));
    symlinkSync(join(logs, 'reports'), join(root, 'out-link'));
    const first = await scan([logs], root, { outDir: join(root, 'out-link'), statePath: join(logs, 'state.json') });
    expect(first.records).toBe(800);
    const second = await scan([logs], root, { outDir: join(root, 'out-link'), statePath: join(logs, 'state.json') });
    expect(second.records).toBe(0);
    expect(second.unparsed).toEqual([]);
    expect(totalProxyRequests(join(logs, 'reports'))).toBe(800);

    // The state in a directory of its own, reached from the logs by a link: nothing in it is read.
    const other = join(dir, 'own-state');
    const otherLogs = join(other, 'logs');
    const stateDir = join(other, 'state');
    mkdirSync(otherLogs, { recursive: true });
    mkdirSync(stateDir);
    writeFileSync(join(otherLogs, 'access.log'), albLines(t0, 0, 300));
    writeFileSync(join(stateDir, 'notes.log'), albLines(t0, 5000, 9));
    symlinkSync(stateDir, join(otherLogs, 'state-link'));
    const third = await scan([otherLogs], other, { statePath: join(stateDir, 'state.json'), followSymlinks: true });
    expect(third.records).toBe(300);
    const fourth = await scan([otherLogs], other, { statePath: join(stateDir, 'state.json'), followSymlinks: true });
    expect(fourth.sourcesListed).toBe(1);
  }, 30_000);
});
