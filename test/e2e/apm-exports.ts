import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The backend's APM exports, written as each transaction finishes: a New Relic Transaction CSV
 * (the columns parsers/newrelic-csv.ts reads: timestamp in epoch ms at the transaction's start,
 * duration in seconds, excluding the time the request queued for a worker) and OTLP/JSON, one
 * document with one SERVER span per line, as the collector's file exporter writes them
 * (parsers/otel-json.ts). Neither carries a request id: like the founding case, the join with the
 * proxy logs has only method, path and time to go on.
 */

export interface Transaction {
  app: string;
  host: string;
  method: string;
  path: string;
  /** Route template, for the transaction name. */
  route: string;
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

const CSV_COLUMNS = [
  'timestamp', 'duration', 'queueDuration', 'name', 'request.uri', 'request.method', 'httpResponseCode',
  'request.headers.userAgent', 'request.headers.x-api-key', 'host', 'appName', 'transactionType',
] as const;

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function end(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

export class NewRelicCsvExport {
  private readonly out: WriteStream;
  /** Lines written so far, the header included. */
  lines = 1;

  constructor(readonly path: string) {
    this.out = createWriteStream(path);
    this.out.write(`${CSV_COLUMNS.join(',')}\n`);
  }

  /** Appends the transaction; returns its line number in the file. */
  write(t: Transaction): number {
    const row = [
      Math.round(t.startMs), (t.durationMs / 1000).toFixed(4), (t.queueMs / 1000).toFixed(4),
      `WebTransaction/Expressjs/${t.method}/${t.route}`, t.path, t.method, t.status,
      t.userAgent, t.apiKey, t.host, t.app, 'Web',
    ];
    this.out.write(`${row.map(csvCell).join(',')}\n`);
    return ++this.lines;
  }

  close(): Promise<void> {
    return end(this.out);
  }
}

const stringValue = (value: string) => ({ stringValue: value });
const nanos = (ms: number): string => (BigInt(Math.round(ms * 1000)) * 1000n).toString();

export class OtlpJsonExport {
  private readonly out: WriteStream;
  lines = 0;

  constructor(readonly path: string, private readonly serviceName: string) {
    this.out = createWriteStream(path);
  }

  write(t: Transaction): number {
    const attributes: { key: string; value: unknown }[] = [
      { key: 'http.request.method', value: stringValue(t.method) },
      { key: 'url.path', value: stringValue(t.path) },
      { key: 'url.scheme', value: stringValue('http') },
      { key: 'http.route', value: stringValue(t.route) },
      { key: 'http.response.status_code', value: { intValue: String(t.status) } },
      { key: 'server.address', value: stringValue(t.host) },
    ];
    if (t.userAgent !== null) attributes.push({ key: 'user_agent.original', value: stringValue(t.userAgent) });
    // Captured request headers are string arrays in the semantic conventions.
    if (t.apiKey !== null) attributes.push({ key: 'http.request.header.x-api-key', value: { arrayValue: { values: [stringValue(t.apiKey)] } } });
    const document = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: stringValue(this.serviceName) }] },
        scopeSpans: [{
          scope: { name: 'alf-e2e-backend' },
          spans: [{
            traceId: randomBytes(16).toString('hex'),
            spanId: randomBytes(8).toString('hex'),
            name: `${t.method} ${t.route}`,
            kind: 2,
            startTimeUnixNano: nanos(t.startMs),
            endTimeUnixNano: nanos(t.startMs + t.durationMs),
            attributes,
            status: {},
          }],
        }],
      }],
    };
    this.out.write(`${JSON.stringify(document)}\n`);
    return ++this.lines;
  }

  close(): Promise<void> {
    return end(this.out);
  }
}
