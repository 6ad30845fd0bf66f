import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../generators/random.js';

/**
 * Seeded, streaming generators of realistic inputs for the bench: one request sequence,
 * rendered as nginx `combined`, a pipe-delimited extended nginx format (upstream fields,
 * retry lists), an AWS ALB log, or the New Relic CSV export of the same requests.
 * The same seed and line count always give the same bytes, and the output is written in
 * ~1 MB chunks with back-pressure, so 20 M lines can be piped without touching the disk.
 *
 * Usage: tsx test/bench/generate.ts <combined|extended|alb|newrelic> [--lines N] [--seed S] [--profile standard|high] [--out FILE|-]
 */

export const INPUT_KINDS = ['combined', 'extended', 'alb', 'newrelic'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/**
 * `standard`: the bench's original traffic (4,000 client addresses, a few hundred paths that
 * repeat, 24 agents, 400 requests/s flat), where every interning table and cache hits.
 * `high`: production-like cardinality (issue 26): 60,000 client addresses and 5,000 API keys,
 * Zipf-distributed; ~2,000 paths (Zipf) and ~100 k distinct path+query URLs per 1 M lines;
 * 19 user agents; a day/night curve (1 M lines span about a day); 13% of lines served by nginx
 * itself (no upstream).
 */
export const PROFILES = ['standard', 'high'] as const;
export type Profile = (typeof PROFILES)[number];

/** The extended format (docs/formats.md, nginx: a typical forensic format), for `--log-format`. */
export const EXTENDED_LOG_FORMAT =
  "log_format forensic '$msec|$request_id|$remote_addr|$api_client|$request_method|$request_uri|$status|'\n" +
  "                    '$request_time|$upstream_connect_time|$upstream_header_time|$upstream_response_time|'\n" +
  "                    '$upstream_status|$upstream_addr|$request_length|$bytes_sent|$body_bytes_sent|'\n" +
  "                    '$connection|$connection_requests|$http_traceparent|$http_user_agent';\n";

export const NEWRELIC_HEADER = 'timestamp,duration,name,request.uri,request.method,httpResponseCode,request.headers.userAgent,host,appName';

/** 2025-01-15T00:00:00Z. */
const EPOCH_MS = 1_736_899_200_000;
/** Mean arrival rate: 400 requests/s, so 2 M lines span ~83 minutes and 20 M ~14 hours. */
const MEAN_GAP_MS = 2.5;
/** High-cardinality profile: 1 M lines a day on average (11.6/s), more by day than by night. */
const HIGH_MEAN_GAP_MS = 86.4;
/** The APM host's clock runs this far ahead of the proxy's (the join has to find it). */
const APM_CLOCK_OFFSET_MS = 350;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const USER_AGENTS = [
  'okhttp/4.12.0', 'python-requests/2.31.0', 'Go-http-client/1.1', 'curl/8.5.0', 'newrelic exporter',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'axios/1.6.8', 'Apache-HttpClient/4.5.14 (Java/17.0.10)', 'aws-sdk-js/3.540.0', 'PostmanRuntime/7.37.0',
  'Prometheus/2.51.0', 'kube-probe/1.29', 'Datadog Agent/7.52.0', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  'Ruby', 'Java/11.0.22', 'Wget/1.21.4', 'Slackbot 1.0 (+https://api.slack.com/robots)',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'grpc-go/1.62.1', 'Dart/3.3 (dart:io)',
];
const REFERERS = ['-', '-', '-', 'https://app.example.com/dashboard', 'https://www.example.com/', 'https://app.example.com/orders?page=2'];

/** One request, reused between calls (the generator must outrun alf when piped). */
export interface GeneratedRequest {
  index: number;
  startMs: number;
  endMs: number;
  requestTimeMs: number;
  method: string;
  path: string;
  query: string;
  status: number;
  /** One element per attempt; null for "-". */
  upstreamStatuses: (number | null)[];
  upstreamTimesMs: number[];
  connectTimesMs: (number | null)[];
  headerTimesMs: (number | null)[];
  upstreamAddrs: string[];
  /** Where an internal redirect starts a new upstream group (" : "), or -1. */
  groupBreak: number;
  /** The backend's own view: how long it worked (may outlive the client), null when never reached. */
  backendMs: number | null;
  bytes: number;
  requestLength: number;
  clientIp: string;
  userAgent: string;
  referer: string;
  apiKey: string;
  requestId: string;
  connection: number;
  connectionRequests: number;
}

/** Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s (binary search on the CDF). */
class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  draw(r: SeededRandom): number {
    const u = r.next();
    let low = 0;
    let high = this.cdf.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.cdf[mid]! < u) low = mid + 1; else high = mid;
    }
    return low;
  }
}

/** The high-cardinality profile's distinct values and their Zipf draws. */
interface HighCardinality {
  ipRank: ZipfSampler;
  keyRank: ZipfSampler;
  apiPaths: string[];
  pathRank: ZipfSampler;
  staticPaths: string[];
}

export class RequestGenerator {
  private readonly random: SeededRandom;
  private readonly ips: string[] = [];
  private readonly keys: string[] = [];
  private clock = EPOCH_MS;
  private connection = 88_000;
  private readonly request: GeneratedRequest;
  private readonly high: HighCardinality | null = null;
  private readonly userAgents: readonly string[] = USER_AGENTS;

  constructor(seed = 42, profile: Profile = 'standard') {
    this.random = new SeededRandom(seed);
    const ipCount = profile === 'high' ? 60_000 : 4000;
    for (let i = 0; i < ipCount; i++) this.ips.push(`${this.random.pick([10, 172, 192, 198, 203])}.${this.random.int(0, 255)}.${this.random.int(0, 255)}.${this.random.int(1, 254)}`);
    const keyCount = profile === 'high' ? 5000 : 300;
    for (let i = 0; i < keyCount; i++) this.keys.push(`key_${this.random.hex(6)}`);
    if (profile === 'high') {
      this.userAgents = USER_AGENTS.slice(0, 19);
      const apiPaths = highCardinalityPaths(this.random);
      const staticPaths = ['/health'];
      for (let i = 0; i < 150; i++) staticPaths.push(`/static/app.${this.random.hex(8)}.${this.random.pick(['js', 'css', 'svg', 'woff2'])}`);
      this.high = {
        ipRank: new ZipfSampler(this.ips.length, 1.0), keyRank: new ZipfSampler(this.keys.length, 1.0),
        apiPaths, pathRank: new ZipfSampler(apiPaths.length, 0.9), staticPaths,
      };
    }
    this.request = {
      index: -1, startMs: 0, endMs: 0, requestTimeMs: 0, method: 'GET', path: '/', query: '', status: 200,
      upstreamStatuses: [], upstreamTimesMs: [], connectTimesMs: [], headerTimesMs: [], upstreamAddrs: [], groupBreak: -1,
      backendMs: null, bytes: 0, requestLength: 0, clientIp: '', userAgent: '', referer: '-', apiKey: '', requestId: '',
      connection: 0, connectionRequests: 1,
    };
  }

  next(): GeneratedRequest {
    const r = this.random;
    const q = this.request;
    q.index++;
    if (this.high === null) {
      this.clock += -Math.log(Math.max(1e-9, r.next())) * MEAN_GAP_MS;
    } else {
      // Day/night: the rate swings between 0.3x and 1.7x of the mean, peaking at 14:00 UTC.
      const hour = ((this.clock - EPOCH_MS) / 3_600_000) % 24;
      const rate = 1 + 0.7 * Math.sin(((hour - 8) / 24) * 2 * Math.PI);
      this.clock += (-Math.log(Math.max(1e-9, r.next())) * HIGH_MEAN_GAP_MS) / rate;
    }
    q.startMs = Math.floor(this.clock);
    if (this.high === null) this.route(q); else this.highRoute(q, this.high);
    q.upstreamStatuses.length = 0;
    q.upstreamTimesMs.length = 0;
    q.connectTimesMs.length = 0;
    q.headerTimesMs.length = 0;
    q.upstreamAddrs.length = 0;
    q.groupBreak = -1;
    const roll = r.next();
    let backend = Math.max(1, Math.round(r.logNormal(q.method === 'POST' ? 180 : 45, 0.9)));
    if (q.path === '/health' || q.path.startsWith('/static/')) {
      // Served by nginx itself: no upstream at all.
      q.status = q.path === '/health' ? 200 : r.chance(0.05) ? 404 : 200;
      q.requestTimeMs = 0;
      q.backendMs = null;
    } else if (roll < 0.004) {
      // Client with a 30 s timeout gives up; the backend keeps working (the founding case).
      q.requestTimeMs = 30_000 + r.int(0, 4);
      q.status = 499;
      q.backendMs = 30_000 + Math.round(r.logNormal(15_000, 0.5));
      this.attempt(null, q.requestTimeMs - 1, 1, null);
    } else if (roll < 0.007) {
      // proxy_read_timeout 60 s: 504 made up by the proxy.
      q.requestTimeMs = 60_001 + r.int(0, 3);
      q.status = 504;
      q.backendMs = 60_000 + Math.round(r.logNormal(5_000, 0.5));
      this.attempt(504, q.requestTimeMs - 1, 1, null);
    } else if (roll < 0.017) {
      // First server refuses, the retry answers: "502, 200".
      q.status = 200;
      q.backendMs = backend;
      this.attempt(502, 0, null, null);
      this.attempt(200, backend + 1, 1, backend);
      q.requestTimeMs = backend + 2;
    } else if (roll < 0.020) {
      // X-Accel-Redirect to another group: "200 : 200".
      q.status = 200;
      q.backendMs = backend;
      this.attempt(200, backend + 1, 1, backend);
      q.groupBreak = 1;
      this.attempt(200, 10, 0, 9);
      q.requestTimeMs = backend + 12;
    } else if (roll < 0.024) {
      q.status = 502;
      q.backendMs = null;
      this.attempt(502, 0, null, null);
      q.requestTimeMs = 1;
    } else {
      q.status = roll < 0.05 ? 404 : roll < 0.06 ? 401 : roll < 0.065 ? 500 : q.method === 'POST' ? 201 : 200;
      q.backendMs = backend;
      this.attempt(q.status, backend + 1, r.chance(0.8) ? 0 : 1, Math.max(1, backend - r.int(0, 5)));
      q.requestTimeMs = backend + 1 + r.int(0, 2);
    }
    q.endMs = q.startMs + q.requestTimeMs;
    q.bytes = q.status === 499 || q.status === 502 || q.status === 504 ? 0 : Math.round(r.logNormal(q.method === 'GET' ? 1800 : 300, 1));
    q.requestLength = 180 + r.int(0, 600);
    if (this.high === null) {
      q.clientIp = this.ips[Math.floor(r.next() * r.next() * this.ips.length)]!;
      q.userAgent = USER_AGENTS[Math.floor(r.next() * r.next() * USER_AGENTS.length)]!;
      q.referer = r.pick(REFERERS);
      q.apiKey = this.keys[Math.floor(r.next() * r.next() * this.keys.length)]!;
    } else {
      q.clientIp = this.ips[this.high.ipRank.draw(r)]!;
      q.userAgent = this.userAgents[Math.floor(r.next() * r.next() * this.userAgents.length)]!;
      q.referer = r.pick(REFERERS);
      q.apiKey = this.keys[this.high.keyRank.draw(r)]!;
    }
    q.requestId = hex32(r);
    if (r.chance(0.3)) this.connection++;
    q.connection = this.connection;
    q.connectionRequests = r.int(1, 12);
    return q;
  }

  private attempt(status: number | null, timeMs: number, connectMs: number | null, headerMs: number | null): void {
    const q = this.request;
    q.upstreamStatuses.push(status);
    q.upstreamTimesMs.push(timeMs);
    q.connectTimesMs.push(connectMs);
    q.headerTimesMs.push(headerMs);
    q.upstreamAddrs.push(`10.0.3.${16 + this.random.int(0, 5)}:8080`);
  }

  /** High-cardinality routes: 13% served by nginx itself, the rest Zipf over ~2,050 API paths, ~a third with a query. */
  private highRoute(q: GeneratedRequest, high: HighCardinality): void {
    const r = this.random;
    q.method = 'GET';
    q.query = '';
    if (r.chance(0.13)) {
      q.path = high.staticPaths[Math.floor(r.next() * r.next() * high.staticPaths.length)]!;
      return;
    }
    q.path = high.apiPaths[high.pathRank.draw(r)]!;
    if (q.path === '/v1/reports') q.method = 'POST';
    else if (q.path.startsWith('/v1/orders/') && r.chance(0.1)) q.method = r.pick(['PUT', 'DELETE']);
    const roll = r.next();
    if (q.path === '/v1/search') q.query = `q=term${r.int(1, 30_000)}&sort=${r.pick(['asc', 'desc'])}`;
    else if (q.path === '/v1/orders') q.query = `limit=${r.pick([20, 50, 100])}&page=${r.int(1, 400)}`;
    else if (roll < 0.25) q.query = `period=${r.pick([60, 300, 3600])}`;
    else if (roll < 0.33) q.query = `utm_source=mail&utm_campaign=c${r.int(1, 20_000)}`;
  }

  private route(q: GeneratedRequest): void {
    const r = this.random;
    const which = r.next();
    q.method = 'GET';
    q.query = '';
    if (which < 0.30) {
      q.path = `/v2/applications/${r.int(1000, 1200)}/metrics.json`;
      if (r.chance(0.5)) q.query = `names[]=HttpDispatcher&from=2025-01-15T00:00:00Z&period=${r.pick([60, 300, 3600])}`;
    } else if (which < 0.50) {
      q.path = `/v1/orders/${r.int(1, 9_999_999)}`;
      if (r.chance(0.1)) q.method = r.pick(['PUT', 'DELETE']);
    } else if (which < 0.60) {
      q.path = '/v1/orders';
      q.query = `limit=${r.pick([20, 50, 100])}&page=${r.int(1, 40)}`;
    } else if (which < 0.68) {
      q.path = '/v1/reports';
      q.method = 'POST';
    } else if (which < 0.78) {
      q.path = `/api/users/${r.hex(8)}-${r.hex(4)}-4${r.hex(3)}-a${r.hex(3)}-${r.hex(12)}`;
    } else if (which < 0.84) {
      q.path = '/v1/search';
      q.query = `q=${r.pick(['shoes', 'red%20shoes', 'caf%C3%A9', 'a%7Cb', 'size:42'])}&sort=${r.pick(['asc', 'desc'])}`;
    } else if (which < 0.90) {
      q.path = '/health';
    } else if (which < 0.95) {
      q.path = `/static/app.${r.hex(8)}.${r.pick(['js', 'css'])}`;
    } else {
      q.path = `/v1/accounts/${r.pick(['acme', 'globex', 'initech', 'umbrella'])}/invoices/${r.int(1, 99_999)}.pdf`;
    }
  }
}

/**
 * ~2,050 API paths from the same templates as the standard profile, ids drawn once: with the 150
 * static assets and /health, ~2,000 distinct paths.
 */
function highCardinalityPaths(r: SeededRandom): string[] {
  const paths = ['/v1/orders', '/v1/reports', '/v1/search'];
  while (paths.length < 2050) {
    const which = r.next();
    if (which < 0.3) paths.push(`/v2/applications/${r.int(1000, 1600)}/metrics.json`);
    else if (which < 0.55) paths.push(`/v1/orders/${r.int(1, 9_999_999)}`);
    else if (which < 0.75) paths.push(`/api/users/${r.hex(8)}-${r.hex(4)}-4${r.hex(3)}-a${r.hex(3)}-${r.hex(12)}`);
    else paths.push(`/v1/accounts/${r.pick(['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'])}/invoices/${r.int(1, 99_999)}.pdf`);
  }
  return paths;
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 32 hex chars from 4 draws (SeededRandom.hex draws once per char: 8x slower, and the generator must outrun alf). */
function hex32(r: SeededRandom): string {
  let out = '';
  for (let i = 0; i < 4; i++) {
    const n = Math.floor(r.next() * 4294967296);
    out += HEX_BYTE[n >>> 24]! + HEX_BYTE[(n >>> 16) & 255]! + HEX_BYTE[(n >>> 8) & 255]! + HEX_BYTE[n & 255]!;
  }
  return out;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);
const seconds3 = (ms: number): string => `${Math.floor(ms / 1000)}.${pad3(ms % 1000)}`;

/** `15/Jan/2025:10:32:01 +0000`, cached per second. */
function timeLocalFormatter(): (ms: number) => string {
  let second = -1;
  let text = '';
  return (ms) => {
    const s = Math.floor(ms / 1000);
    if (s !== second) {
      second = s;
      const d = new Date(s * 1000);
      text = `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
    }
    return text;
  };
}

function isoMicros(ms: number, micros: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}${pad3(micros)}Z`;
}

/** Renders upstream lists: ", " between attempts, " : " at an internal redirect. */
function upstreamList<T>(q: GeneratedRequest, values: readonly T[], show: (value: T) => string): string {
  if (values.length === 0) return '-';
  let out = show(values[0]!);
  for (let i = 1; i < values.length; i++) out += (i === q.groupBreak ? ' : ' : ', ') + show(values[i]!);
  return out;
}
const orDash = (ms: number | null): string => (ms === null ? '-' : seconds3(ms));

/** A line renderer per input kind; `null` means the request has no line in that input. */
export function lineRenderer(kind: InputKind): (q: GeneratedRequest) => string | null {
  switch (kind) {
    case 'combined': {
      const timeLocal = timeLocalFormatter();
      return (q) => {
        const target = q.query === '' ? q.path : `${q.path}?${q.query}`;
        return `${q.clientIp} - - [${timeLocal(q.endMs)}] "${q.method} ${target} HTTP/1.1" ${q.status} ${q.bytes} "${q.referer}" "${q.userAgent}"`;
      };
    }
    case 'extended':
      return (q) => {
        const target = q.query === '' ? q.path : `${q.path}?${q.query}`;
        return `${seconds3(q.endMs)}|${q.requestId}|${q.clientIp}|${q.apiKey}|${q.method}|${target}|${q.status}|${seconds3(q.requestTimeMs)}|` +
          `${upstreamList(q, q.connectTimesMs, orDash)}|${upstreamList(q, q.headerTimesMs, orDash)}|${upstreamList(q, q.upstreamTimesMs, seconds3)}|` +
          `${upstreamList(q, q.upstreamStatuses, (s) => (s === null ? '-' : `${s}`))}|${upstreamList(q, q.upstreamAddrs, (a) => a)}|` +
          `${q.requestLength}|${q.bytes + 240}|${q.bytes}|${q.connection}|${q.connectionRequests}|-|${q.userAgent}`;
      };
    case 'alb':
      return (q) => {
        const target = q.query === '' ? q.path : `${q.path}?${q.query}`;
        const dispatched = q.upstreamStatuses.length > 0;
        const targetStatus = q.upstreamStatuses[q.upstreamStatuses.length - 1];
        const elbStatus = q.status === 499 ? 460 : q.status;
        const timedOut = q.status === 499 || q.status === 504;
        const times = timedOut || !dispatched ? '-1 -1 -1' : `0.000 ${(q.requestTimeMs / 1000).toFixed(3)} 0.000`;
        const targetAddr = dispatched ? q.upstreamAddrs[q.upstreamAddrs.length - 1]! : '-';
        return `https ${isoMicros(q.endMs, q.index % 1000)} app/prod-api/5d1e3f0a9b8c7d6e ${q.clientIp}:${40000 + (q.index % 20000)} ${targetAddr} ${times} ` +
          `${elbStatus} ${targetStatus === undefined || targetStatus === null || timedOut ? '-' : targetStatus} ${q.requestLength} ${q.bytes + 240} ` +
          `"${q.method} https://api.example.com:443${target} HTTP/1.1" "${q.userAgent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ` +
          'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b ' +
          `"Root=1-${Math.floor(q.startMs / 1000).toString(16)}-${q.requestId.slice(0, 24)}" "api.example.com" "session-reused" 3 ` +
          `${isoMicros(q.startMs, 0)} "forward" "-" "-" "${targetAddr}" "${targetStatus ?? '-'}" "-" "-" TID_${q.requestId}`;
      };
    case 'newrelic':
      return (q) => {
        if (q.backendMs === null) return null;
        const start = q.startMs + APM_CLOCK_OFFSET_MS + (q.index % 3);
        const code = q.status === 499 || q.status === 504 ? 200 : q.upstreamStatuses[q.upstreamStatuses.length - 1] ?? q.status;
        const ua = q.userAgent.includes(',') ? `"${q.userAgent}"` : q.userAgent;
        return `${start},${(q.backendMs / 1000).toFixed(4)},WebTransaction/Controller${q.path.split('/', 3).join('/')},${q.path},${q.method},${code},${ua},api-backend-${q.index % 4},api-rails`;
      };
  }
}

export interface GeneratedCounts {
  /** Requests generated. */
  requests: number;
  /** Lines written, header included. */
  lines: number;
  /** Data lines (records the parser must produce). */
  records: number;
  bytes: number;
}

/**
 * Writes `requests` requests as `kind` to `out`, in ~1 MB chunks with back-pressure.
 * Requests are rendered in start order; a proxy writes at the end, so end times are a little
 * out of order, as in a real nginx log (workers buffer, long requests log late).
 */
export async function generate(kind: InputKind, requests: number, out: Writable, seed = 42, profile: Profile = 'standard'): Promise<GeneratedCounts> {
  const generator = new RequestGenerator(seed, profile);
  const render = lineRenderer(kind);
  const counts: GeneratedCounts = { requests, lines: 0, records: 0, bytes: 0 };
  let chunk = '';
  if (kind === 'newrelic') {
    chunk = `${NEWRELIC_HEADER}\n`;
    counts.lines++;
  }
  const flush = async (): Promise<void> => {
    counts.bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
    chunk = '';
  };
  for (let i = 0; i < requests; i++) {
    const line = render(generator.next());
    if (line === null) continue;
    chunk += `${line}\n`;
    counts.lines++;
    counts.records++;
    if (chunk.length >= 1 << 20) await flush();
  }
  await flush();
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    if (out === process.stdout) resolve();
    else out.end(resolve);
  });
  return counts;
}

/** Number of APM rows `generate('newrelic', requests)` writes, without writing them. */
export function countApmRows(requests: number, seed = 42, profile: Profile = 'standard'): number {
  const generator = new RequestGenerator(seed, profile);
  let rows = 0;
  for (let i = 0; i < requests; i++) if (generator.next().backendMs !== null) rows++;
  return rows;
}

async function main(argv: string[]): Promise<void> {
  const kind = argv[0] as InputKind;
  if (!(INPUT_KINDS as readonly string[]).includes(kind)) throw new Error(`kind must be one of ${INPUT_KINDS.join(', ')}`);
  const option = (name: string, fallback: string): string => {
    const at = argv.indexOf(name);
    return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1]! : fallback;
  };
  const lines = Number(option('--lines', '2000000'));
  const seed = Number(option('--seed', '42'));
  const profile = option('--profile', 'standard') as Profile;
  if (!(PROFILES as readonly string[]).includes(profile)) throw new Error(`--profile must be one of ${PROFILES.join(', ')}`);
  const target = option('--out', '-');
  const out = target === '-' ? process.stdout : createWriteStream(target);
  const counts = await generate(kind, lines, out, seed, profile);
  process.stderr.write(`${JSON.stringify(counts)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
