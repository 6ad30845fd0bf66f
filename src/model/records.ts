/**
 * The normalised record model. Every parser produces these; nothing downstream
 * knows which format a record came from except through `format`.
 *
 * Units: all instants are epoch milliseconds (UTC), all durations milliseconds.
 * Missing is `null`, never 0: a `-` upstream time means "nginx never heard back",
 * which is exactly the fact alf exists to find.
 */

/** Where a record came from, so every finding can cite file:line. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based physical line number (a CSV header is line 1). */
  readonly line: number;
}

/** One request as a proxy or gateway saw it. */
export interface ProxyRecord extends SourceLocation {
  readonly kind: 'proxy';
  readonly format: string;
  /** When the request ended (the proxy wrote the line). */
  endMs: number;
  /** Resolution of the logged timestamp: 1000 for `$time_local`, 1 for `$msec`. */
  timeResolutionMs: number;
  /** Best estimate of when the request arrived: end minus client-facing time. */
  startMs: number;
  method: string | null;
  /** Path without query string, as the client sent it. */
  path: string | null;
  /** Route template of the path (`/v2/applications/:id/metrics.json`), filled by routeOf() on first use. */
  route: string | null;
  query: string | null;
  host: string | null;
  /** Client-facing status. */
  status: number | null;
  /** Client-facing duration (nginx $request_time). */
  requestTimeMs: number | null;
  /**
   * Whether this format records the backend's answer at all. When false (nginx `combined`),
   * a null upstreamStatus means "unknown", not "the backend never answered".
   */
  upstreamLogged: boolean;
  /** Status of the last upstream attempt; null when the backend never answered. */
  upstreamStatus: number | null;
  /** Number of upstream attempts logged (retries and redirects), 0 when none. */
  upstreamAttempts: number;
  /** Sum of every upstream attempt's response time: worker time the proxy saw. */
  upstreamTimeMs: number | null;
  /** Sum of upstream connect times; null when never measured. */
  upstreamConnectTimeMs: number | null;
  upstreamHeaderTimeMs: number | null;
  upstreamAddr: string | null;
  clientIp: string | null;
  userAgent: string | null;
  /** Identity the budget is kept against (API key id, consumer...). */
  apiKey: string | null;
  requestId: string | null;
  /** W3C trace id (32 lowercase hex) when the line carries one. */
  traceId: string | null;
  bytesSent: number | null;
  connectionRequests: number | null;
  /** The client gave up before the response (nginx 499, ALB 460, HAProxy C*, Envoy DC). */
  clientClosed: boolean;
  /** Format-specific flags worth keeping (Envoy response flags, HAProxy termination state). */
  flags: string | null;
  /** The original line, kept for evidence. */
  raw: string;
}

/** One transaction as the backend's APM agent saw it. */
export interface ApmTransaction extends SourceLocation {
  readonly kind: 'apm';
  readonly format: string;
  /** Transaction start (New Relic `timestamp`, OTel startTimeUnixNano). */
  startMs: number;
  durationMs: number;
  /**
   * Time the request waited before the transaction started (New Relic `queueDuration`: from the
   * proxy's X-Request-Start header to the app's start), ms; null when the export has none. The
   * proxy's upstream time holds it and the duration does not.
   */
  queueMs: number | null;
  name: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  userAgent: string | null;
  /**
   * The host the request was addressed to (OTel `server.address`, Datadog), or the agent's own
   * host where that is all the export has (New Relic `host`). Informational: the join ignores it.
   */
  host: string | null;
  traceId: string | null;
  requestId: string | null;
  apiKey: string | null;
  raw: string;
}

export type LogRecord = ProxyRecord | ApmTransaction;

/** How a proxy record and an APM transaction were paired. */
export const JoinMethod = {
  id: 'id',
  heuristic: 'heuristic',
  none: 'none',
} as const;
export type JoinMethod = keyof typeof JoinMethod;

/**
 * The unit detectors consume: a proxy record, its APM transaction, or both.
 * Unjoined records on either side still flow, so nothing vanishes from counts.
 */
export interface JoinedRequest {
  proxy: ProxyRecord | null;
  apm: ApmTransaction | null;
  method: JoinMethod;
  /** 0..1; 1 for id joins, 0 when unjoined. */
  confidence: number;
  /** APM start minus proxy start after skew correction, ms; null when unjoined. */
  offsetMs: number | null;
}

/** A blank proxy record with every field present, so all records share one shape (fast property access). */
export function emptyProxyRecord(format: string, file: string, line: number, raw: string): ProxyRecord {
  return {
    kind: 'proxy', format, file, line,
    endMs: 0, timeResolutionMs: 1, startMs: 0,
    method: null, path: null, route: null, query: null, host: null,
    status: null, requestTimeMs: null,
    upstreamLogged: false, upstreamStatus: null, upstreamAttempts: 0, upstreamTimeMs: null,
    upstreamConnectTimeMs: null, upstreamHeaderTimeMs: null, upstreamAddr: null,
    clientIp: null, userAgent: null, apiKey: null, requestId: null, traceId: null,
    bytesSent: null, connectionRequests: null,
    clientClosed: false, flags: null, raw,
  };
}

export function emptyApmTransaction(format: string, file: string, line: number, raw: string): ApmTransaction {
  return {
    kind: 'apm', format, file, line,
    startMs: 0, durationMs: 0, queueMs: null,
    name: null, method: null, path: null, status: null, userAgent: null, host: null,
    traceId: null, requestId: null, apiKey: null, raw,
  };
}

/** Did a backend answer this request? The one fact every gateway format must map. */
export function upstreamAnswered(record: ProxyRecord): boolean {
  return record.upstreamStatus !== null;
}

/** The proxy logged that no backend answered (as opposed to not logging backends at all). */
export function upstreamMissing(record: ProxyRecord): boolean {
  return record.upstreamLogged && record.upstreamStatus === null;
}

/**
 * The facts below are each written once, here, and used by every detector and summary that needs
 * them: a second spelling drifts (one counted an upstream address as "reached", one did not).
 */

/** A backend answered and the proxy logged how long it took: a backend time to learn from. */
export function upstreamTimed(record: ProxyRecord): boolean {
  return upstreamAnswered(record) && record.upstreamTimeMs !== null;
}

/** The proxy passed the request to a backend: it logged an upstream attempt or address. */
export function upstreamUsed(record: ProxyRecord): boolean {
  return record.upstreamAttempts > 0 || record.upstreamAddr !== null;
}

/**
 * The proxy logged that it answered without trying any backend: a static file, a redirect, its
 * own health check, a limiter or a refused request. No APM transaction exists for such a request.
 * Only where the format logs the upstream at all (`combined` cannot say), and never for a client
 * that left: a format may log no upstream for a request it was still forwarding when the client
 * hung up, and those are the requests whose backend work matters most.
 */
export function answeredWithoutBackend(record: ProxyRecord): boolean {
  return record.upstreamLogged && !record.clientClosed && !upstreamTried(record);
}

/** Any sign of an upstream: an attempt, an address or an upstream time was logged. */
export function upstreamTried(record: ProxyRecord): boolean {
  return upstreamUsed(record) || record.upstreamTimeMs !== null;
}

/**
 * Cut off before the backend answered: the client hung up, or the proxy stopped waiting for a
 * backend it had reached. The backend may have kept working past the time the proxy logged.
 */
export function cutOffBeforeAnswer(record: ProxyRecord): boolean {
  return record.clientClosed || (upstreamMissing(record) && upstreamUsed(record));
}

/**
 * Cut off after the proxy timed an attempt: the client hung up, or an upstream attempt the proxy
 * counted got no answer. Narrower than cutOffBeforeAnswer: a line naming an upstream address with
 * no attempt timed (nginx's `404` with upstream status and time `-`) is not one. The budget prices
 * these as aborted; pricing the narrower set keeps its figures as they were (widening it makes the
 * incident's unjoined 404 lines unknown, so its key's true time becomes unknown).
 */
export function cutOffAfterTimedAttempt(record: ProxyRecord): boolean {
  return record.clientClosed || (upstreamMissing(record) && record.upstreamAttempts > 0);
}

/** No backend answer reached the client: it hung up, or the proxy logged no answer (cut off or made by the proxy). */
export function answerNotDelivered(record: ProxyRecord): boolean {
  return record.clientClosed || upstreamMissing(record);
}
