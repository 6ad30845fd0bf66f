import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { analyzeCommand } from '../../src/cli/commands/analyze.js';
import { csvLines, JOINED_CSV_COLUMNS, joinedRow } from '../../reports/joined-csv-export.js';
import { emptyApmTransaction, emptyProxyRecord } from '../../src/model/records.js';
import { JoinScenario, renderScenarioFiles, SCENARIO_LOG_FORMAT } from '../generators/join-scenarios.js';

describe('CSV cells from logs', () => {
  it.each(['=1+1', '+1', '-2+3+cmd|x', '@SUM(A1)', '\tx', '\rx', '=1\n2'])('prefixes %j with a quote', (value) => {
    const [cell] = Papa.parse<string[]>(csvLines([[value]])).data[0]!;
    expect(cell).toBe(`'${value}`);
  });
  it('leaves ordinary text and our numbers alone (a negative offset stays a number)', () => {
    expect(csvLines([['/v1/orders', '', -352]])).toBe('/v1/orders,,-352');
  });
  it('replaces control characters from a log (NUL, ESC, BEL, DEL) as every other report does', () => {
    const csv = csvLines([['/a\u0000b', '/\u001b[31mred\u0007\u007f']]);
    expect(csv).toBe('/a\uFFFDb,/\uFFFD[31mred\uFFFD\uFFFD');
    expect(csv).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  });
});

describe('joinedRow', () => {
  it('one row per proxy record; none for an APM transaction alone; numbers stay numbers', () => {
    const proxy = emptyProxyRecord('nginx', 'access.log', 7, '');
    proxy.method = 'GET';
    proxy.path = '=HYPERLINK("http://evil")';
    proxy.requestTimeMs = 4668;
    proxy.requestId = '@id';
    const apm = emptyApmTransaction('newrelic-csv', 'nr.csv', 12, '');
    apm.durationMs = 29_512.4;
    apm.startMs = Date.UTC(2025, 0, 15, 10, 32, 1, 373);
    apm.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const row = joinedRow({ proxy, apm, method: 'heuristic', confidence: 0.97, offsetMs: -351.6 })!;
    expect(row).toEqual(['access.log', 7, '@id', 'nr.csv', 12, 'GET', '=HYPERLINK("http://evil")', 4.668, '', 29.512, -352, 0.97, 'heuristic',
      '2025-01-15T10:32:01.373Z', '4bf92f3577b34da6a3ce929d0e0e4736', '']);
    expect(csvLines([row])).toBe(`access.log,7,"'@id",nr.csv,12,GET,"'=HYPERLINK(""http://evil"")",4.668,,29.512,-352,0.97,heuristic,2025-01-15T10:32:01.373Z,4bf92f3577b34da6a3ce929d0e0e4736,`);
    expect(row).toHaveLength(JOINED_CSV_COLUMNS.length);
    expect(joinedRow({ proxy: null, apm, method: 'none', confidence: 0, offsetMs: null })).toBeNull();
    const unjoined = joinedRow({ proxy, apm: null, method: 'none', confidence: 0, offsetMs: null })!;
    expect(unjoined.slice(3, 5)).toEqual(['', '']);
    expect(unjoined.slice(12)).toEqual(['none', '', '', '']);
  });
});

describe('alf analyze --joined', () => {
  it('writes one row per proxy line whose APM line numbers match the truth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alf-joined-'));
    const scenario = new JoinScenario({ durationSeconds: 60, skewMs: -900, hotRatePerSecond: 50, traceIdShare: 0.2, seed: 21 });
    const { proxies, transactions } = scenario.collect();
    const files = renderScenarioFiles(proxies, transactions);
    writeFileSync(join(dir, 'access.log'), `${files.accessLog.join('\n')}\n`);
    writeFileSync(join(dir, 'transactions.csv'), `${files.apmCsv.join('\n')}\n`);
    const out = join(dir, 'pairs.csv');
    const code = await analyzeCommand([join(dir, 'access.log')], {
      apm: [join(dir, 'transactions.csv')], logFormat: SCENARIO_LOG_FORMAT, out: join(dir, 'report.json'), joined: out,
      failOn: 'never', maxSkew: 30_000, minConfidence: 0.5, horizon: 65_000, jobs: 1, quiet: true,
    });
    expect(code).toBe(0);
    const parsed = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8'), { header: true, skipEmptyLines: true });
    expect(parsed.meta.fields).toEqual([...JOINED_CSV_COLUMNS]);
    const rows = parsed.data;
    expect(rows).toHaveLength(proxies.length);
    expect(new Set(rows.map((r) => r.proxy_line)).size).toBe(proxies.length);
    const claimed = rows.filter((r) => r.apm_line !== '');
    const right = claimed.filter((r) => files.truth.get(Number(r.proxy_line)) === Number(r.apm_line));
    expect(right.length / claimed.length).toBeGreaterThan(0.99);
    expect(right.length / files.truth.size).toBeGreaterThan(0.97);
    expect(new Set(rows.map((r) => r.join_method))).toEqual(new Set(['id', 'heuristic', 'none']));
    expect(rows.filter((r) => r.join_method === 'id').every((r) => r.confidence === '1')).toBe(true);
    expect(rows.filter((r) => r.join_method === 'none').every((r) => r.apm_line === '' && r.confidence === '')).toBe(true);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { join: { joinedShare: number; offsetMs: number } };
    expect(report.join.joinedShare).toBeGreaterThan(0.9);
    expect(Math.abs(report.join.offsetMs - -900)).toBeLessThan(5);
  }, 60_000);
});
