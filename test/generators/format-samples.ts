/**
 * Writes samples/formats/<format-id>.log: one small, realistic log per gateway format, all
 * telling the same story (the scenarios below) in each format's own words, so detection and
 * parsers can be checked against each other. Deterministic: run it again and nothing changes.
 *   npx tsx test/generators/format-samples.ts
 * Layouts follow docs/formats.md (Apache, ALB/ELB, API Gateway, the gateways, CloudFront).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Failure = 'none' | 'timeout' | 'client-closed' | 'refused' | 'rate-limited' | 'no-healthy';

interface Scenario {
  offsetMs: number;
  method: string;
  target: string;
  status: number;
  totalMs: number;
  /** Backend time; null when the backend never answered. */
  upstreamMs: number | null;
  client: string;
  clientPort: number;
  userAgent: string;
  key: string | null;
  bytes: number;
  failure: Failure;
  /** Two upstream attempts (first refused), for formats that log retries. */
  retried?: boolean;
}

const BASE_MS = Date.UTC(2025, 0, 15, 10, 32, 0);

const SCENARIOS: Scenario[] = [
  { offsetMs: 1373, method: 'GET', target: '/v1/orders?limit=20', status: 200, totalMs: 84, upstreamMs: 81, client: '203.0.113.24', clientPort: 53122, userAgent: 'okhttp/4.12.0', key: 'acme-mobile', bytes: 1834, failure: 'none' },
  { offsetMs: 2210, method: 'GET', target: '/v1/orders/1042', status: 200, totalMs: 42, upstreamMs: 40, client: '203.0.113.24', clientPort: 53122, userAgent: 'okhttp/4.12.0', key: 'acme-mobile', bytes: 611, failure: 'none' },
  { offsetMs: 3901, method: 'POST', target: '/v1/reports', status: 504, totalMs: 30004, upstreamMs: null, client: '198.51.100.7', clientPort: 41900, userAgent: 'python-requests/2.31.0', key: 'globex-batch', bytes: 198, failure: 'timeout' },
  { offsetMs: 5002, method: 'GET', target: '/v1/export?format=csv', status: 499, totalMs: 12000, upstreamMs: null, client: '198.51.100.9', clientPort: 60211, userAgent: 'curl/8.5.0', key: 'globex-batch', bytes: 0, failure: 'client-closed' },
  { offsetMs: 6120, method: 'GET', target: '/v1/catalog', status: 502, totalMs: 3, upstreamMs: null, client: '203.0.113.50', clientPort: 50001, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', key: null, bytes: 150, failure: 'refused' },
  { offsetMs: 7333, method: 'GET', target: '/v1/orders?limit=5&page=2', status: 200, totalMs: 96, upstreamMs: 90, client: '2001:db8::7', clientPort: 443, userAgent: 'okhttp/4.12.0', key: 'acme-mobile', bytes: 902, failure: 'none', retried: true },
  { offsetMs: 8500, method: 'GET', target: '/v1/search?q=caf%C3%A9', status: 200, totalMs: 131, upstreamMs: 127, client: '192.0.2.44', clientPort: 38812, userAgent: 'Mozilla/5.0 (compatible; "SiteBot"/2.1)', key: null, bytes: 4410, failure: 'none' },
  { offsetMs: 9100, method: 'POST', target: '/v1/orders', status: 201, totalMs: 2412, upstreamMs: 2405, client: '203.0.113.24', clientPort: 53130, userAgent: 'okhttp/4.12.0', key: 'acme-mobile', bytes: 377, failure: 'none' },
  { offsetMs: 10004, method: 'GET', target: '/health', status: 200, totalMs: 1, upstreamMs: 1, client: '10.0.1.5', clientPort: 40000, userAgent: 'kube-probe/1.29', key: null, bytes: 2, failure: 'none' },
  { offsetMs: 11250, method: 'GET', target: '/v1/orders', status: 429, totalMs: 0, upstreamMs: null, client: '198.51.100.7', clientPort: 41960, userAgent: 'python-requests/2.31.0', key: 'globex-batch', bytes: 84, failure: 'rate-limited' },
  { offsetMs: 12001, method: 'DELETE', target: '/v1/orders/77', status: 204, totalMs: 57, upstreamMs: 55, client: '203.0.113.24', clientPort: 53131, userAgent: 'okhttp/4.12.0', key: 'acme-mobile', bytes: 0, failure: 'none' },
  { offsetMs: 13777, method: 'GET', target: '/v1/invoices', status: 503, totalMs: 0, upstreamMs: null, client: '203.0.113.61', clientPort: 51515, userAgent: 'Go-http-client/2.0', key: 'initech', bytes: 91, failure: 'no-healthy' },
];

const UPSTREAM = '10.0.3.17:8080';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const startOf = (s: Scenario): number => BASE_MS + s.offsetMs;
const endOf = (s: Scenario): number => startOf(s) + s.totalMs;
const seconds = (ms: number): string => (ms / 1000).toFixed(3);
const isoMs = (ms: number): string => new Date(ms).toISOString();
const isoMicros = (ms: number): string => isoMs(ms).replace('Z', '123Z');
const answered = (s: Scenario): boolean => s.upstreamMs !== null;
const hex = (seed: number, length: number): string => {
  let out = '';
  let x = seed * 2654435761 >>> 0;
  while (out.length < length) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += (x >>> 8).toString(16).padStart(6, '0');
  }
  return out.slice(0, length);
};
const uuid = (seed: number): string => {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
};

function clf(ms: number, withMillis = false, zone = true): string {
  const d = new Date(ms);
  const base = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${base}${withMillis ? `.${pad(d.getUTCMilliseconds(), 3)}` : ''}${zone ? ' +0000' : ''}`;
}

/** Apache escapes `"` as `\"` (formats.md §2). */
const apacheQuote = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

// Apache has no 499: a client that gave up shows the real status, with %X `X` if logged (§2).
const apacheStatus = (s: Scenario): number => (s.failure === 'client-closed' ? 200 : s.status);
const apacheLine = (s: Scenario, tail: string): string =>
  `${s.client} - ${s.key ?? '-'} [${clf(startOf(s))}] "${s.method} ${s.target} HTTP/1.1" ${apacheStatus(s)} ${s.bytes === 0 ? '-' : s.bytes}${tail}`;
const apacheCombinedTail = (s: Scenario): string => ` "-" "${apacheQuote(s.userAgent)}"`;

const FORMATS: Record<string, () => string[]> = {
  'apache-common': () => SCENARIOS.map((s) => apacheLine(s, '')),
  'apache-combined': () => [
    // A scanner's request with escaped quotes: only Apache writes `\"`, nginx would write `\x22`.
    `192.0.2.66 - - [${clf(BASE_MS + 900)}] "GET /login.php?user=admin\\" OR \\"1\\"=\\"1 HTTP/1.1" 400 226 "-" "sqlmap/1.7.2#stable (https://sqlmap.org)"`,
    ...SCENARIOS.map((s) => apacheLine(s, apacheCombinedTail(s))),
  ],
  'apache-combined-d': () => SCENARIOS.map((s) => apacheLine(s, `${apacheCombinedTail(s)} ${Math.max(s.totalMs, 1) * 1000 + 213}`)),
  'apache-combined-t': () => SCENARIOS.map((s) => apacheLine(s, `${apacheCombinedTail(s)} ${Math.floor(s.totalMs / 1000)}`)),

  'aws-alb': () => SCENARIOS.map((s, i) => {
    const closed = s.failure === 'client-closed';
    const status = closed ? 460 : s.status;
    const gatewayOnly = s.failure === 'rate-limited' || s.failure === 'no-healthy';
    const target = gatewayOnly ? '-' : UPSTREAM;
    const times = answered(s) ? `0.001 ${seconds(s.upstreamMs!)} 0.000` : '-1 -1 -1';
    const targetStatus = answered(s) ? String(s.status) : '-';
    const client = s.client.includes(':') ? `${s.client}:${s.clientPort}` : `${s.client}:${s.clientPort}`;
    const actions = gatewayOnly ? (s.failure === 'rate-limited' ? 'waf' : 'forward') : 'forward';
    const errorReason = s.failure === 'refused' ? 'TargetConnectionErrorCode' : '-';
    return `https ${isoMicros(endOf(s))} app/prod-api/5d1e3f0a9b8c7d6e ${client} ${target} ${times} ${status} ${targetStatus} ` +
      `${300 + i} ${s.bytes + 200} "${s.method} https://api.example.com:443${s.target} HTTP/1.1" "${s.userAgent.replace(/"/g, '\\"')}" ` +
      'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-tg/0a1b2c3d4e5f6a7b ' +
      `"Root=1-67878e8${i.toString(16)}-${hex(i + 1, 24)}" "api.example.com" "session-reused" 3 ${isoMicros(startOf(s))} "${actions}" "-" "${errorReason}" ` +
      `"${target}" "${targetStatus}" "-" "-" TID_${hex(i + 50, 32)}`;
  }),
  'aws-elb-classic': () => SCENARIOS.map((s) => {
    const status = s.failure === 'client-closed' ? 504 : s.status;
    const gatewayOnly = s.failure === 'no-healthy' || s.failure === 'client-closed';
    const times = answered(s) ? `0.000041 ${(s.upstreamMs! / 1000).toFixed(6)} 0.000023` : '-1 -1 -1';
    return `${isoMicros(startOf(s))} prod-api-elb ${s.client}:${s.clientPort} ${gatewayOnly ? '-' : UPSTREAM} ${times} ${status} ` +
      `${answered(s) ? s.status : '-'} 0 ${s.bytes} "${s.method} https://api.example.com:443${s.target} HTTP/1.1" "${s.userAgent}" ` +
      'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2';
  }),
  'aws-api-gateway-json': () => SCENARIOS.map((s, i) => JSON.stringify({
    requestId: uuid(i + 100),
    requestTimeEpoch: String(startOf(s)),
    ip: s.client,
    httpMethod: s.method,
    resourcePath: s.target.split('?')[0],
    status: String(s.failure === 'client-closed' ? 504 : s.status),
    responseLatency: String(s.totalMs),
    integrationLatency: answered(s) ? String(s.upstreamMs) : '-',
    integrationStatus: answered(s) ? String(s.status) : '-',
    apiKeyId: s.key ?? '-',
    errorType: s.failure === 'timeout' || s.failure === 'client-closed' ? 'INTEGRATION_TIMEOUT'
      : s.failure === 'refused' ? 'INTEGRATION_FAILURE' : s.failure === 'rate-limited' ? 'THROTTLED' : '-',
    userAgent: s.userAgent,
  })),
  'aws-api-gateway-clf': () => SCENARIOS.map((s, i) =>
    `${s.client} - - [${clf(startOf(s))}] "${s.method} ${s.target.split('?')[0]} HTTP/1.1" ${s.failure === 'client-closed' ? 504 : s.status} ${s.bytes} ${uuid(i + 100)} ${hex(i + 7, 14)}Fw=`),

  envoy: () => SCENARIOS.map((s, i) => {
    const closed = s.failure === 'client-closed';
    const flags = closed ? 'DC' : s.failure === 'timeout' ? 'UT' : s.failure === 'refused' ? 'UF,URX' : s.failure === 'no-healthy' ? 'UH'
      : s.failure === 'rate-limited' ? 'RL' : '-';
    const gatewayOnly = s.failure === 'no-healthy' || s.failure === 'rate-limited';
    return `[${isoMs(startOf(s))}] "${s.method} ${s.target} HTTP/1.1" ${closed ? 0 : s.status} ${flags} ${s.method === 'POST' ? 612 : 0} ${s.bytes} ` +
      `${s.totalMs} ${answered(s) ? s.upstreamMs : '-'} "${s.client}" "${s.userAgent}" "${uuid(i + 200)}" "api.example.com" "${gatewayOnly ? '-' : UPSTREAM}"`;
  }),
  haproxy: () => SCENARIOS.map((s, i) => {
    const closed = s.failure === 'client-closed';
    const noServer = s.failure === 'no-healthy' || s.failure === 'rate-limited';
    const server = noServer ? '<NOSRV>' : `app${(i % 3) + 1}`;
    const tr = answered(s) ? s.upstreamMs! : -1;
    const tc = noServer ? -1 : s.failure === 'refused' ? -1 : 1;
    const state = closed ? 'CH--' : s.failure === 'timeout' ? 'sH--' : s.failure === 'refused' ? 'SC--' : noServer
      ? (s.failure === 'rate-limited' ? 'PR--' : 'SC--') : '----';
    const status = closed ? -1 : s.status;
    const client = s.client.includes(':') ? `${s.client}:${s.clientPort}` : `${s.client}:${s.clientPort}`;
    const prefix = i % 4 === 3 ? '' : `Jan 15 10:32:${pad(Math.floor(s.offsetMs / 1000))} lb1 haproxy[2211]: `;
    const captures = i === 6 ? ` {api.example.com|${s.userAgent.replace(/"/g, '#22')}}` : '';
    return `${prefix}${client} [${clf(startOf(s), true, false)}] fe_api~ be_api/${server} 0/0/${tc}/${tr}/${s.totalMs} ${status} ${s.bytes + 150} - - ${state} ` +
      `312/298/41/12/${s.retried ? 1 : 0} 0/0${captures} "${s.method} ${s.target} HTTP/1.1"`;
  }),
  kong: () => SCENARIOS.map((s, i) => {
    const proxied = answered(s) || s.failure === 'timeout' || s.failure === 'refused';
    const tries = !proxied ? [] : s.retried
      ? [{ ip: '10.0.3.16', port: 8080, balancer_start: startOf(s) + 1, balancer_latency: 0 }, { ip: '10.0.3.17', port: 8080, balancer_start: startOf(s) + 2, balancer_latency: 0 }]
      : [{ ip: '10.0.3.17', port: 8080, balancer_start: startOf(s) + 1, balancer_latency: 0 }];
    return JSON.stringify({
      request: { id: hex(i + 300, 32), method: s.method, uri: s.target, url: `https://api.example.com:443${s.target}`, size: 412, headers: { host: 'api.example.com', 'user-agent': s.userAgent } },
      upstream_uri: s.target,
      upstream_status: answered(s) ? (s.retried ? `502, ${s.status}` : String(s.status)) : s.failure === 'timeout' ? '504' : s.failure === 'refused' ? '502' : '',
      response: { status: s.status, size: s.bytes + 300 },
      latencies: { kong: 1, proxy: answered(s) ? s.upstreamMs! - 2 : proxied && s.failure === 'timeout' ? 30000 : -1, request: s.totalMs, receive: answered(s) ? 2 : 0 },
      started_at: startOf(s),
      client_ip: s.client,
      ...(s.key === null ? {} : { consumer: { id: uuid(i + 400), username: s.key } }),
      tries,
      source: answered(s) ? 'upstream' : s.failure === 'rate-limited' ? 'exit' : 'kong',
    });
  }),
  tyk: () => SCENARIOS.map((s) => {
    const [path] = s.target.split('?');
    return JSON.stringify({
      method: s.method, host: 'api.example.com', path: path!.replace('/v1', ''), raw_path: s.target, content_length: 0,
      user_agent: s.userAgent, day: 15, month: 1, year: 2025, hour: 10, response_code: s.status,
      api_key: s.key === null ? '' : `${hex(s.key.length, 24)}`, timestamp: new Date(endOf(s)).toISOString().replace('Z', '457123Z'),
      api_version: 'Default', api_name: 'Orders API', api_id: 'orders-api', org_id: '5e9d9544a1dcd60001d0ed20',
      request_time: s.totalMs, latency: { total: s.totalMs, upstream: s.upstreamMs ?? 0 }, ip_address: s.client,
      tags: s.key === null ? [] : [`pol-${s.key}`], alias: s.key ?? '',
    });
  }),
  'traefik-json': () => SCENARIOS.map((s, i) => {
    const origin = answered(s) || s.failure === 'timeout' ? {
      OriginStatus: answered(s) ? s.status : 0,
      OriginDuration: (s.upstreamMs ?? 0) * 1e6 + 907112,
      OriginContentSize: s.bytes,
    } : {};
    return JSON.stringify({
      ClientAddr: s.client.includes(':') ? `[${s.client}]:${s.clientPort}` : `${s.client}:${s.clientPort}`,
      ClientHost: s.client, ClientPort: String(s.clientPort), ClientUsername: s.key ?? '-',
      DownstreamStatus: s.status, DownstreamContentSize: s.bytes,
      Duration: s.totalMs * 1e6 + 213577, ...origin,
      RequestAddr: 'api.example.com', RequestHost: 'api.example.com', RequestMethod: s.method, RequestPath: s.target,
      RequestProtocol: 'HTTP/1.1', RequestScheme: 'https', RetryAttempts: s.retried ? 1 : 0,
      RouterName: 'orders@docker', ServiceName: 'orders@docker', ServiceURL: `http://${UPSTREAM}`, ServiceAddr: UPSTREAM,
      StartUTC: new Date(startOf(s)).toISOString().replace('Z', '044123Z'),
      'request_User-Agent': s.userAgent, 'request_X-Request-Id': uuid(i + 500),
      level: 'info', msg: '', time: new Date(endOf(s)).toISOString(),
    });
  }),
  'traefik-clf': () => SCENARIOS.map((s, i) =>
    `${s.client} - ${s.key ?? '-'} [${clf(startOf(s))}] "${s.method} ${s.target} HTTP/1.1" ${s.status} ${s.bytes} "-" "${s.userAgent}" ${88123 + i} "orders@docker" "http://${UPSTREAM}" ${s.totalMs}ms`),
  cloudfront: () => [
    '#Version: 1.0',
    '#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end',
    ...SCENARIOS.map((s, i) => {
      const end = new Date(endOf(s)).toISOString();
      const closed = s.failure === 'client-closed';
      const status = closed ? '000' : String(s.status);
      const result = closed ? 'Error' : s.status >= 500 ? 'Error' : 'Miss';
      const detailed = closed ? 'ClientCommError' : s.status >= 500 ? 'OriginError' : 'Miss';
      const [stem, query] = s.target.split('?');
      return [end.slice(0, 10), end.slice(11, 19), 'FRA56-P3', String(s.bytes + 354), s.client, s.method, 'd1234abcdef8.cloudfront.net',
        stem, status, '-', encodeURI(s.userAgent).replace(/;/g, ';'), query ?? '-', '-', result, `${hex(i + 600, 40)}==`, 'api.example.com',
        'https', '311', seconds(s.totalMs), '-', 'TLSv1.3', 'TLS_AES_128_GCM_SHA256', closed ? 'Error' : result, 'HTTP/2.0', '-', '-',
        String(s.clientPort), seconds(Math.max(s.totalMs - 2, 0)), detailed, 'application/json', String(s.bytes), '-', '-'].join('\t');
    }),
  ],
  'nginx-json': () => SCENARIOS.map((s, i) => {
    const upstreamGone = s.failure === 'rate-limited' || s.failure === 'no-healthy';
    const urt = answered(s) ? (s.retried ? `0.000, ${seconds(s.upstreamMs!)}` : seconds(s.upstreamMs!)) : s.failure === 'timeout' ? '30.002'
      : s.failure === 'client-closed' ? '12.000' : s.failure === 'refused' ? '0.000' : '';
    return JSON.stringify({
      time_iso8601: new Date(Math.floor(endOf(s) / 1000) * 1000).toISOString().replace('.000Z', '+00:00'),
      msec: seconds(endOf(s)),
      request_id: hex(i + 700, 32), remote_addr: s.client, api_client: s.key ?? '',
      request: `${s.method} ${s.target} HTTP/1.1`, status: String(s.status), request_time: seconds(s.totalMs),
      upstream_response_time: upstreamGone ? '' : urt,
      upstream_status: answered(s) ? (s.retried ? `502, ${s.status}` : String(s.status)) : s.failure === 'timeout' ? '504' : s.failure === 'refused' ? '502' : '',
      upstream_addr: upstreamGone ? '' : s.retried ? `10.0.3.16:8080, ${UPSTREAM}` : UPSTREAM,
      body_bytes_sent: String(s.bytes), http_user_agent: s.userAgent,
    });
  }),
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, 'samples', 'formats');
mkdirSync(outDir, { recursive: true });
for (const [id, build] of Object.entries(FORMATS)) {
  writeFileSync(join(outDir, `${id}.log`), `${build().join('\n')}\n`);
}
console.log(`wrote ${Object.keys(FORMATS).length} samples to ${outDir}`);
