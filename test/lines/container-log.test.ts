import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContainerLogReader, detectContainerWrapper, looksWrapped, parseCriLine, parseDockerLine, parseSyslogLine, parseTimestampedLine, type UnwrappedLine } from '../../src/lines/container-log.js';

/**
 * Wrapper lines as the container runtimes write them, from Elastic Beats' reader tests
 * (elastic/beats libbeat/reader/readjson/docker_json_test.go, Apache-2.0): a Calico line in CRI
 * with and without tags, split over P and F parts, and a Redis line in Docker's json-file format,
 * whole and split.
 */
const BEATS = {
  criFull: '2017-09-12T22:32:21.212861448Z stdout F 2017-09-12 22:32:21.212 [INFO][88] table.go 710: Invalidating dataplane cache',
  criNoTags: '2017-09-12T22:32:21.212861448Z stdout 2017-09-12 22:32:21.212 [INFO][88] table.go 710: Invalidating dataplane cache',
  criPartial: '2017-10-12T13:32:21.232861448Z stdout P 2017-10-12 13:32:21.212 [INFO][88] table.go 710: Invalidating dataplane cache',
  criLast: '2017-11-12T23:32:21.212771448Z stdout F  error',
  criStderr: '2017-11-12T23:32:21.212771448Z stderr F 2017-11-12 23:32:21.212 [ERROR][77] table.go 111: error',
  dockerFull: '{"log":"1:M 09 Nov 13:27:36.276 # User requested shutdown...\\n","stream":"stdout","time":"2017-11-09T13:27:36.277747246Z"}',
  dockerPart: '{"log":"1:M 09 Nov 13:27:36.276 # User requested ","stream":"stdout","time":"2017-11-09T13:27:36.277747246Z"}',
  dockerRest: '{"log":"shutdown...\\n","stream":"stdout","time":"2017-11-09T13:27:36.277747246Z"}',
  dockerAttrs: '{"log":"hello\\n","stream":"stdout","attrs":{"KEY1":"value1","KEY2":"value2"},"time":"2017-11-09T13:27:36.277747246Z"}',
  notJson: 'this is not JSON',
  criCut: '2017-09-12T22:32:21.212861448Z stdout',
  neither: '{this is not JSON nor CRI',
  dockerNoTime: '{"log":"1:M 09 Nov 13:27:36.276 # User requested shutdown...\\n","stream":"stdout"}',
};

function unwrapAll(reader: ContainerLogReader, lines: string[], maxBatch = lines.length): { out: UnwrappedLine[]; held: number; bad: string[] } {
  const out: UnwrappedLine[] = [];
  let held = 0;
  const bad: string[] = [];
  const events = { held: () => { held++; }, bad: (line: number, _text: string, why: string) => { bad.push(`${line}: ${why}`); }, tooLong: () => { bad.push('too long'); } };
  for (let i = 0; i < lines.length; i += maxBatch) reader.unwrap(lines.slice(i, i + maxBatch), i + 1, null, out, events);
  reader.end(out, events);
  return { out, held, bad };
}

describe('container runtime wrappers', () => {
  it('reads a CRI line with tags, and the older form without', () => {
    const content = '2017-09-12 22:32:21.212 [INFO][88] table.go 710: Invalidating dataplane cache';
    expect(parseCriLine(BEATS.criFull)).toEqual({ text: content, stderr: false, partial: false });
    expect(parseCriLine(BEATS.criNoTags)).toEqual({ text: content, stderr: false, partial: false });
    expect(parseCriLine(BEATS.criPartial)?.partial).toBe(true);
    expect(parseCriLine(BEATS.criStderr)?.stderr).toBe(true);
  });

  it('reads a Docker json-file line without its newline, and keeps none of its other keys', () => {
    expect(parseDockerLine(BEATS.dockerFull)).toEqual({ text: '1:M 09 Nov 13:27:36.276 # User requested shutdown...', stderr: false, partial: false, newline: true });
    expect(parseDockerLine(BEATS.dockerAttrs)).toEqual({ text: 'hello', stderr: false, partial: false, newline: true });
    expect(parseDockerLine(BEATS.dockerPart)?.partial).toBe(true);
  });

  it('refuses what Beats refuses: not JSON, a CRI line cut before its text, neither, JSON without a time', () => {
    for (const line of [BEATS.notJson, BEATS.criCut, BEATS.neither, BEATS.dockerNoTime]) {
      expect(parseCriLine(line), line).toBeNull();
      expect(parseDockerLine(line), line).toBeNull();
    }
  });

  it('joins a split line as Beats does, cited at its first part, the continuation counted as held', () => {
    const cri = unwrapAll(new ContainerLogReader('cri', 1 << 20), [BEATS.criPartial, BEATS.criLast]);
    expect(cri.out).toEqual([{ text: '2017-10-12 13:32:21.212 [INFO][88] table.go 710: Invalidating dataplane cache error', line: 1, stderr: false }]);
    expect(cri.held).toBe(1);
    const docker = unwrapAll(new ContainerLogReader('docker-json', 1 << 20), [BEATS.dockerPart, BEATS.dockerRest]);
    expect(docker.out).toEqual([{ text: '1:M 09 Nov 13:27:36.276 # User requested shutdown...', line: 1, stderr: false }]);
  });

  it('keeps the parts of stdout and stderr apart when they interleave, across batches', () => {
    const lines = [
      '2024-01-01T00:00:00.000000001Z stdout P GET /a',
      '2024-01-01T00:00:00.000000002Z stderr P warn',
      '2024-01-01T00:00:00.000000003Z stdout F bc',
      '2024-01-01T00:00:00.000000004Z stderr F ing',
    ];
    const { out, held, bad } = unwrapAll(new ContainerLogReader('cri', 1 << 20), lines, 1);
    expect(out).toEqual([{ text: 'GET /abc', line: 1, stderr: false }, { text: 'warning', line: 2, stderr: true }]);
    expect(held).toBe(2);
    expect(bad).toEqual([]);
  });

  it('reports a line that is not in the wrapper, parts joined past the cap, and a part never continued', () => {
    const long = `2024-01-01T00:00:00Z stdout P ${'x'.repeat(40)}`;
    const { out, bad } = unwrapAll(new ContainerLogReader('cri', 64), [BEATS.notJson, long, long, '2024-01-01T00:00:00Z stdout F end', long]);
    expect(bad).toEqual(['1: not a CRI container log line', '2: a line joined from container log parts is longer than 64 characters: not parsed']);
    // The last part had nothing after it: read as a line of its own.
    expect(out).toEqual([{ text: 'x'.repeat(40), line: 5, stderr: false }]);
  });

  it('takes JSON lines whole when the file keeps no newline (a shipper\'s copy), and a CRI copy\'s parts by its logtag', () => {
    // Fluent Bit's cri parser keeps containerd's fields (time, stream, logtag, log) and drops the newline.
    const shipped = (log: string, logtag: string): string => JSON.stringify({ time: '2024-01-01T00:00:00.000000001Z', stream: 'stdout', logtag, log });
    const whole = unwrapAll(new ContainerLogReader('docker-json', 1 << 20), [shipped('GET /a', 'F'), shipped('GET /b', 'F')]);
    expect(whole.out.map((u) => u.text)).toEqual(['GET /a', 'GET /b']);
    const parts = unwrapAll(new ContainerLogReader('docker-json', 1 << 20), [shipped('GET /a', 'P'), shipped('bc', 'F'), shipped('GET /d', 'F')]);
    expect(parts.out.map((u) => u.text)).toEqual(['GET /abc', 'GET /d']);
    const untagged = (log: string): string => JSON.stringify({ log, stream: 'stdout', time: '2024-01-01T00:00:00Z' });
    expect(unwrapAll(new ContainerLogReader('docker-json', 1 << 20), [untagged('one'), untagged('two')]).out.map((u) => u.text)).toEqual(['one', 'two']);
  });

  it('tells wrapped files from plain and JSON access logs', () => {
    expect(detectContainerWrapper([BEATS.criFull, BEATS.criPartial, BEATS.criLast, BEATS.criStderr])).toBe('cri');
    expect(detectContainerWrapper([BEATS.dockerFull, BEATS.dockerPart, BEATS.dockerRest, ''])).toBe('docker-json');
    expect(detectContainerWrapper(['192.168.64.1 - - [07/Feb/2020:11:48:51 +0000] "POST /products HTTP/1.1" 200 59 "-" "curl/7.54.0"'])).toBeNull();
    expect(detectContainerWrapper(['{"ClientHost":"10.0.0.1","RequestMethod":"GET","RequestPath":"/","time":"2020-01-01T00:00:00Z"}'])).toBeNull();
    expect(detectContainerWrapper(['', ''])).toBeNull();
  });

  it('gives back whatever text was wrapped, however the runtime split it', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => !s.includes('\n') && !s.includes('\r'));
    fc.assert(fc.property(fc.array(fc.tuple(text, fc.array(fc.nat(60), { maxLength: 3 }), fc.boolean()), { minLength: 1, maxLength: 8 }), fc.constantFrom('cri', 'docker-json'), (entries, wrapper) => {
      const lines: string[] = [];
      const expected: string[] = [];
      for (const [content, cuts, stderr] of entries) {
        const stream = stderr ? 'stderr' : 'stdout';
        const points = [...new Set(cuts.map((c) => Math.min(c, content.length)))].sort((a, b) => a - b).filter((c) => c > 0 && c < content.length);
        const parts = [0, ...points].map((from, k, all) => content.slice(from, k + 1 < all.length ? all[k + 1] : content.length));
        parts.forEach((part, k) => {
          const last = k === parts.length - 1;
          lines.push(wrapper === 'cri'
            ? `2024-01-01T00:00:00.000000000Z ${stream} ${last ? 'F' : 'P'} ${part}`
            : JSON.stringify({ log: last ? `${part}\n` : part, stream, time: '2024-01-01T00:00:00.000000000Z' }));
        });
        expected.push(content);
      }
      // CRI in batches of two; Docker's parts are told by the newlines the file keeps, learned from its first batch.
      const { out, bad } = unwrapAll(new ContainerLogReader(wrapper, 1 << 20), lines, wrapper === 'cri' ? 2 : lines.length);
      expect(bad).toEqual([]);
      // One stream at a time in this property, so lines come out in order.
      expect(out.map((u) => u.text)).toEqual(expected);
    }), { numRuns: 200 });
  });
});

describe('`docker logs --timestamps` lines', () => {
  it('take an RFC 3339 UTC time with a fraction and a space off each line, and nothing else', () => {
    expect(parseTimestampedLine('2020-09-13T11:13:47.401738723Z 172.17.0.1 - - [13/Sep/2020:11:13:47 +0000] "GET / HTTP/1.1" 200 612')?.text)
      .toBe('172.17.0.1 - - [13/Sep/2020:11:13:47 +0000] "GET / HTTP/1.1" 200 612');
    expect(parseTimestampedLine('2020-09-13T11:13:47.4Z x')?.text).toBe('x');
    for (const line of [
      '2020-09-13T11:13:47Z no fraction', '2020-09-13T11:13:47.401738723+02:00 an offset', '2020-09-13 11:13:47.401Z a space for T',
      '2020-09-13T11:13:47.401738723Z\ta tab', '2020-09-1xT11:13:47.4Z x', '172.17.0.1 - - [13/Sep/2020:11:13:47 +0000] "GET / HTTP/1.1" 200 612',
    ]) expect(parseTimestampedLine(line), line).toBeNull();
    expect(looksWrapped(['2020-09-13T11:13:47.4Z a', '', '2020-09-13T11:13:48.5Z b'], 'timestamps')).toBe(true);
    expect(looksWrapped(['2020-09-13T11:13:47.4Z a', 'b', 'c'], 'timestamps')).toBe(false);
  });

  it('reads the line a program logged out of a syslog header, as a syslog file or journalctl writes it', () => {
    // RFC 3164's HEADER as rsyslog writes files and `journalctl -o short` prints (the day padded
    // with a space), with and without a pid; `journalctl -o short-iso` and `short-iso-precise`.
    const access = '203.0.113.24 - - [05/Jan/2025:10:32:01 +0000] "GET /v1/orders HTTP/1.1" 200 612 "-" "curl/8.5.0"';
    for (const line of [
      `Jan  5 10:32:01 web1 nginx: ${access}`,
      `Nov 20 00:12:09 v2202510269591389839 caddy[772]: ${access}`,
      `2025-01-05T10:32:01+0000 web1 nginx[1042]: ${access}`,
      `2025-01-05T10:32:01.123456+00:00 web1 nginx: ${access}`,
    ]) expect(parseSyslogLine(line)?.text, line).toBe(access);
    for (const line of [
      access, 'Jan 5 10:32:01 web1 nginx: x', 'Foo  5 10:32:01 web1 nginx: x', 'Jan  5 10:32 web1 nginx: x',
      'Jan  5 10:32:01 web1 nginx x', 'Jan  5 10:32:01 web1 two words: x', '2025-01-05 10:32:01 web1 nginx: x',
    ]) expect(parseSyslogLine(line), line).toBeNull();
    expect(looksWrapped([`Jan  5 10:32:01 web1 nginx: ${access}`, '', `Jan  5 10:32:02 web1 nginx: ${access}`], 'syslog')).toBe(true);
    expect(looksWrapped([access, access], 'syslog')).toBe(false);
  });
});
