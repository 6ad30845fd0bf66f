import { emptyApmTransaction } from '../src/model/records.js';
import { localTimeZone } from '../src/model/time-zone.js';
import { APM_TRAITS, type FormatDef, type ParserOptions, type RecordParser } from './format.js';
import { fillFromNewRelicAttributes, findKeyAttribute } from './fields/apm-attributes.js';
import { createJsonEventParser, parsedObjectEvents, type EventOutcome, type JsonEventShape } from './fields/json-events.js';

/**
 * New Relic Transaction events as JSON (docs/formats.md, New Relic), in any of the shapes exports take:
 * - NerdGraph: `{"data":{"actor":{"account":{"nrql":{"results":[…]}}}}}` (also cross-account
 *   `data.actor.nrql.results`);
 * - NRQL REST API v1: `{"results":[{"events":[…]}]}`;
 * - a bare JSON array of events;
 * - NDJSON, one event object per line;
 * - historical data export files (NerdGraph `historicalDataExport`, gzipped JSON): an array of
 *   `{"attributes":{…}}`, each event's attributes nested one level down.
 * Pretty-printed or on one line; each record points at the line where its event object opens.
 * Attribute names are those of the CSV export (fillFromNewRelicAttributes). A root object is taken
 * as an event unless it has a `data` or `results` key. Aggregate rows (`{"count":5}`) inside
 * `results[]` of the v1 shape are not events and are passed over.
 */

const FORMAT_ID = 'newrelic-json';

export const NEW_RELIC_JSON_SHAPE: JsonEventShape = {
  title: 'New Relic JSON',
  eventArrays: ['', '.data.actor.account.nrql.results', '.data.actor.nrql.results', '.results[].events'],
  envelopeArrays: ['.results'],
  envelopeKeys: ['data', 'results'],
};

type Attribute = string | number | boolean | null | undefined;

export function createNewRelicJsonParser(options: ParserOptions): RecordParser {
  const file = options.file;
  const keyField = options.keyField;
  const toUtc = options.timeZone === undefined ? null : localTimeZone(options.timeZone);
  return createJsonEventParser(file, NEW_RELIC_JSON_SHAPE, parsedObjectEvents(JSON.parse, 'a New Relic event', (event, text, line): EventOutcome => {
    const transaction = emptyApmTransaction(FORMAT_ID, file, line, text);
    // A historical export's record keeps its attributes in `attributes`; a record with its own timestamp is read as is.
    const nested = event.attributes;
    const attributes = typeof nested === 'object' && nested !== null && !Array.isArray(nested) && !('timestamp' in event)
      ? nested as Record<string, unknown> : event;
    const get = (name: string): Attribute => {
      const value = attributes[name];
      // Nested values are not NRQL attributes; treat them as absent rather than "[object Object]".
      return typeof value === 'object' && value !== null ? undefined : (value as Attribute);
    };
    const keyAttribute = keyField ? (keyField in attributes ? keyField : null) : findKeyAttribute(Object.keys(attributes));
    const failure = fillFromNewRelicAttributes(transaction, get, keyAttribute, toUtc);
    if (failure) {
      const missing = failure.value === '';
      // A missing attribute is no New Relic event (any JSON object lacks them): a miss, not a bad
      // value, so detection does not name New Relic as the closest format of every unknown object.
      return {
        code: missing ? 'PARSE_NO_MATCH' : failure.field === 'timestamp' ? 'PARSE_BAD_TIMESTAMP' : 'PARSE_BAD_FIELD',
        field: failure.field,
        message: missing ? `no ${failure.field} attribute` : `bad ${failure.field} "${failure.value.slice(0, 60)}"`,
      };
    }
    return transaction;
  }));
}

export const newRelicJson: FormatDef = {
  id: FORMAT_ID,
  title: 'New Relic Transaction events, JSON (NerdGraph, NRQL API, array or NDJSON)',
  kind: 'apm',
  traits: APM_TRAITS,
  url: 'https://docs.newrelic.com/attribute-dictionary/?event=Transaction',
  example:
    '{"data":{"actor":{"account":{"nrql":{"results":[{"timestamp":1736937121373,"duration":0.0792,' +
    '"name":"WebTransaction/Expressjs/GET//v1/orders","request.uri":"/v1/orders","httpResponseCode":"200",' +
    '"request.headers.userAgent":"okhttp/4.12.0","appName":"orders-api","host":"ip-10-0-3-17",' +
    '"transactionType":"Web","traceId":"491e743b1be0164f3055415f2cb2f8d0"}]}}}}}',
  exampleFields: { start: '2025-01-15T10:32:01.373Z', status: 200, method: 'GET', path: '/v1/orders', durationMs: 79.2 },
  createParser: createNewRelicJsonParser,
};
