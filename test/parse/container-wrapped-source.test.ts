import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../../parsers/registry.js';
import { parseSource, type ParsedSource } from '../../src/parse/parse-source.js';
import type { LogRecord, ProxyRecord } from '../../src/model/records.js';
import { ROOT } from '../cli/run-cli.js';

/**
 * Real ingress-nginx lines (test/fixtures/real/beats-nginx-ingress.json: Elastic Beats' filebeat
 * module test log, Apache-2.0) as a node's container runtime stores them: in CRI and in Docker's
 * json-file wrapper (the wrappers as in src/lines/container-log.ts), with nginx's own error-log
 * lines on stderr between them, as the official images send them.
 */
const ingress = (JSON.parse(readFileSync(join(ROOT, 'test/fixtures/real/beats-nginx-ingress.json'), 'utf8')) as { lines: { line: string }[] }).lines.map((l) => l.line);
const ERROR_LOG = '2020/02/07 11:48:51 [error] 41#41: *6 connect() failed (111: Connection refused) while connecting to upstream';
const time = (i: number): string => `2020-02-07T11:48:${String(i % 60).padStart(2, '0')}.123456789Z`;

function source(name: string, text: string): { name: string; open: () => Readable } {
  return { name, open: () => Readable.from([Buffer.from(text)]) };
}

async function read(parsed: ParsedSource): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const batch of parsed.batches) records.push(...batch);
  return records;
}

/** What does not depend on where a line sat in its file. */
const content = (record: LogRecord): Omit<LogRecord, 'line' | 'file'> => {
  const { line: _line, file: _file, ...rest } = record;
  return rest;
};

describe('a log inside a container runtime wrapper', () => {
  it('reads the lines inside CRI and Docker json-file wrappers as the plain file, cited at the wrapped file\'s lines', async () => {
    const plain = parseSource(source('plain.log', `${ingress.join('\n')}\n`), { candidates: FORMATS });
    const expected = await read(plain);
    expect(expected.length).toBeGreaterThan(20);

    const cri: string[] = [];
    const docker: string[] = [];
    ingress.forEach((line, i) => {
      cri.push(`${time(i)} stdout F ${line}`);
      docker.push(JSON.stringify({ log: `${line}\n`, stream: 'stdout', time: time(i) }));
      if (i % 10 === 3) {
        cri.push(`${time(i)} stderr F ${ERROR_LOG}`);
        docker.push(JSON.stringify({ log: `${ERROR_LOG}\n`, stream: 'stderr', time: time(i) }));
      }
    });
    for (const [name, lines, wrapper] of [['0.log', cri, 'cri'], ['abc-json.log', docker, 'docker-json']] as const) {
      const parsed = parseSource(source(name, `${lines.join('\n')}\n`), { candidates: FORMATS });
      const records = await read(parsed);
      expect(parsed.stats.format, name).toBe(plain.stats.format);
      expect(parsed.stats.container).toBe(wrapper);
      expect(records.map(content)).toEqual(expected.map(content));
      // Each record cites its own line of the wrapped file.
      for (const record of records) {
        const wrapped = lines[record.line - 1]!;
        if (wrapper === 'cri') expect(wrapped.endsWith(` stdout F ${record.raw}`)).toBe(true);
        else expect((JSON.parse(wrapped) as { log: string }).log).toBe(`${record.raw}\n`);
      }
      // nginx's error-log lines on stderr are ignored, not skipped; every line is accounted for.
      const stderrLines = lines.filter((l) => l.includes('stderr')).length;
      expect(parsed.stats.ignored).toBe(stderrLines);
      expect(parsed.stats.skipped).toBe(plain.stats.skipped);
      expect(parsed.stats.linesRead).toBe(parsed.stats.records + parsed.stats.skipped + parsed.stats.ignored);
    }
    expect(plain.stats.container).toBeUndefined();
  });

  it('reads Envoy Gateway\'s JSON lines from a Kubernetes node as they were stored, CRI prefixes and all', async () => {
    // CrowdSec's Envoy parser test file (crowdsecurity/hub .tests/envoy-logs/envoy.log, MIT), verbatim:
    // three Envoy Gateway JSON lines and one Envoy text line, each behind containerd's prefix. The
    // text line is read by Envoy's text format, the JSON one's sibling (parsers/siblings.ts): it was skipped.
    const path = join(ROOT, 'test/fixtures/real/crowdsec-envoy-gateway-cri.log');
    const parsed = parseSource(source(path, readFileSync(path, 'utf8')), { candidates: FORMATS });
    const records = (await read(parsed)) as ProxyRecord[];
    expect(parsed.stats).toMatchObject({ format: 'envoy-json', container: 'cri', linesRead: 4, records: 4, skipped: 0, ignored: 0 });
    // The same fields as the fixture's unwrapped lines (test/fixtures/real/crowdsec-envoy-gateway.json).
    expect(records.map((r) => [r.line, r.format, r.method, r.path, r.status, r.upstreamStatus, r.clientIp])).toEqual([
      [1, 'envoy-json', 'GET', '/assets/image.webp', 200, 200, '10.0.0.12'],
      [2, 'envoy-json', 'GET', '/', 301, null, '192.168.1.45'],
      [3, 'envoy-json', 'HEAD', '/.env', 404, 404, '172.16.2.33'],
      [4, 'envoy', 'POST', '/api/v1/locations', 204, 204, '10.0.35.28'],
    ]);
  });

  it('reads `docker logs --timestamps` output (a time before every line, no stream) when the lines as they are fit no format', async () => {
    const plain = parseSource(source('plain.log', `${ingress.join('\n')}\n`), { candidates: FORMATS });
    const expected = await read(plain);
    // Docker writes nine fraction digits; kubectl --timestamps trims trailing zeros. nginx's error log joins the stream.
    const lines: string[] = [];
    ingress.forEach((line, i) => {
      lines.push(`${i % 2 === 0 ? time(i) : time(i).replace('123456789Z', '1234Z')} ${line}`);
      if (i % 10 === 3) lines.push(`${time(i)} ${ERROR_LOG}`);
    });
    const parsed = parseSource(source('docker-logs.txt', `${lines.join('\n')}\n`), { candidates: FORMATS });
    const records = await read(parsed);
    expect([parsed.stats.format, parsed.stats.container]).toEqual([plain.stats.format, 'timestamps']);
    expect(records.map(content)).toEqual(expected.map(content));
    expect(parsed.stats.ignored).toBe(lines.filter((l) => l.includes('[error]')).length);
    expect(parsed.stats.linesRead).toBe(parsed.stats.records + parsed.stats.skipped + parsed.stats.ignored);
  });

  it('leaves a format that starts with such a time of its own as it is (a Classic Load Balancer log)', async () => {
    const elb = (JSON.parse(readFileSync(join(ROOT, 'test/fixtures/real/vector-aws-clb.json'), 'utf8')) as { lines: { line: string }[] }).lines.map((l) => l.line);
    const parsed = parseSource(source('elb.log', `${elb.join('\n')}\n`), { candidates: FORMATS });
    const records = await read(parsed);
    expect([parsed.stats.format, parsed.stats.container]).toEqual(['aws-elb-classic', undefined]);
    expect(records).toHaveLength(elb.length);
  });

  it('joins a request line the runtime split in parts, and counts a line out of the wrapper as skipped', async () => {
    const [first] = ingress;
    const lines = [
      `${time(0)} stdout P ${first!.slice(0, 40)}`,
      `${time(0)} stdout P ${first!.slice(40, 90)}`,
      `${time(0)} stdout F ${first!.slice(90)}`,
      'garbage a shipper wrote into the file',
      `${time(1)} stdout F ${ingress[1]}`,
      `${time(2)} stdout F ${ingress[2]}`,
      `${time(3)} stdout F ${ingress[3]}`,
      `${time(4)} stdout F ${ingress[4]}`,
    ];
    const parsed = parseSource(source('0.log', `${lines.join('\n')}\n`), { candidates: FORMATS });
    const records = await read(parsed);
    expect(records.map((r) => [r.line, r.raw])).toEqual([[1, first], [5, ingress[1]], [6, ingress[2]], [7, ingress[3]], [8, ingress[4]]]);
    expect(parsed.stats.ignored).toBe(2);
    expect(parsed.stats.skipped).toBe(1);
    expect(parsed.stats.firstIssues[0]).toMatchObject({ line: 4, message: 'not a CRI container log line' });
  });

  it('reads the lines inside a syslog header (nginx\'s `access_log syslog:`, `journalctl`), and leaves HAProxy\'s own header to HAProxy', async () => {
    const plain = parseSource(source('plain.log', `${ingress.join('\n')}\n`), { candidates: FORMATS });
    const expected = await read(plain);
    const syslog = ingress.map((line, i) => `Feb  7 11:48:${String(i % 60).padStart(2, '0')} ingress-1 nginx: ${line}`);
    const wrapped = parseSource(source('syslog', `${syslog.join('\n')}\n`), { candidates: FORMATS });
    const records = await read(wrapped);
    expect([wrapped.stats.format, wrapped.stats.container, wrapped.stats.skipped]).toEqual([plain.stats.format, 'syslog', 0]);
    expect(records.map(content)).toEqual(expected.map(content));
    // A real HAProxy syslog file (test/fixtures/real/lnav-haproxy.json) is HAProxy's, header and all.
    const haproxy = (JSON.parse(readFileSync(join(ROOT, 'test/fixtures/real/lnav-haproxy.json'), 'utf8')) as { lines: { line: string }[] }).lines.map((l) => l.line);
    const own = parseSource(source('haproxy.log', `${haproxy.join('\n')}\n`), { candidates: FORMATS });
    await read(own);
    expect([own.stats.format, own.stats.container]).toEqual(['haproxy', undefined]);
  });
});
