import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { workerSettings } from '../../src/scan/queue/task-settings.js';
import { scan, scanOptions, windowReports } from './helpers.js';

/**
 * `alf scan --timezone`: HAProxy's accept date `[%tr]` is local time without an offset. The state
 * remembers the zone of its first run: later runs without the option read in it, and a run naming
 * another zone is refused (its spool already holds times read in the first zone).
 */

/** HAProxy httplog lines (docs/formats.md, HAProxy) accepted at 10:32 local time, without a syslog header. */
function haproxyLines(first: number, count: number): string {
  let text = '';
  for (let i = first; i < first + count; i++) {
    text += `203.0.113.24:${50000 + i} [15/Jan/2025:10:32:${String(i % 60).padStart(2, '0')}.373] fe_api~ be_api/app3 0/0/1/81/84 200 2101 - - ---- 1/1/0/0/0 0/0 "GET /v1/orders/${i} HTTP/1.1"\n`;
  }
  return text;
}

describe('scan --timezone: local times read in the zone the state was started with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-scan-tz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const logs = join(dir, 'logs');
  const parisParse = (): ReturnType<typeof scanOptions>['parse'] => ({ ...scanOptions([], dir).parse, timeZone: 'Europe/Paris' });

  it('reads 10:32 Paris time as 09:32 UTC, remembers the zone, and refuses another', async () => {
    mkdirSync(logs);
    writeFileSync(join(logs, 'haproxy.log'), haproxyLines(0, 10));
    const first = await scan([logs], dir, { parse: parisParse() });
    expect(first.records).toBe(10);
    // 10:32 in Paris in January (+01:00) is 09:32 UTC: the 09:00 window, not the 10:00 one.
    expect([...windowReports(join(dir, 'out')).keys()].filter((name) => name.includes('T09'))).toHaveLength(1);
    expect([...windowReports(join(dir, 'out')).keys()].some((name) => name.includes('T10'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))).toMatchObject({ timeZone: 'Europe/Paris' });

    // A later run that names no zone keeps the state's.
    writeFileSync(join(logs, 'haproxy.log'), haproxyLines(0, 15));
    const second = await scan([logs], dir);
    expect(second.records).toBe(5);
    expect([...windowReports(join(dir, 'out')).keys()].some((name) => name.includes('T10'))).toBe(false);

    // Another zone would put new records an hour away from the spooled ones: refused, nothing read.
    writeFileSync(join(logs, 'haproxy.log'), haproxyLines(0, 20));
    const refused = await scan([logs], dir, { parse: { ...parisParse(), timeZone: 'UTC' } }).catch((error: unknown) => error);
    expect((refused as { cause?: unknown }).cause ?? refused).toBeInstanceOf(UsageError);
    expect(String((refused as { cause?: Error }).cause?.message ?? refused)).toMatch(/made with --timezone Europe\/Paris/);
  });

  it('a state started without --timezone (UTC) refuses a zone later', async () => {
    const other = mkdtempSync(join(tmpdir(), 'alf-scan-tz-utc-'));
    try {
      mkdirSync(join(other, 'logs'));
      writeFileSync(join(other, 'logs', 'haproxy.log'), haproxyLines(0, 3));
      expect((await scan([join(other, 'logs')], other)).records).toBe(3);
      const refused = await scan([join(other, 'logs')], other, { parse: { ...scanOptions([], other).parse, timeZone: '+01:00' } }).catch((error: unknown) => error);
      expect(String((refused as { cause?: Error }).cause?.message ?? refused)).toMatch(/made with --timezone UTC \(none given\)/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a queued scan hands the zone to every worker with its tasks (no state there to remember it)', () => {
    const settings = { windowMs: 3_600_000, budget: null, where: [], sinceMs: null, untilMs: null, s3TimeoutMs: 30_000 };
    expect(workerSettings({ ...settings, timeZone: 'Europe/Paris' }).parse.timeZone).toBe('Europe/Paris');
    expect(workerSettings(settings).parse.timeZone).toBeUndefined();
  });
});
