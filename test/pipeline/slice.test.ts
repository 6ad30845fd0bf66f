import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/model/errors.js';
import { emptyApmTransaction, emptyProxyRecord, type ApmTransaction, type ProxyRecord } from '../../src/model/records.js';
import { Slicer, timeBoundsTest } from '../../src/pipeline/slice.js';
import { checkSlice, describeSlice, parseTimeBound, parseWhere, type SliceSpec } from '../../src/pipeline/slice-spec.js';
import { analyze, analyzeRecords } from '../../src/pipeline/analyze.js';
import { loadLogFormat } from '../../src/parse/log-format.js';
import { renderHtml } from '../../reports/html.js';
import { INCIDENT_DIR } from '../reports/report-fixtures.js';
import { DEFAULT_JOIN_OPTIONS } from '../../src/join/options.js';
import type { JoinedRequest } from '../../src/model/records.js';
import { DEFAULT_JOIN_SCENARIO, JoinScenario, inBatches } from '../generators/join-scenarios.js';

const T0 = Date.parse('2017-03-14T09:00:00Z');
const MARGINS = { maxSkewMs: 30_000, horizonMs: 65_000 };

function proxy(fields: Partial<ProxyRecord>): ProxyRecord {
  return { ...emptyProxyRecord('nginx', 'access.log', 1, ''), endMs: T0, upstreamLogged: true, ...fields };
}

function apm(fields: Partial<ApmTransaction>): ApmTransaction {
  return { ...emptyApmTransaction('newrelic-csv', 'nr.csv', 2, ''), startMs: T0, durationMs: 100, ...fields };
}

function slicer(where: string[], since?: string, until?: string): Slicer {
  const spec: SliceSpec = {
    since: since === undefined ? null : parseTimeBound(since, '--since', T0),
    until: until === undefined ? null : parseTimeBound(until, '--until', T0),
    where: where.map(parseWhere),
  };
  return new Slicer(checkSlice(spec), MARGINS);
}

describe('--since and --until', () => {
  it('read ISO times as UTC unless they carry a zone, at any precision from the day to the millisecond', () => {
    expect(parseTimeBound('2017-03-14T09:05:00Z', '--since').ms).toBe(Date.parse('2017-03-14T09:05:00Z'));
    expect(parseTimeBound('2017-03-14 09:05', '--since').ms).toBe(Date.parse('2017-03-14T09:05:00Z'));
    expect(parseTimeBound('2017-03-14', '--since').ms).toBe(Date.parse('2017-03-14T00:00:00Z'));
    expect(parseTimeBound('2017-03-14T11:05:00+02:00', '--since').ms).toBe(Date.parse('2017-03-14T09:05:00Z'));
    expect(parseTimeBound('2017-03-14T11:05:00+0200', '--since').ms).toBe(Date.parse('2017-03-14T09:05:00Z'));
    expect(parseTimeBound('2017-03-14T09:05:00.250Z', '--since').ms).toBe(Date.parse('2017-03-14T09:05:00.250Z'));
  });

  it('read a duration as that long before now', () => {
    expect(parseTimeBound('2h', '--since', T0).ms).toBe(T0 - 2 * 3_600_000);
    expect(parseTimeBound('90s', '--until', T0)).toEqual({ ms: T0 - 90_000, text: '90s' });
  });

  it('refuse anything else with a one-line usage error naming the option', () => {
    for (const text of ['yesterday', '2017-13-01', '2017-03-14T25:00', '-2h', '09:05', '']) {
      expect(() => parseTimeBound(text, '--since'), text).toThrow(UsageError);
      expect(() => parseTimeBound(text, '--since'), text).toThrow(/^--since: /);
    }
    expect(() => slicer([], '2017-03-14T10:00', '2017-03-14T09:00')).toThrow(/--since .* is not before --until/);
  });

  it('keep proxy records logged in [since, until)', () => {
    const s = slicer([], '2017-03-14T09:00:10Z', '2017-03-14T09:00:20Z');
    expect(s.keepProxy(proxy({ endMs: T0 + 9_999 }))).toBe(false);
    expect(s.keepProxy(proxy({ endMs: T0 + 10_000 }))).toBe(true);
    expect(s.keepProxy(proxy({ endMs: T0 + 19_999 }))).toBe(true);
    expect(s.keepProxy(proxy({ endMs: T0 + 20_000 }))).toBe(false);
    expect(s.counts).toMatchObject({ proxyKept: 2, proxyOutside: 2 });
  });

  it('let an APM transaction through to the join when it may be a kept request\'s partner, and keep it alone only inside the bounds', () => {
    const s = slicer([], '2017-03-14T09:10:00Z', '2017-03-14T09:20:00Z');
    const since = Date.parse('2017-03-14T09:10:00Z');
    // Started 60 s before --since: a 60 s request ending inside the slice has this partner.
    const early = apm({ startMs: since - 60_000, durationMs: 1_000 });
    expect(s.mayJoin(early)).toBe(true);
    expect(s.keepJoined({ proxy: null, apm: early, method: 'none', confidence: 0, offsetMs: null })).toBe(false);
    expect(s.keepJoined({ proxy: proxy({ endMs: since + 1 }), apm: early, method: 'heuristic', confidence: 0.9, offsetMs: 0 })).toBe(true);
    expect(s.mayJoin(apm({ startMs: since - 10 * 60_000 }))).toBe(false);
    expect(s.counts).toMatchObject({ apmKept: 1, apmOutside: 2 });
  });

  it('as time bounds alone, test proxy records strictly and APM transactions with the join\'s margins', () => {
    const spec = checkSlice({ since: parseTimeBound('2017-03-14T09:10', '--since'), until: null, where: [] });
    const keep = timeBoundsTest(spec, MARGINS)!;
    const since = spec.since!.ms;
    expect(keep(proxy({ endMs: since - 1 }))).toBe(false);
    expect(keep(apm({ startMs: since - 60_000 }))).toBe(true);
    expect(timeBoundsTest({ since: null, until: null, where: [] }, MARGINS)).toBeNull();
  });
});

describe('a time slice with an APM export', () => {
  it('joins the requests logged in it as the whole log does, at the same offset and with the same partners', async () => {
    // 10 minutes at 300 requests a second, the APM clock 350 ms ahead; the slice is minutes 4 to 6.
    const scenario = new JoinScenario({ durationSeconds: 600, hotRatePerSecond: 200, backgroundRatePerSecond: 100, seed: 3, skewMs: 350 });
    const { proxies, transactions } = scenario.collect();
    const partners = async (spec: SliceSpec | undefined): Promise<{ offsetMs: number | null; partnerOf: Map<string, string | null> }> => {
      const partnerOf = new Map<string, string | null>();
      const analysis = await analyzeRecords({
        proxyStreams: [inBatches(proxies)], apmStreams: [inBatches(transactions)], files: () => [], budget: null, join: DEFAULT_JOIN_OPTIONS,
        slice: spec, observers: [{ observe: (request: JoinedRequest) => { if (request.proxy) partnerOf.set(request.proxy.raw, request.apm?.raw ?? null); } }],
      });
      return { offsetMs: analysis.join.offsetMs, partnerOf };
    };
    const start = DEFAULT_JOIN_SCENARIO.startMs;
    const whole = await partners(undefined);
    const sliced = await partners({ since: { ms: start + 240_000, text: '4 min in' }, until: { ms: start + 360_000, text: '6 min in' }, where: [] });
    expect(sliced.offsetMs).toBe(whole.offsetMs);
    expect(sliced.partnerOf.size).toBeGreaterThan(30_000);
    // The requests of the slice have the partners they have in the whole log: those of the
    // requests just before the slice are theirs, not free for the slice's to take. (A handful
    // differ where the join's own 5 s steps fall elsewhere; with the slice's own requests alone
    // in the join, 47 of 48 k did on the bench's queued inputs.)
    const differ = [...sliced.partnerOf].filter(([proxy, partner]) => whole.partnerOf.get(proxy) !== partner);
    expect(differ.length).toBeLessThanOrEqual(sliced.partnerOf.size / 2000);
  }, 60_000);
});

describe('a slice\'s requests in the join', () => {
  it('meet the requests just before the slice as competitors: a transaction of one of those is not free for them to take', async () => {
    const since = T0 + 60_000;
    // Logged 0.9 s before the slice, with its transaction; then, in the slice, a request to the same
    // URL as long, started 0.9 s after the first, whose transaction the export lacks (sampled out).
    const before = proxy({ raw: 'before', path: '/v1/orders', method: 'GET', endMs: since - 900, requestTimeMs: 100, upstreamTimeMs: 100, upstreamStatus: 200, status: 200 });
    const inside = proxy({ raw: 'inside', path: '/v1/orders', method: 'GET', endMs: since + 10, requestTimeMs: 100, upstreamTimeMs: 100, upstreamStatus: 200, status: 200 });
    const partner = apm({ raw: 'before', path: '/v1/orders', method: 'GET', startMs: since - 1_000, durationMs: 100 });
    const requests: JoinedRequest[] = [];
    const analysis = await analyzeRecords({
      proxyStreams: [inBatches([before, inside])], apmStreams: [inBatches([partner])], files: () => [], budget: null,
      join: { ...DEFAULT_JOIN_OPTIONS, offsetMs: 0, startSigmaMs: 1_000 },
      slice: { since: { ms: since, text: 'since' }, until: null, where: [] },
      observers: [{ observe: (request: JoinedRequest) => { requests.push(request); } }],
    });
    expect(requests.map((request) => [request.proxy?.raw ?? null, request.apm?.raw ?? null])).toEqual([['inside', null]]);
    // The join's figures are the slice's.
    expect(analysis.join).toMatchObject({ proxyRecords: 1, joinedHeuristic: 0, unjoinedProxy: 1, apmRecords: 0, unjoinedApm: 0, joinedShare: 0 });
  });
});

describe('--where', () => {
  it('parses FIELD=VALUE, !=, ~ and !~ for every field, with aliases', () => {
    expect(parseWhere('status=5xx')).toEqual({ field: 'status', operator: '=', values: ['5xx'], text: 'status=5xx' });
    expect(parseWhere('status!=499,2XX').values).toEqual(['499', '2xx']);
    expect(parseWhere('user-agent~python').field).toBe('ua');
    expect(parseWhere('ip=203.0.113.0/24').field).toBe('client');
    expect(parseWhere('api-key!~test')).toMatchObject({ field: 'key', operator: '!~', values: ['test'] });
    // A user agent keeps its commas and spaces: only status and client take lists.
    expect(parseWhere('ua=Mozilla/5.0 (X11; Linux, x86_64)').values).toEqual(['Mozilla/5.0 (X11; Linux, x86_64)']);
  });

  it('refuses unknown fields, empty values, bad statuses and networks, and ~ where it means nothing', () => {
    for (const text of ['host=x', 'status', 'status=', 'status=6xx', 'status=20', 'status~5', 'client=300.1.1.1', 'client=10.0.0.0/33', 'client=10.0.0.0/x', '=5xx']) {
      expect(() => parseWhere(text), text).toThrow(UsageError);
    }
  });

  it('matches status codes, classes and the missing status', () => {
    const s = slicer(['status=5xx', 'status=499']);
    expect([502, 504, 499, 404, 200].map((status) => s.keepProxy(proxy({ status })))).toEqual([true, true, true, false, false]);
    const none = slicer(['status=-']);
    expect(none.keepProxy(proxy({ status: null }))).toBe(true);
    expect(none.keepProxy(proxy({ status: 200 }))).toBe(false);
    const not2xx = slicer(['status!=2xx', 'status!=3xx']);
    expect([200, 302, 404].map((status) => not2xx.keepProxy(proxy({ status })))).toEqual([false, false, true]);
  });

  it('matches a route by its template (given as a template or as a concrete path), and a path by prefix', () => {
    const byTemplate = slicer(['route=/v2/applications/:id/metrics.json']);
    const byExample = slicer(['route=/v2/applications/77/metrics.json']);
    const record = proxy({ path: '/v2/applications/1028/metrics.json' });
    expect(byTemplate.keepProxy(record)).toBe(true);
    expect(byExample.keepProxy({ ...record })).toBe(true);
    expect(byTemplate.keepProxy(proxy({ path: '/v2/applications/1028/hosts.json' }))).toBe(false);
    const prefix = slicer(['path=/v2/app']);
    expect(prefix.keepProxy(proxy({ path: '/v2/applications/1' }))).toBe(true);
    expect(prefix.keepProxy(proxy({ path: '/v1/v2/applications' }))).toBe(false);
  });

  it('matches keys exactly, user agents by contains in any case, client networks (IPv4 and IPv6) and upstream hosts or addresses', () => {
    expect(slicer(['key=k1']).keepProxy(proxy({ apiKey: 'k1' }))).toBe(true);
    expect(slicer(['key=k1']).keepProxy(proxy({ apiKey: 'k10' }))).toBe(false);
    expect(slicer(['ua~PYTHON']).keepProxy(proxy({ userAgent: 'python-requests/2.31' }))).toBe(true);
    const network = slicer(['client=203.0.113.0/24,2001:db8::/32']);
    expect(['203.0.113.9', '203.0.114.9', '2001:db8::7', '::ffff:203.0.113.9', 'not-an-ip'].map((clientIp) => network.keepProxy(proxy({ clientIp }))))
      .toEqual([true, false, true, true, false]);
    // An IPv6 network holds IPv6 clients only, though Node's BlockList would also match IPv4 ones.
    const everyIpv6 = slicer(['client=::/0']);
    expect(['2001:db8::7', '::1', '203.0.113.9', '::ffff:203.0.113.9'].map((clientIp) => everyIpv6.keepProxy(proxy({ clientIp })))).toEqual([true, true, false, false]);
    const upstream = slicer(['upstream=10.0.0.7']);
    expect(upstream.keepProxy(proxy({ upstreamAddr: '10.0.0.7:8080' }))).toBe(true);
    expect(upstream.keepProxy(proxy({ upstreamAddr: '10.0.0.8:80, 10.0.0.7:80' }))).toBe(true);
    expect(upstream.keepProxy(proxy({ upstreamAddr: '10.0.0.70:80' }))).toBe(false);
  });

  it('drops a proxy record that lacks the field a clause asks about', () => {
    expect(slicer(['key=k1']).keepProxy(proxy({ apiKey: null }))).toBe(false);
    expect(slicer(['key!=k1']).keepProxy(proxy({ apiKey: null }))).toBe(false);
  });

  it('different fields must all hold', () => {
    const s = slicer(['status=4xx', 'key=k1']);
    expect(s.keepProxy(proxy({ status: 404, apiKey: 'k1' }))).toBe(true);
    expect(s.keepProxy(proxy({ status: 404, apiKey: 'k2' }))).toBe(false);
    expect(s.keepProxy(proxy({ status: 200, apiKey: 'k1' }))).toBe(false);
  });

  it('lets every transaction of the time through to the join, and judges one left alone on what it carries', () => {
    const byKey = slicer(['key=k1']);
    // A k2 transaction is a k2 request's partner, not free for a k1 request to take.
    expect(byKey.mayJoin(apm({ apiKey: 'k2' }))).toBe(true);
    expect(byKey.keepJoined({ proxy: proxy({ apiKey: 'k2' }), apm: apm({ apiKey: 'k2' }), method: 'heuristic', confidence: 0.9, offsetMs: 0 })).toBe(false);
    // No key in the export: kept alone only when it passes on its own.
    const unknown = apm({ apiKey: null });
    expect(byKey.mayJoin(unknown)).toBe(true);
    expect(byKey.keepJoined({ proxy: null, apm: unknown, method: 'none', confidence: 0, offsetMs: null })).toBe(false);
    expect(byKey.keepJoined({ proxy: null, apm: apm({ apiKey: 'k1' }), method: 'none', confidence: 0, offsetMs: null })).toBe(true);
    // A status clause is about the client-facing status, which only the proxy logs.
    const byStatus = slicer(['status=5xx']);
    const lone = apm({ status: 500 });
    expect(byStatus.mayJoin(lone)).toBe(true);
    expect(byStatus.keepJoined({ proxy: null, apm: lone, method: 'none', confidence: 0, offsetMs: null })).toBe(false);
  });

  it('describes itself in one line for the report header', () => {
    const spec = checkSlice({ since: parseTimeBound('2017-03-14 09:05', '--since'), until: null, where: [parseWhere('status=5xx'), parseWhere('ua~curl')] });
    expect(describeSlice(spec)).toBe('since 2017-03-14T09:05:00Z, where status=5xx and ua~curl');
  });

  it('says "or" where one field\'s clauses are alternatives, "and" for its negations and across fields, as they are judged', () => {
    const where = ['status=4xx', 'ua~curl', 'status=5xx', 'status!=404', 'status!=499'].map(parseWhere);
    expect(describeSlice(checkSlice({ since: null, until: null, where }))).toBe('where (status=4xx or status=5xx) and status!=404 and status!=499 and ua~curl');
    const test = slicer(['status=4xx', 'status=5xx', 'status!=404']);
    expect([404, 403, 502, 200].map((status) => test.keepProxy(proxy({ status })))).toEqual([false, true, true, false]);
  });
});

describe('a slice in the report', () => {
  it('the verdict and the HTML cards say how much of the logs the slice keeps, as the banner does', async () => {
    const { format, configFiles } = loadLogFormat(undefined, undefined, [INCIDENT_DIR]);
    const analysis = await analyze({
      inputs: [INCIDENT_DIR], apmInputs: [], logFormat: format, budget: null, join: DEFAULT_JOIN_OPTIONS, keepGoing: false, excludeFiles: configFiles,
      slice: { since: null, until: null, where: [parseWhere('status=5xx')] },
    });
    const slice = analysis.slice!;
    expect(slice.proxyKept).toBeGreaterThan(0);
    expect(slice.proxyKept).toBeLessThan(analysis.inputs.totals.proxyRecords);
    expect(analysis.verdict.at(-1)!.text).toContain(`; the slice keeps ${slice.proxyKept} proxy requests and ${slice.apmKept} APM transactions.`);
    const html = await renderHtml(analysis);
    expect(html).toContain(`<dt>proxy requests</dt><dd>${slice.proxyKept} of ${analysis.inputs.totals.proxyRecords.toLocaleString('en-US')}</dd>`);
  });
});
