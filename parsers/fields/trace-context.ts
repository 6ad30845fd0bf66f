/**
 * Trace ids from propagation headers, normalised to 32 lowercase hex (W3C form).
 * W3C traceparent: 00-<32 hex trace>-<16 hex parent>-<2 hex flags>; all-zero ids and version ff are invalid.
 * AWS X-Amzn-Trace-Id: Root=1-<8 hex>-<24 hex>; the X-Ray convention maps it to 8+24 hex.
 */

const HEX32 = /^[0-9a-f]{32}$/;

export function traceIdFromTraceparent(header: string): string | null {
  if (header.length < 55 || header.charCodeAt(2) !== 45) return null;
  const version = header.slice(0, 2).toLowerCase();
  if (version === 'ff') return null;
  const traceId = header.slice(3, 35).toLowerCase();
  if (!HEX32.test(traceId) || traceId === '00000000000000000000000000000000') return null;
  return traceId;
}

export function traceIdFromAmznTraceId(header: string): string | null {
  const at = header.indexOf('Root=1-');
  if (at < 0) return null;
  const root = header.slice(at + 7, at + 7 + 33);
  const traceId = (root.slice(0, 8) + root.slice(9, 33)).toLowerCase();
  return HEX32.test(traceId) ? traceId : null;
}

/** Accepts a bare 32-hex id, a traceparent, or an X-Amzn-Trace-Id. */
export function normaliseTraceId(value: string): string | null {
  const lower = value.toLowerCase();
  if (HEX32.test(lower)) return lower === '00000000000000000000000000000000' ? null : lower;
  if (value.startsWith('Root=') || value.includes('Root=1-')) return traceIdFromAmznTraceId(value);
  return traceIdFromTraceparent(value);
}
