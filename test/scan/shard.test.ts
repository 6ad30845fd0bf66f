import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergePartials } from '../../src/scan/merge-partials.js';
import { runScan } from '../../src/scan/run-scan.js';
import { parseShard } from '../../src/scan/shard.js';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { albLines, comparable, scanOptions, windowReports } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');

// Four shards merged must equal one run: same findings JSON but for generation times. The
// incident's proxy log is cut into parts that hash to different shards, away from its APM
// export, so the merge must join across shards.
describe('sharded scans and alf merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-shard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('merges four shards into exactly the findings of one run', async () => {
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    const incident = join(ROOT, 'samples/incident');
    const lines = readFileSync(join(incident, 'access.log'), 'utf8').split('\n').filter(Boolean);
    const parts = 8;
    for (let p = 0; p < parts; p++) {
      const slice = lines.slice(Math.floor((p * lines.length) / parts), Math.floor(((p + 1) * lines.length) / parts));
      writeFileSync(join(logs, `proxy-part-${p}.log`), `${slice.join('\n')}\n`);
    }
    copyFileSync(join(incident, 'newrelic-transactions.csv'), join(logs, 'newrelic-transactions.csv'));
    const t0 = Date.UTC(2025, 0, 15, 8, 0, 0);
    for (let f = 0; f < 12; f++) writeFileSync(join(logs, `alb-${f}.log`), albLines(t0 + f * 600_000, f * 400, 400, 1500));
    const { format } = loadLogFormat(join(incident, 'nginx-log-format.conf'), undefined, []);

    const single = join(dir, 'single');
    await runScan(scanOptions([logs], single, {}, format));
    const partials: string[] = [];
    const shardsRead: number[] = [];
    for (let i = 0; i < 4; i++) {
      const partial = join(dir, `shard-${i}`);
      const summary = await runScan(scanOptions([logs], partial, { shard: parseShard(`${i}/4`) }, format));
      shardsRead.push(summary.sourcesRead);
      partials.push(join(partial, 'out'));
    }
    expect(shardsRead.reduce((a, b) => a + b, 0)).toBe(21);
    expect(shardsRead.filter((n) => n > 0).length).toBeGreaterThan(1);
    await mergePartials(partials, join(dir, 'merged'), scanOptions([], dir).replay, null);

    const one = windowReports(join(single, 'out'));
    const merged = windowReports(join(dir, 'merged'));
    expect([...merged.keys()]).toEqual([...one.keys()]);
    let findings = 0;
    for (const [name, report] of one) {
      expect(comparable(merged.get(name)), name).toEqual(comparable(report));
      findings += report.findings.length;
    }
    expect(findings).toBeGreaterThan(0);
    // The merged index says where its windows come from (a merge is no numbered run).
    expect(readFileSync(join(dir, 'merged', 'index.html'), 'utf8')).toMatch(/windows? of 60 min; merged from shards\./);
  }, 60_000);

  it('refuses partials that would count records twice: one given twice, a shard twice, an unsharded scan beside shards', async () => {
    // The outputs of the test above: one unsharded scan and shards 0..3 of 4.
    const shard = (i: number) => join(dir, `shard-${i}`, 'out');
    const replay = scanOptions([], dir).replay;
    await expect(mergePartials([shard(0), shard(1), shard(0)], join(dir, 'twice'), replay, null)).rejects.toThrow(/is given twice .*count twice/);
    await expect(mergePartials([shard(1), join(dir, 'single', 'out')], join(dir, 'mixed'), replay, null))
      .rejects.toThrow(/was scanned without --shard, .* with --shard 1\/4: the unsharded scan read what the shards read/);
    // A copy of a shard's output is the same shard again.
    const copy = join(dir, 'copy-of-shard-2');
    cpSync(shard(2), copy, { recursive: true });
    await expect(mergePartials([shard(2), copy], join(dir, 'copied'), replay, null)).rejects.toThrow(/are both shard 2\/4/);
  }, 60_000);
});
