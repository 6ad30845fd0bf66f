import type { ApmTransaction } from '../../src/model/records.js';
import type { LocalToUtc } from '../../src/model/time-zone.js';
import { parseDecimal } from './numbers.js';
import { splitTarget } from './request-line.js';
import { normaliseTraceId } from './trace-context.js';

/**
 * New Relic Transaction attributes (NRQL export, CSV or JSON) to an ApmTransaction.
 * Shared by the CSV and JSON exports: they carry the same attribute names.
 * Facts: docs/formats.md, New Relic (timestamp = start, ms; duration in seconds).
 */

export type AttributeLookup = (name: string) => string | number | boolean | null | undefined;

const STATUS_ATTRIBUTES = ['httpResponseCode', 'http.statusCode', 'response.status', 'http.response.status_code'];
/** API-key-like attribute names, also when captured from a request header (`http.request.header.x-api-key`). */
const KEY_ATTRIBUTE = /^(?:request\.headers?\.|http\.request\.headers?\.)?(?:x-?)?(?:api[._-]?key(?:[._-]?id)?|apikey|api[._-]?client|consumer(?:[._-]?id)?)$/i;

export function findKeyAttribute(names: readonly string[], keyField?: string): string | null {
  if (keyField) return names.includes(keyField) ? keyField : null;
  return names.find((name) => KEY_ATTRIBUTE.test(name)) ?? null;
}

function text(value: ReturnType<AttributeLookup>): string | null {
  if (value === null || value === undefined) return null;
  const s = String(value);
  return s === '' || s === '-' ? null : s;
}

function number(value: ReturnType<AttributeLookup>): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return NaN;
  return parseDecimal(value.trim());
}

/** A date string that names its zone: `Z`, an offset, or a zone Date.parse knows by name. */
const NAMES_ITS_ZONE = /(?:[Zz]|[+-]\d\d:?\d\d|\b(?:UTC?|GMT|[ECMP][SD]T)(?:[+-]\d{1,4})?)$/;

/**
 * Epoch ms from a number (ms, or s when it is too small to be ms) or an ISO/date string. A string
 * without a zone (`2026-12-07 03:00:01`, as a spreadsheet or a hand-made export writes it) is a wall
 * time in `--timezone`, UTC unless given: Date.parse alone reads it in the zone of the machine alf
 * runs on, so one export gave other pairs on a laptop in Paris than on a UTC server.
 */
export function parseApmTimestamp(value: ReturnType<AttributeLookup>, toUtc: LocalToUtc | null = null): number {
  const n = number(value);
  if (Number.isFinite(n)) return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  if (typeof value !== 'string' || value.length > 64) return NaN;
  const text = value.trim();
  if (NAMES_ITS_ZONE.test(text)) return Date.parse(text);
  // ISO shapes take a `Z`; the others (`12/07/2026 03:00:01`, `Dec 7, 2026, 3:00:01 AM`) a ` UTC`.
  let wall = Date.parse(`${text}Z`);
  if (Number.isNaN(wall)) wall = Date.parse(`${text} UTC`);
  return Number.isNaN(wall) || toUtc === null ? wall : toUtc(wall);
}

/** Method and path from a transaction name like `WebTransaction/Expressjs/GET//v1/orders`. */
function methodFromName(name: string | null): string | null {
  if (!name) return null;
  const match = /\/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\//.exec(name);
  return match ? match[1]! : null;
}

export type ApmFieldFailure = { field: string; value: string };

/** Fills `transaction` from attributes; returns the failing field, or null on success. */
export function fillFromNewRelicAttributes(
  transaction: ApmTransaction,
  get: AttributeLookup,
  keyAttribute: string | null,
  toUtc: LocalToUtc | null = null,
): ApmFieldFailure | null {
  const startMs = parseApmTimestamp(get('timestamp'), toUtc);
  if (!Number.isFinite(startMs) || startMs <= 0) return { field: 'timestamp', value: String(get('timestamp') ?? '') };
  const durationSeconds = number(get('duration') ?? get('webDuration'));
  if (!Number.isFinite(durationSeconds) || durationSeconds < 0) return { field: 'duration', value: String(get('duration') ?? '') };
  transaction.startMs = startMs;
  transaction.durationMs = Math.round(durationSeconds * 1e6) / 1e3;
  // Seconds, like duration; present where the agent saw an X-Request-Start or X-Queue-Start header.
  const queueSeconds = number(get('queueDuration'));
  transaction.queueMs = Number.isFinite(queueSeconds) && queueSeconds >= 0 ? Math.round(queueSeconds * 1e6) / 1e3 : null;
  transaction.name = text(get('name'));
  const uri = text(get('request.uri')) ?? text(get('http.url'));
  if (uri) {
    const { path } = splitTarget(uri);
    transaction.path = path;
  }
  transaction.method = text(get('request.method'))?.toUpperCase() ?? methodFromName(transaction.name);
  for (const attribute of STATUS_ATTRIBUTES) {
    const status = number(get(attribute));
    if (Number.isInteger(status) && status >= 100 && status <= 999) {
      transaction.status = status;
      break;
    }
  }
  transaction.userAgent = text(get('request.headers.userAgent')) ?? text(get('request.headers.user-agent'));
  // The host the request was addressed to where exported (its Host header), else the agent's own.
  transaction.host = text(get('request.headers.host')) ?? text(get('host'));
  const traceId = text(get('traceId')) ?? text(get('trace.id'));
  transaction.traceId = traceId ? normaliseTraceId(traceId) : null;
  transaction.requestId = text(get('request.headers.x-request-id')) ?? text(get('request.headers.X-Request-Id')) ?? text(get('requestId'));
  transaction.apiKey = keyAttribute ? text(get(keyAttribute)) : null;
  return null;
}
