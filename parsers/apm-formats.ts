import { datadogJson } from './datadog.js';
import type { FormatDef } from './format.js';
import { newRelicCsv } from './newrelic-csv.js';
import { newRelicJson } from './newrelic-json.js';
import { otelJson } from './otel-json.js';

/**
 * APM transaction exports, in detection order. The JSON formats reject each other's content
 * (different envelopes, and NDJSON events need `timestamp` for New Relic, `start`/`trace_id` for
 * Datadog), so their order only sets who wins a tie; OTLP first, as its envelope is the most specific.
 */
export const APM_FORMATS: readonly FormatDef[] = [
  otelJson,
  newRelicJson,
  datadogJson,
  newRelicCsv,
];
