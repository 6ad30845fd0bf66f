import fc from 'fast-check';
import Papa from 'papaparse';
import { afterEach, describe, expect, it } from 'vitest';
import { newRelicCsv } from '../../parsers/newrelic-csv.js';
import { onlyApm, parseLines } from './parse-lines.js';

const HEADER = 'timestamp,duration,name,request.uri,httpResponseCode,request.headers.userAgent,host,apiKeyId,traceId';

describe('New Relic Transaction CSV export', () => {
  it('reads start (ms), duration (s → ms), path without query, status, agent, host, key and trace id', () => {
    const [transaction] = onlyApm(newRelicCsv, [
      HEADER,
      '1736937121373,0.0792,WebTransaction/Expressjs/GET//v1/orders,/v1/orders?limit=20,200,okhttp/4.12.0,ip-10-0-3-17,a1b2c3,491E743B1BE0164F3055415F2CB2F8D0',
    ]);
    expect(transaction).toMatchObject({
      startMs: 1736937121373, durationMs: 79.2, method: 'GET', path: '/v1/orders', status: 200,
      userAgent: 'okhttp/4.12.0', host: 'ip-10-0-3-17', apiKey: 'a1b2c3', traceId: '491e743b1be0164f3055415f2cb2f8d0', line: 2,
    });
  });

  it('reads queueDuration (s → ms) where exported, and leaves it unknown, not 0, where not', () => {
    const [queued, unqueued] = onlyApm(newRelicCsv, [
      'timestamp,duration,queueDuration,request.uri',
      '1736937121373,0.0792,0.3125,/v1/orders',
      '1736937121400,0.0792,,/v1/orders',
    ]);
    expect([queued!.queueMs, unqueued!.queueMs]).toEqual([312.5, null]);
  });

  it("takes the host the request was addressed to (request.headers.host) over the agent's own where both are exported", () => {
    const [transaction] = onlyApm(newRelicCsv, ['timestamp,duration,request.uri,host,request.headers.host', '1736937121373,0.01,/a,ip-10-0-3-17,api.example.com']);
    expect(transaction!.host).toBe('api.example.com');
  });

  it('takes the status from response.status or http.statusCode when httpResponseCode is absent, and dates as strings', () => {
    const [transaction] = onlyApm(newRelicCsv, [
      'timestamp,duration,request.uri,request.method,response.status',
      '2025-01-15T10:32:01.373Z,29.9,/v2/applications/1/metrics.json,get,404',
    ]);
    expect(transaction).toMatchObject({ startMs: Date.UTC(2025, 0, 15, 10, 32, 1, 373), durationMs: 29900, method: 'GET', status: 404 });
  });

  describe('a date without a zone (a spreadsheet or a hand-made export) is a wall time in --timezone, UTC unless given, whatever zone the machine runs in', () => {
    const rows = [
      'timestamp,duration,request.uri',
      '2026-12-07 03:00:01,0.05,/a',
      '2026-12-07T03:00:01.5,0.05,/a',
      '12/07/2026 03:00:01,0.05,/a',
      '"Dec 7, 2026, 3:00:01.123 AM",0.05,/a',
      '2026-12-07T03:00:01+01:00,0.05,/a',
      '2026-12-07 03:00:01 UTC,0.05,/a',
    ];
    const wall = [Date.UTC(2026, 11, 7, 3, 0, 1), Date.UTC(2026, 11, 7, 3, 0, 1, 500), Date.UTC(2026, 11, 7, 3, 0, 1), Date.UTC(2026, 11, 7, 3, 0, 1, 123)];
    const machineZone = process.env.TZ;
    afterEach(() => {
      if (machineZone === undefined) delete process.env.TZ;
      else process.env.TZ = machineZone;
    });

    for (const machine of ['UTC', 'Europe/Paris', 'Asia/Kolkata']) {
      it(`on a machine in ${machine}`, () => {
        process.env.TZ = machine;
        const hour = 3_600_000;
        // Zone-less rows read as UTC; rows that name their zone keep it.
        expect(onlyApm(newRelicCsv, rows).map((t) => t.startMs)).toEqual([...wall, Date.UTC(2026, 11, 7, 2, 0, 1), wall[0]]);
        // --timezone Europe/Paris (UTC+1 in December) moves the zone-less rows only.
        expect(onlyApm(newRelicCsv, rows, 'Europe/Paris').map((t) => t.startMs)).toEqual([...wall.map((ms) => ms - hour), Date.UTC(2026, 11, 7, 2, 0, 1), wall[0]]);
      });
    }
  });

  it('keeps quoted fields with commas and newlines, and points at the physical line where a row starts', () => {
    const transactions = onlyApm(newRelicCsv, [
      HEADER,
      '1736937121373,0.1,"WebTransaction/x, y",/a,200,"agent ""quoted"", with comma",h,k,',
      '1736937122373,0.2,"multi',
      'line name",/b,200,ua,h,k,',
      '1736937123373,0.3,n,/c,200,ua,h,k,',
    ]);
    expect(transactions.map((t) => [t.line, t.path, t.userAgent])).toEqual([
      [2, '/a', 'agent "quoted", with comma'], [3, '/b', 'ua'], [5, '/c', 'ua'],
    ]);
  });

  it('counts bad rows as issues with their line, and reads the good ones', () => {
    const { records, issues, ignored } = parseLines(newRelicCsv, [
      HEADER, 'abc,0.1,n,/a,200,ua,h,k,', '1736937121373,-5,n,/a,200,ua,h,k,', '1736937121373,0.1,too,few', '', '1736937121373,0.1,n,/a,200,ua,h,k,',
    ]);
    expect(records).toHaveLength(1);
    expect(ignored).toBe(2);
    expect(issues.map((i) => [i.line, i.code, i.field])).toEqual([
      [2, 'PARSE_BAD_TIMESTAMP', 'timestamp'], [3, 'PARSE_BAD_FIELD', 'duration'], [4, 'PARSE_NO_MATCH', null],
    ]);
  });

  it('reads any row as papaparse writes it, quoted or not, in order (rows without a quote are split on commas)', () => {
    const value = fc.string({ minLength: 1, maxLength: 12 }).filter((v) => v !== '-' && !/[\r\n]/.test(v));
    fc.assert(fc.property(fc.array(fc.tuple(value, value, value), { minLength: 1, maxLength: 12 }), (rows) => {
      const lines = ['timestamp,duration,name,request.uri,request.headers.userAgent,host'];
      rows.forEach(([name, agent, host], i) => lines.push(Papa.unparse([[String(1736937121373 + i), '0.1', name, '/a', agent, host]])));
      const transactions = onlyApm(newRelicCsv, lines);
      expect(transactions.map((t) => [t.line, t.name, t.userAgent, t.host])).toEqual(rows.map(([name, agent, host], i) => [i + 2, name, agent, host]));
    }), { numRuns: 300 });
  });

  it('rejects a CSV without timestamp and duration columns, so detection moves on', () => {
    const { records, issues } = parseLines(newRelicCsv, ['a,b,c', '1,2,3']);
    expect(records).toHaveLength(0);
    expect(issues[0]!.message).toMatch(/lacks timestamp, duration/);
  });
});
