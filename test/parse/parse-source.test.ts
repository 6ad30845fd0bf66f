import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../parsers/registry.js';
import { parseSource, type FormatMemo } from '../../src/parse/parse-source.js';

const line = (i: number): string =>
  `10.0.0.${i % 250} - - [15/Jan/2025:10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} +0000] "GET /v1/items/${i} HTTP/1.1" 200 ${100 + i} "-" "curl/8.5.0"`;

describe('parseSource', () => {
  it('hands over a single record first, so a file opened long before its turn holds one record, not a batch', async () => {
    const text = `${Array.from({ length: 3000 }, (_, i) => line(i)).join('\n')}\n`;
    const parsed = parseSource({ name: 'access.log', open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS });
    const sizes: number[] = [];
    const lines: number[] = [];
    for await (const batch of parsed.batches) {
      sizes.push(batch.length);
      for (const record of batch) lines.push(record.line);
    }
    expect(parsed.stats.format).toBe('nginx-combined');
    expect(sizes[0]).toBe(1);
    // Nothing lost or reordered: every line once, in file order.
    expect(lines).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(parsed.stats.records).toBe(3000);
  });

  it('hands over a single record first even when the first lines do not parse', async () => {
    const text = `garbage one\n${line(1)}\ngarbage two\n${line(2)}\n${line(3)}\n`;
    const parsed = parseSource({ name: 'access.log', open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS, keepGoing: true });
    const batches: number[][] = [];
    for await (const batch of parsed.batches) batches.push(batch.map((record) => record.line));
    expect(batches).toEqual([[2], [4, 5]]);
    expect(parsed.stats.skipped).toBe(2);
  });

  it('reads a file of blank lines as an empty file: nothing skipped, no format failed; blank lines before a log in their own batch are passed over', async () => {
    const blank = parseSource({ name: 'blank.log', open: () => Readable.from([Buffer.from('\n  \n\t\n')]) }, { candidates: FORMATS });
    for await (const batch of blank.batches) expect(batch).toEqual([]);
    expect(blank.stats).toMatchObject({ format: null, undetected: null, linesRead: 3, skipped: 0, ignored: 3, records: 0 });
    // A stream whose first chunk is blank lines alone, then the log.
    const later = parseSource({ name: 'stdin', open: () => Readable.from([Buffer.from('\n\n'), Buffer.from(`${line(1)}\n${line(2)}\n`)]) }, { candidates: FORMATS });
    let records = 0;
    for await (const batch of later.batches) records += batch.length;
    expect([later.stats.format, records, later.stats.skipped]).toEqual(['nginx-combined', 2, 0]);
  });

  it('reads the files of one run in the format the last was detected in, where it reads them wholly', async () => {
    const read = async (name: string, text: string, memo: FormatMemo): Promise<string | null> => {
      const parsed = parseSource({ name, open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS, memo, keepGoing: true });
      for await (const batch of parsed.batches) void batch;
      return parsed.stats.format;
    };
    // An httpd log whose first file holds a `\"` (which only httpd writes), then plain lines both servers write alike.
    const escaped = '192.0.2.66 - - [15/Jan/2025:10:32:01 +0000] "GET /a?q=\\" OR 1 HTTP/1.1" 400 226 "-" "x"';
    const plain = `${line(1)}\n${line(2)}\n`;
    const memo: FormatMemo = { last: null };
    expect(await read('access.log.1', `${escaped}\n${line(3)}\n`, memo)).toBe('apache-combined');
    expect(memo.last?.id).toBe('apache-combined');
    expect(await read('access.log', plain, memo)).toBe('apache-combined');
    // Alone, the plain file goes to the first format in the registry that reads it.
    expect(await read('access.log', plain, { last: null })).toBe('nginx-combined');
    // A file the remembered format does not read is detected afresh, and is remembered in turn.
    const alb = FORMATS.find((format) => format.id === 'aws-alb')!;
    expect(await read('alb.log', `${alb.example}\n`, memo)).toBe('aws-alb');
    expect(memo.last).toBe(alb);
  });

  describe('a file whose lines are ones its server writes besides its requests', () => {
    // Real lines: HAProxy's connection notice (elastic/beats filebeat/module/haproxy/log/test/default.log)
    // and nginx's error log, in ngx_log_error_core's layout (docs/formats.md, nginx: other lines on the same stream).
    const haproxyNotice = (i: number): string => `Sep 20 15:42:59 1.128.3.4 haproxy[24551]: Connect from 1.128.3.4:${40000 + i} to 1.128.3.4:5000 (main/HTTP)`;
    const nginxError = (i: number): string => `2024/01/15 10:32:${String(i % 60).padStart(2, '0')} [error] 12#12: *${i} upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.${i % 250}, server: _, request: "GET /v1/items/${i} HTTP/1.1", upstream: "http://127.0.0.1:8080/v1/items/${i}", host: "api.example.com"`;
    const haproxyRequest = (i: number): string =>
      `Jan 15 10:32:${String(i % 60).padStart(2, '0')} lb1 haproxy[2211]: 203.0.113.24:${50000 + i} [15/Jan/2025:10:32:${String(i % 60).padStart(2, '0')}.373] fe_api~ be_api/app1 0/0/1/81/84 200 1984 - - ---- 312/298/41/12/0 0/0 "GET /v1/orders/${i} HTTP/1.1"`;
    const read = async (text: string, listed: boolean, keepGoing = false) => {
      const parsed = parseSource({ name: 'var/log/x.log', listed, open: () => Readable.from([Buffer.from(text)]) }, { candidates: FORMATS, keepGoing });
      let records = 0;
      for await (const batch of parsed.batches) records += batch.length;
      return { records, stats: parsed.stats };
    };

    it('is detected on its first line with a request, past notices that fill whole batches', async () => {
      const text = `${Array.from({ length: 1300 }, (_, i) => haproxyNotice(i)).join('\n')}\n${Array.from({ length: 40 }, (_, i) => haproxyRequest(i)).join('\n')}\n`;
      const { records, stats } = await read(text, false);
      expect(stats).toMatchObject({ format: 'haproxy', undetected: null, linesRead: 1340, ignored: 1300, skipped: 0, records: 40 });
      expect(records).toBe(40);
    });

    it('is passed over with a note when a directory listing found it (an error.log beside the access logs)', async () => {
      const text = `${Array.from({ length: 700 }, (_, i) => nginxError(i)).join('\n')}\n`;
      const { records, stats } = await read(text, true);
      expect(records).toBe(0);
      expect(stats).toMatchObject({ format: null, undetected: null, error: null, linesRead: 700, ignored: 700, skipped: 0 });
      expect(stats.warnings.map((warning) => [warning.code, warning.line])).toEqual([['PARSE_NO_REQUESTS', 1]]);
      expect(stats.warnings[0]!.message).toMatch(/^holds no request: all 700 lines are of the kind a server writes besides its requests/);
      expect(stats.warnings[0]!.sample).toBe(nginxError(0).slice(0, 160) + '…');
    });

    it('fails the run when it was named as an input: nothing of it parses', async () => {
      const text = `${nginxError(1)}\n${nginxError(2)}\n`;
      await expect(read(text, false)).rejects.toThrow(/cannot read var\/log\/x\.log: holds no request: all 2 lines are .* \(use --keep-going/);
      const kept = await read(text, false, true);
      expect(kept.stats).toMatchObject({ format: null, linesRead: 2, ignored: 2, skipped: 0 });
      expect(kept.stats.undetected).toMatch(/^holds no request/);
    });

    it('is never a file of access records in a layout alf does not read, whatever a format ignores', async () => {
      // A Go service's own access log through zap (`ts`, `caller`, `msg`, then its fields): a Go
      // logger's JSON line, which Traefik's and Tyk's readers ignore as their own software's.
      const goService = (i: number): string => `{"level":"info","ts":1646861401.${i},"caller":"http/server.go:88","msg":"request completed","method":"GET","path":"/v1/orders/${i}","status":200,"latency":0.0031}`;
      const text = `${Array.from({ length: 3 }, (_, i) => goService(i)).join('\n')}\n`;
      await expect(read(text, true)).rejects.toThrow(/no known format fits; closest was \S+ \(0% of sample lines\); its lines carry an HTTP status and a request, as access records do/);
      // Nor do they keep a file of notices waiting once they come.
      const after = `${haproxyNotice(1)}\n${goService(1)}\n`;
      await expect(read(after, true)).rejects.toThrow(/no known format fits/);
    });

    it('still fails as no format fitting when a line after the notices is no request either', async () => {
      const text = `${haproxyNotice(1)}\nsomething else entirely\n`;
      await expect(read(text, true)).rejects.toThrow(/no known format fits/);
    });
  });
});
