import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/**
 * The backend's APM exports, every shape written from the same transactions when the run ends,
 * sorted by start as an export query returns them: New Relic Transaction events as CSV (any subset
 * of attribute columns) and as JSON (NerdGraph, NRQL REST v1, historical-export files, a bare array
 * or NDJSON), with the timestamp in epoch ms, epoch s or ISO form; and OTLP/JSON, one document with
 * one SERVER span per line, as the collector's file exporter writes them; Datadog spans, as a
 * tracer sends them to its agent (one trace per line) or as the Spans API v2 search returns them
 * (one span per line, ISO stamps to the millisecond, the span's duration in ns). None carries the request
 * id: like the founding case, the join with the proxy logs has only what both sides log to go on.
 * An export may be written with its clock off (`skewMs`), as an APM host's clock can be.
 */

export interface Transaction {
  app: string;
  /** The APM agent's own host name (New Relic `host`). */
  host: string;
  /** The Host header the request carried. */
  requestHost: string | null;
  method: string;
  path: string;
  /** Route template, for the transaction name. */
  route: string;
  /** Controller-style name part (`orders/show`). */
  controller: string;
  status: number;
  userAgent: string | null;
  apiKey: string | null;
  /** When a worker started on it (epoch ms). */
  startMs: number;
  /** Worker time, ms: the true work time, also when the client had hung up. */
  durationMs: number;
  /** Time spent waiting for a free worker, ms. */
  queueMs: number;
}

export const NEW_RELIC_ATTRIBUTES = [
  'timestamp', 'duration', 'queueDuration', 'name', 'request.uri', 'request.method', 'httpResponseCode',
  'request.headers.userAgent', 'request.headers.host', 'request.headers.x-api-key', 'host', 'appName', 'transactionType',
] as const;
export type NewRelicAttribute = (typeof NEW_RELIC_ATTRIBUTES)[number];

/** The columns a New Relic user is told to export, and nothing more: no method, no queue time. */
export const MINIMAL_NEW_RELIC_COLUMNS: readonly NewRelicAttribute[] = [
  'timestamp', 'duration', 'name', 'request.uri', 'httpResponseCode', 'request.headers.userAgent', 'appName', 'host',
];
export const FULL_NEW_RELIC_COLUMNS: readonly NewRelicAttribute[] = [
  'timestamp', 'duration', 'queueDuration', 'name', 'request.uri', 'request.method', 'httpResponseCode',
  'request.headers.userAgent', 'request.headers.x-api-key', 'host', 'appName', 'transactionType',
];

export type TimestampForm = 'epoch-ms' | 'epoch-s' | 'iso';
/** `expressjs`: `WebTransaction/Expressjs/GET//v1/orders/:id` (method and route); `controller`: `WebTransaction/Controller/orders/show` (neither). */
export type TransactionNaming = 'expressjs' | 'controller';
export type NewRelicJsonEnvelope = 'nerdgraph' | 'nrql-v1' | 'historical' | 'array' | 'ndjson';

export type ExportSpec = {
  /** The export's name in the run; its file is `<name>.csv` or `<name>.json` in the run's directory. */
  readonly name: string;
  /** APM clock minus true clock, ms: every timestamp is written shifted by this much. */
  readonly skewMs?: number;
  /** Start order of the rows: ascending (default) or newest first, as NRQL returns them. */
  readonly order?: 'ascending' | 'descending';
} & (
  | {
    readonly shape: 'newrelic-csv' | 'newrelic-json';
    readonly attributes: readonly NewRelicAttribute[];
    readonly timestamps?: TimestampForm;
    readonly naming?: TransactionNaming;
    /** JSON only; default NerdGraph. */
    readonly envelope?: NewRelicJsonEnvelope;
  }
  | { readonly shape: 'otlp-json' }
  /** Datadog: the tracer's payload to the agent (traces of spans), or Spans API v2 search results. */
  | { readonly shape: 'datadog-json'; readonly envelope: 'agent' | 'spans-v2' }
);

export function exportFileName(spec: ExportSpec): string {
  return `${spec.name}.${spec.shape === 'newrelic-csv' ? 'csv' : 'json'}`;
}

function timestampValue(ms: number, form: TimestampForm): number | string {
  if (form === 'epoch-s') return Math.round(ms) / 1000;
  if (form === 'iso') return new Date(Math.round(ms)).toISOString();
  return Math.round(ms);
}

function newRelicValue(t: Transaction, attribute: NewRelicAttribute, startMs: number, form: TimestampForm, naming: TransactionNaming): string | number | null {
  switch (attribute) {
    case 'timestamp': return timestampValue(startMs, form);
    case 'duration': return Number((t.durationMs / 1000).toFixed(4));
    case 'queueDuration': return Number((t.queueMs / 1000).toFixed(4));
    case 'name': return naming === 'expressjs' ? `WebTransaction/Expressjs/${t.method}/${t.route}` : `WebTransaction/Controller/${t.controller}`;
    case 'request.uri': return t.path;
    case 'request.method': return t.method;
    // New Relic keeps the agent's string.
    case 'httpResponseCode': return String(t.status);
    case 'request.headers.userAgent': return t.userAgent;
    case 'request.headers.host': return t.requestHost;
    case 'request.headers.x-api-key': return t.apiKey;
    case 'host': return t.host;
    case 'appName': return t.app;
    case 'transactionType': return 'Web';
  }
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const stringValue = (value: string) => ({ stringValue: value });
const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

function otlpDocument(t: Transaction, startMs: number, app: string): string {
  const attributes: { key: string; value: unknown }[] = [
    { key: 'http.request.method', value: stringValue(t.method) },
    { key: 'url.path', value: stringValue(t.path) },
    { key: 'url.scheme', value: stringValue('http') },
    { key: 'http.route', value: stringValue(t.route) },
    { key: 'http.response.status_code', value: { intValue: String(t.status) } },
  ];
  if (t.requestHost !== null) attributes.push({ key: 'server.address', value: stringValue(t.requestHost.replace(/:\d+$/, '')) });
  if (t.userAgent !== null) attributes.push({ key: 'user_agent.original', value: stringValue(t.userAgent) });
  // Captured request headers are string arrays in the semantic conventions.
  if (t.apiKey !== null) attributes.push({ key: 'http.request.header.x-api-key', value: { arrayValue: { values: [stringValue(t.apiKey)] } } });
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: stringValue(app) }] },
      scopeSpans: [{
        scope: { name: 'alf-e2e-backend' },
        spans: [{
          traceId: randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          name: `${t.method} ${t.route}`,
          kind: 2,
          startTimeUnixNano: nanos(startMs),
          endTimeUnixNano: nanos(startMs + t.durationMs),
          attributes,
          status: {},
        }],
      }],
    }],
  });
}

/** A random id as Datadog writes it: a decimal uint64, written as a JSON number by tracers. */
function datadogId(): string {
  return randomBytes(8).readBigUInt64BE().toString();
}

/** A web request's entry span as a Datadog tracer writes it (dd-trace's express integration). */
function datadogAgentTrace(t: Transaction, startMs: number, app: string): string {
  const url = `http://${t.requestHost ?? 'localhost'}${t.path}`;
  const meta: Record<string, string> = {
    'http.method': t.method, 'http.url': url, 'http.status_code': String(t.status), 'http.route': t.route, 'span.kind': 'server', component: 'express',
  };
  if (t.userAgent !== null) meta['http.useragent'] = t.userAgent;
  if (t.apiKey !== null) meta['http.request.headers.x-api-key'] = t.apiKey;
  // Ids and nanosecond times are JSON numbers past 2^53, written digit for digit as tracers do.
  return `[{"trace_id":${datadogId()},"span_id":${datadogId()},"parent_id":0,"name":"express.request",` +
    `"resource":${JSON.stringify(`${t.method} ${t.route}`)},"service":${JSON.stringify(app)},"type":"web",` +
    `"start":${nanos(startMs)},"duration":${nanos(t.durationMs)},"error":${t.status >= 500 ? 1 : 0},` +
    `"meta":${JSON.stringify(meta)},"metrics":{"_top_level":1,"_sampling_priority_v1":1}}]`;
}

/** The same span as a Spans API v2 search result (`/api/v2/spans/events/search`). */
function datadogSpansV2(t: Transaction, startMs: number, app: string): string {
  const http: Record<string, string> = { method: t.method, url: `http://${t.requestHost ?? 'localhost'}${t.path}`, status_code: String(t.status), route: t.route };
  if (t.userAgent !== null) http.useragent = t.userAgent;
  const custom: Record<string, unknown> = { duration: Number(nanos(t.durationMs)), http };
  if (t.apiKey !== null) custom['http.request.headers.x-api-key'] = t.apiKey;
  return JSON.stringify({
    type: 'spans', id: randomBytes(12).toString('base64url'),
    attributes: {
      service: app, resource_name: `${t.method} ${t.route}`, type: 'web', env: 'e2e', host: t.host,
      trace_id: datadogId(), span_id: datadogId(), parent_id: '0',
      start_timestamp: new Date(Math.round(startMs)).toISOString(), end_timestamp: new Date(Math.round(startMs + t.durationMs)).toISOString(),
      custom, tags: [`env:e2e`, `service:${app}`],
    },
  });
}

const ENVELOPES: Record<NewRelicJsonEnvelope, { open: string | null; close: string | null; wrap: (event: string) => string }> = {
  nerdgraph: { open: '{"data":{"actor":{"account":{"nrql":{"results":[', close: ']}}}}}', wrap: (event) => event },
  'nrql-v1': { open: '{"results":[{"events":[', close: ']}],"metadata":{"eventTypes":["Transaction"]}}', wrap: (event) => event },
  // Historical data export files: an array of {"attributes": {...}} (docs.newrelic.com, NerdGraph historical data export).
  historical: { open: '[', close: ']', wrap: (event) => `{"attributes":${event}}` },
  array: { open: '[', close: ']', wrap: (event) => event },
  ndjson: { open: null, close: null, wrap: (event) => event },
};

/**
 * Writes one export of `transactions` to `path`; returns each transaction's line in the file (a
 * CSV's header is line 1; a JSON event's line is where its object opens), by transaction index.
 */
export async function writeExport(spec: ExportSpec, path: string, transactions: readonly Transaction[]): Promise<number[]> {
  const skew = spec.skewMs ?? 0;
  const order = transactions.map((_, i) => i).sort((a, b) => transactions[a]!.startMs - transactions[b]!.startMs || a - b);
  if (spec.order === 'descending') order.reverse();
  const lines: string[] = [];
  const lineOf = new Array<number>(transactions.length).fill(0);
  if (spec.shape === 'otlp-json') {
    for (const i of order) {
      const t = transactions[i]!;
      lines.push(otlpDocument(t, t.startMs + skew, t.app));
      lineOf[i] = lines.length;
    }
  } else if (spec.shape === 'datadog-json') {
    const agent = spec.envelope === 'agent';
    lines.push(agent ? '[' : '{"data":[');
    order.forEach((i, at) => {
      const t = transactions[i]!;
      lines.push((agent ? datadogAgentTrace : datadogSpansV2)(t, t.startMs + skew, t.app) + (at < order.length - 1 ? ',' : ''));
      lineOf[i] = lines.length;
    });
    lines.push(agent ? ']' : '],"meta":{"page":{}}}');
  } else {
    const form = spec.timestamps ?? 'epoch-ms';
    const naming = spec.naming ?? 'expressjs';
    const values = (t: Transaction) => spec.attributes.map((attribute) => newRelicValue(t, attribute, t.startMs + skew, form, naming));
    if (spec.shape === 'newrelic-csv') {
      lines.push(spec.attributes.join(','));
      for (const i of order) {
        lines.push(values(transactions[i]!).map(csvCell).join(','));
        lineOf[i] = lines.length;
      }
    } else {
      const envelope = ENVELOPES[spec.envelope ?? 'nerdgraph'];
      if (envelope.open !== null) lines.push(envelope.open);
      order.forEach((i, at) => {
        const row = values(transactions[i]!);
        const event = JSON.stringify(Object.fromEntries(spec.attributes.map((attribute, k) => [attribute, row[k]]).filter(([, value]) => value !== null)));
        lines.push(envelope.wrap(event) + (envelope.close !== null && at < order.length - 1 ? ',' : ''));
        lineOf[i] = lines.length;
      });
      if (envelope.close !== null) lines.push(envelope.close);
    }
  }
  await writeFile(path, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  return lineOf;
}
