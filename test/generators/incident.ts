import { SeededRandom } from './random.js';

/**
 * Writes a reproduction of the founding case (docs/case-studies.md): nginx in front of a
 * one-request-per-worker backend, a metrics exporter whose HTTP client gives up after
 * `clientTimeoutSeconds`, nginx logging those aborts early as 404 with upstream status "-"
 * (the post_action quirk) while the backend works on, and New Relic recording the real duration.
 * The ground truth is returned with the lines, so tests know the right answers.
 */

export interface IncidentOptions {
  seed: number;
  /** Length of the log, seconds. */
  durationSeconds: number;
  startMs: number;
  clientTimeoutSeconds: number;
  /** APM clock minus nginx clock, ms. */
  clockOffsetMs: number;
  /** Share of backend transactions missing from the APM export (sampling, agent loss). */
  apmMissingShare: number;
}

export const DEFAULT_INCIDENT: IncidentOptions = {
  seed: 2017,
  durationSeconds: 3600,
  startMs: Date.UTC(2017, 2, 14, 9, 0, 0),
  clientTimeoutSeconds: 5,
  clockOffsetMs: 350,
  apmMissingShare: 0.01,
};

export const INCIDENT_LOG_FORMAT =
  "log_format forensic '$msec|$status|$request_time|$upstream_status|$upstream_response_time|$upstream_addr|'\n" +
  "                    '$request_length|$bytes_sent|$request_method|$scheme|$request_uri|$host|$http_x_api_key|$http_user_agent';\n";

export const EXPORTER_USER_AGENT = 'newrelic exporter';
export const EXPORTER_KEY = 'key_3xp0rt3r';

interface Client {
  userAgent: string;
  apiKey: string;
  /** Mean seconds between requests. */
  every: number;
  timeoutSeconds: number | null;
  /** Chance that a flaky network drops the request at a random moment. */
  flaky: number;
  routes: readonly Route[];
}

interface Route {
  method: string;
  path: (random: SeededRandom) => string;
  name: string;
  /** Backend seconds. */
  backend: (random: SeededRandom) => number;
}

const METRICS: Route = {
  method: 'GET',
  path: (r) => `/v2/applications/${r.int(1000, 1060)}/metrics.json`,
  name: 'WebTransaction/Controller/v2/metrics/index',
  // Metric queries: mostly a couple of seconds, a long tail of 8-30 s queries over big ranges.
  backend: (r) => (r.chance(0.42) ? r.between(8, 30) : Math.min(4.5, r.logNormal(1.2, 0.5))),
};
const APPLICATIONS: Route = {
  method: 'GET', path: () => '/v2/applications.json', name: 'WebTransaction/Controller/v2/applications/index',
  backend: (r) => Math.min(3, r.logNormal(0.12, 0.4)),
};
const SERVERS: Route = {
  method: 'GET', path: (r) => `/v2/servers/${r.int(5000, 5400)}.json`, name: 'WebTransaction/Controller/v2/servers/show',
  backend: (r) => Math.min(3, r.logNormal(0.08, 0.5)),
};
const DEPLOYMENTS: Route = {
  method: 'POST', path: (r) => `/v2/applications/${r.int(1000, 1060)}/deployments.json`, name: 'WebTransaction/Controller/v2/deployments/create',
  backend: (r) => Math.min(5, r.logNormal(0.3, 0.4)),
};

const CLIENTS: readonly Client[] = [
  { userAgent: EXPORTER_USER_AGENT, apiKey: EXPORTER_KEY, every: 1, timeoutSeconds: null, flaky: 0, routes: [METRICS] },
  { userAgent: 'okhttp/3.6.0', apiKey: 'key_m0b1le', every: 6, timeoutSeconds: 30, flaky: 0.01, routes: [APPLICATIONS, SERVERS, METRICS] },
  { userAgent: 'NewRelic/6.1 CFNetwork/811.4.18 Darwin/16.5.0', apiKey: 'key_10s4pp', every: 9, timeoutSeconds: 60, flaky: 0.015, routes: [APPLICATIONS, SERVERS] },
  { userAgent: 'python-requests/2.13.0', apiKey: 'key_d3pl0y', every: 20, timeoutSeconds: null, flaky: 0, routes: [DEPLOYMENTS, APPLICATIONS] },
  { userAgent: 'curl/7.52.1', apiKey: 'key_0ps7eam', every: 30, timeoutSeconds: null, flaky: 0, routes: [SERVERS, METRICS] },
];

export interface IncidentTruth {
  clientTimeoutSeconds: number;
  exporterUserAgent: string;
  exporterKey: string;
  clockOffsetMs: number;
  proxyLines: number;
  apmTransactions: number;
  /** Proxy line number (1-based) to APM CSV line number (header = line 1) for every true pair. */
  pairs: [number, number][];
  exporterAborts: number;
  upstreamErrors: number;
  staticResponses: number;
}

export interface Incident {
  logFormat: string;
  accessLog: string[];
  apmCsv: string[];
  truth: IncidentTruth;
}

interface Request {
  startMs: number;
  endMs: number;
  line: string;
  apm: { startMs: number; csv: string } | null;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

export function generateIncident(options: IncidentOptions = DEFAULT_INCIDENT): Incident {
  const random = new SeededRandom(options.seed);
  const requests: Request[] = [];
  const endOfLog = options.startMs + options.durationSeconds * 1000;
  let exporterAborts = 0;
  let upstreamErrors = 0;
  let staticResponses = 0;

  for (const client of CLIENTS) {
    const timeoutSeconds = client.userAgent === EXPORTER_USER_AGENT ? options.clientTimeoutSeconds : client.timeoutSeconds;
    for (let t = options.startMs + random.between(0, client.every * 1000); t < endOfLog; t += random.between(0.5, 1.5) * client.every * 1000) {
      const route = random.pick(client.routes);
      const path = route.path(random);
      const upstream = `127.0.0.1:${random.pick([8100, 8101, 8102])}`;
      const backendMs = Math.round(route.backend(random) * 1000 * 1000) / 1000;
      // Time from nginx's first byte to the backend starting the transaction.
      const dispatchMs = random.between(0.4, 2.5);
      const overheadMs = random.between(0.3, 1.2);
      const clientGivesUpAt = timeoutSeconds === null ? Infinity : timeoutSeconds * 1000 - random.between(5, 40);
      const flakyAt = random.chance(client.flaky) ? random.between(200, Math.max(400, backendMs)) : Infinity;
      const fullMs = dispatchMs + backendMs + overheadMs;
      const abortAt = Math.min(clientGivesUpAt, flakyAt);
      const requestLength = random.int(180, 420);
      const common = `${route.method}|https|${path}|api.newrelic.com|${client.apiKey}|${client.userAgent}`;
      let line: string;
      let endMs: number;
      const upstreamFails = random.chance(0.004);
      if (upstreamFails) {
        // Connection refused while a worker restarts: nginx answers 502 itself.
        upstreamErrors++;
        endMs = t + random.between(0.5, 3);
        line = `${seconds(endMs)}|502|${seconds(endMs - t)}|502|0.000|${upstream}|${requestLength}|${random.int(300, 330)}|${common}`;
        requests.push({ startMs: t, endMs, line, apm: null });
        continue;
      }
      const apmStart = t + dispatchMs + options.clockOffsetMs;
      const apm = random.chance(options.apmMissingShare)
        ? null
        : { startMs: apmStart, csv: `${Math.round(apmStart)},${(backendMs / 1000).toFixed(4)},${route.name},${path.split('?')[0]},${route.method},200,${client.userAgent},api-backend-${upstream.slice(-1)},api-rails` };
      if (abortAt < fullMs) {
        endMs = t + abortAt;
        if (client.userAgent === EXPORTER_USER_AGENT) {
          // post_action after a client abort: logged as 404, upstream status and time "-".
          exporterAborts++;
          line = `${seconds(endMs)}|404|${seconds(abortAt)}|-|-|${upstream}|${requestLength}|0|${common}`;
        } else {
          line = `${seconds(endMs)}|499|${seconds(abortAt)}|-|${seconds(abortAt - 0.2)}|${upstream}|${requestLength}|0|${common}`;
        }
      } else {
        endMs = t + fullMs;
        line = `${seconds(endMs)}|200|${seconds(fullMs)}|200|${seconds(backendMs + dispatchMs)}|${upstream}|${requestLength}|${random.int(900, 40000)}|${common}`;
      }
      requests.push({ startMs: t, endMs, line, apm });
    }
  }
  // Browsers asking for a favicon: nginx answers from disk, no upstream involved.
  for (let t = options.startMs + 40_000; t < endOfLog; t += random.between(120_000, 400_000)) {
    staticResponses++;
    const endMs = t + 0.2;
    requests.push({
      startMs: t, endMs, apm: null,
      line: `${seconds(endMs)}|404|0.000|-|-|-|${random.int(300, 500)}|${random.int(150, 170)}|GET|https|/favicon.ico|api.newrelic.com|-|Mozilla/5.0 (X11; Linux x86_64)`,
    });
  }

  // nginx writes each line when the request ends; New Relic exports sort by start.
  const byEnd = [...requests].sort((a, b) => a.endMs - b.endMs);
  const withApm = requests.filter((r) => r.apm !== null).sort((a, b) => a.apm!.startMs - b.apm!.startMs);
  const apmLine = new Map<Request, number>();
  withApm.forEach((request, index) => apmLine.set(request, index + 2));
  const pairs: [number, number][] = [];
  byEnd.forEach((request, index) => {
    const line = apmLine.get(request);
    if (line !== undefined) pairs.push([index + 1, line]);
  });
  return {
    logFormat: INCIDENT_LOG_FORMAT,
    accessLog: byEnd.map((r) => r.line),
    apmCsv: [
      'timestamp,duration,name,request.uri,request.method,httpResponseCode,request.headers.userAgent,host,appName',
      ...withApm.map((r) => r.apm!.csv),
    ],
    truth: {
      clientTimeoutSeconds: options.clientTimeoutSeconds,
      exporterUserAgent: EXPORTER_USER_AGENT,
      exporterKey: EXPORTER_KEY,
      clockOffsetMs: options.clockOffsetMs,
      proxyLines: byEnd.length,
      apmTransactions: withApm.length,
      pairs,
      exporterAborts,
      upstreamErrors,
      staticResponses,
    },
  };
}
