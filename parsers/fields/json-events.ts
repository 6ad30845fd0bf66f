import { excerpt, type ParseIssueCode } from '../../src/model/parse-issue.js';
import type { ApmTransaction } from '../../src/model/records.js';
import type { RecordParser, RecordSink } from '../format.js';
import { isJsonObject, type JsonObject } from './json-object.js';
import { unescapeJsonString } from './json-string.js';

/**
 * A streaming scanner for JSON exports whose events sit at known places in an envelope
 * (`data.actor.account.nrql.results[]`, `resourceSpans[].scopeSpans[].spans[]`, a bare array, NDJSON).
 *
 * Ingest feeds lines one at a time, and a pretty-printed document never parses line by line, so the
 * scanner tracks brackets and strings across lines and hands over each event object the moment it
 * closes, with the physical line where it opened. Memory stays proportional to one event, not to the
 * document, and the first events of a document already come out of a 64-line detection sample.
 * Only brackets and strings are checked here; each event's text is then parsed for real, so a bad
 * value costs that one event (PARSE_BAD_JSON) and the scan goes on.
 *
 * Paths: `''` is the root, `.key` an object member, `[]` an array element
 * (`.data.actor.account.nrql.results[]`, `[][]` for an array of arrays).
 *
 * Accounting (FileStats: read = records + skipped + ignored): a line where an event starts is
 * charged to that event's record or issue; every other line is ignored. A line where several events
 * start (single-line documents) is charged once per event, so documents can over-count.
 */

export interface JsonEventShape {
  /** Format name used in messages. */
  readonly title: string;
  /** Arrays whose object elements are events. */
  readonly eventArrays: readonly string[];
  /** Other arrays of the envelope; opening one shows the document has this format's shape. */
  readonly envelopeArrays: readonly string[];
  /**
   * null: a root object is always an envelope. Otherwise a root object is an event (NDJSON) unless
   * one of its own keys is listed here, which makes it an envelope.
   */
  readonly envelopeKeys: readonly string[] | null;
  /**
   * Arrays of the documents the same software writes beside this format's into one file (the
   * OpenTelemetry collector's file exporter writes metrics and logs to the traces' path): a root
   * holding one and no events is ignored, not an issue.
   */
  readonly siblingArrays?: readonly string[];
}

/** Why an event did not become a record. */
export interface EventIssue {
  code: ParseIssueCode;
  field: string | null;
  message: string;
}

/** A record, an issue, or null for an event that is deliberately not a transaction (a client span). */
export type EventOutcome = ApmTransaction | EventIssue | null;

export type EventHandler = (text: string, line: number) => EventOutcome;

/**
 * A handler of parsed event objects: event text that is not valid JSON, or not an object, becomes
 * an issue here, once for every JSON export format. `what` names the event in that issue.
 */
export function parsedObjectEvents(
  parse: (text: string) => unknown,
  what: string,
  handle: (event: JsonObject, text: string, line: number) => EventOutcome,
): EventHandler {
  return (text, line) => {
    let event: unknown;
    try {
      event = parse(text);
    } catch (error) {
      return { code: 'PARSE_BAD_JSON', field: null, message: `bad JSON: ${(error as Error).message}` };
    }
    if (!isJsonObject(event)) return { code: 'PARSE_NO_MATCH', field: null, message: `${what} must be a JSON object` };
    return handle(event, text, line);
  };
}

const OPEN_OBJECT = 123; // {
const OPEN_ARRAY = 91; // [
const CLOSE_OBJECT = 125; // }
const CLOSE_ARRAY = 93; // ]
const QUOTE = 34;
const COMMA = 44;
const COLON = 58;
const BACKSLASH = 92;
const BOM = 0xfeff;

/** Index of the quote closing the string opened at `open`, or -1 when the line ends first. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

export function createJsonEventParser(file: string, shape: JsonEventShape, handle: EventHandler): RecordParser {
  const eventArrays = new Set(shape.eventArrays);
  const eventPaths = new Set(shape.eventArrays.map((path) => `${path}[]`));
  const envelopeArrays = new Set(shape.envelopeArrays);
  const envelopeKeys = shape.envelopeKeys === null ? null : new Set(shape.envelopeKeys);
  const siblingArrays = new Set(shape.siblingArrays ?? []);
  // Deeper than every known path, a position can match none of them. Checking this first keeps
  // positionPath (O(depth)) off lines like `{{{{…`, where it made the scan quadratic (a 4 KB line
  // took 1.7 s). A path string with k separators (`.` or `[]`) is at most k levels deep.
  const separators = (path: string): number => path.split('.').length - 1 + path.split('[]').length - 1;
  const maxPathDepth = Math.max(0, ...[...eventPaths, ...envelopeArrays].map(separators));

  // Open brackets, outermost first. Keys are kept for envelope objects only (events need depth alone).
  const kinds: number[] = [];
  const keys: (string | null)[] = [];
  const expectKey: boolean[] = [];

  // The event being captured: its depth in `kinds`, first line, text so far.
  let eventBase = -1;
  let eventLine = 0;
  let eventStart = 0;
  let eventParts: string[] = [];
  /** A root object that is an event unless an envelope key shows up among its own keys. */
  let rootCandidate = false;
  /** Skipping a value that sits where an event should be but is no object. */
  let discarding = false;
  let eventLineCharged = false;

  let rootLine = 0;
  /** The root value opened on a line that also holds content: NDJSON or a one-line document. */
  let rootInline = false;
  let rootEvents = 0;
  let rootRecognised = false;
  /** The root holds a sibling document's array (siblingArrays). */
  let rootSibling = false;
  /** After broken structure: skip to the next line that starts a value in column 0. */
  let resync = false;

  let currentLine = 0;
  let lineCharged = false;
  /** The last character outside whitespace that the scan passed (a string counts as its quote). */
  let lastSignificant = 0;

  function charge(line: number): void {
    if (line === currentLine) lineCharged = true;
  }

  function issue(sink: RecordSink, line: number, code: ParseIssueCode, field: string | null, message: string, sample: string): void {
    charge(line);
    sink.issue({ code, file, line, field, message, sample: excerpt(sample) });
  }

  function positionPath(): string {
    let path = '';
    for (let i = 0; i < kinds.length; i++) path += kinds[i] === OPEN_ARRAY ? '[]' : `.${keys[i] ?? ''}`;
    return path;
  }

  function beginEvent(at: number, candidate: boolean, discard: boolean): void {
    eventBase = kinds.length;
    eventLine = currentLine;
    eventStart = at;
    eventParts = [];
    rootCandidate = candidate;
    discarding = discard;
    eventLineCharged = lineCharged;
  }

  /** The open event will not be charged: ignore its first line if that line is already behind us. */
  function releaseEventLine(sink: RecordSink): void {
    if (eventBase >= 0 && !discarding && eventLine !== currentLine && !eventLineCharged) sink.ignore(eventLine);
  }

  function finishEvent(text: string, end: number, sink: RecordSink): void {
    const wasDiscarding = discarding;
    eventBase = -1;
    rootCandidate = false;
    discarding = false;
    if (wasDiscarding) return;
    eventParts.push(text.slice(eventStart, end + 1));
    const eventText = eventParts.length === 1 ? eventParts[0]! : eventParts.join('\n');
    eventParts = [];
    rootEvents++;
    let outcome: EventOutcome;
    try {
      outcome = handle(eventText, eventLine);
    } catch (error) {
      outcome = { code: 'PARSE_BAD_FIELD', field: null, message: `cannot map event: ${(error as Error).message}` };
    }
    if (outcome === null) {
      // Not a transaction by design; its first line is ignored unless something else claimed it.
      sink.declined?.(eventLine);
      if (eventLine !== currentLine && !eventLineCharged) sink.ignore(eventLine);
      return;
    }
    charge(eventLine);
    if ('kind' in outcome) sink.record(outcome);
    else sink.issue({ code: outcome.code, file, line: eventLine, field: outcome.field, message: outcome.message, sample: excerpt(eventText) });
  }

  function finishRoot(sink: RecordSink, text: string): void {
    // A sibling document's lines are left uncharged: ignored, as every line no event claims.
    if (rootEvents === 0 && !rootRecognised && !rootSibling) {
      issue(sink, rootLine, 'PARSE_NO_MATCH', null,
        `not a ${shape.title} document: no events at ${shape.eventArrays.map((path) => path || '(root array)').join(', ')}`, text);
    }
  }

  /**
   * A one-line root value still open when a line starts a new value in column 1: an NDJSON line
   * was cut short. Report it and start over, instead of reading the next records into it.
   */
  function cutRoot(sink: RecordSink): void {
    abandonValue(sink, `JSON value opened at line ${rootLine} is not closed before line ${currentLine} starts a new one`);
    rootCandidate = false;
    discarding = false;
  }

  /** Reports the value being read as unclosed (at its event's line when inside one) and forgets it. */
  function abandonValue(sink: RecordSink, message: string): void {
    const line = eventBase >= 0 && !discarding ? eventLine : rootLine;
    sink.issue({ code: 'PARSE_BAD_JSON', file, line, field: null, message, sample: excerpt(eventParts.join('\n')) });
    kinds.length = 0;
    keys.length = 0;
    expectKey.length = 0;
    eventBase = -1;
    eventParts = [];
  }

  function brokenStructure(sink: RecordSink, text: string, message: string): void {
    issue(sink, currentLine, 'PARSE_BAD_JSON', null,
      `${message}; skipping to the next line that starts a JSON value in column 1`, text);
    releaseEventLine(sink);
    kinds.length = 0;
    keys.length = 0;
    expectKey.length = 0;
    eventBase = -1;
    eventParts = [];
    rootCandidate = false;
    discarding = false;
    resync = true;
  }

  function scan(text: string, sink: RecordSink): void {
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 13 || c === 10) continue;
      lastSignificant = c;
      const depth = kinds.length;
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end < 0) {
          // JSON strings never span lines. Inside an event the event's own parse reports it.
          if (eventBase < 0) brokenStructure(sink, text, 'string not closed on its line');
          return;
        }
        const top = depth - 1;
        if (top >= 0 && kinds[top] === OPEN_OBJECT && expectKey[top]) {
          expectKey[top] = false;
          if (eventBase < 0) {
            keys[top] = unescapeJsonString(text.slice(i + 1, end));
          } else if (rootCandidate && depth === 1) {
            const key = unescapeJsonString(text.slice(i + 1, end));
            if (envelopeKeys?.has(key)) {
              // An envelope after all: stop capturing and track its members by path.
              releaseEventLine(sink);
              eventBase = -1;
              eventParts = [];
              rootCandidate = false;
              keys[0] = key;
            }
          }
        }
        i = end;
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (depth === 0) {
          rootLine = currentLine;
          rootInline = text.trim().length > 1;
          rootEvents = 0;
          rootRecognised = false;
          rootSibling = false;
          if (c === OPEN_OBJECT && envelopeKeys !== null) beginEvent(i, true, false);
        } else if (eventBase < 0 && depth <= maxPathDepth) {
          const path = positionPath();
          if (c === OPEN_OBJECT) {
            if (eventPaths.has(path)) beginEvent(i, false, false);
          } else if (eventArrays.has(path) || envelopeArrays.has(path)) {
            rootRecognised = true;
          } else if (siblingArrays.has(path)) {
            rootSibling = true;
          } else if (eventPaths.has(path)) {
            issue(sink, currentLine, 'PARSE_NO_MATCH', null, `expected an event object at ${path}, found an array`, text);
            beginEvent(i, false, true);
          }
        }
        if (depth === 0 && c === OPEN_ARRAY && eventArrays.has('')) rootRecognised = true;
        kinds.push(c);
        keys.push(null);
        expectKey.push(c === OPEN_OBJECT);
        continue;
      }
      if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        const open = kinds.pop();
        keys.pop();
        expectKey.pop();
        if (open === undefined) {
          brokenStructure(sink, text, `unexpected "${String.fromCharCode(c)}" outside any JSON value`);
          return;
        }
        if ((open === OPEN_OBJECT) !== (c === CLOSE_OBJECT)) {
          brokenStructure(sink, text, `"${String.fromCharCode(c)}" closes a "${String.fromCharCode(open)}"`);
          return;
        }
        if (eventBase >= 0 && kinds.length === eventBase) finishEvent(text, i, sink);
        if (kinds.length === 0) finishRoot(sink, text);
        continue;
      }
      if (c === COMMA) {
        const top = depth - 1;
        if (top >= 0 && kinds[top] === OPEN_OBJECT) expectKey[top] = true;
        continue;
      }
      if (depth === 0) {
        if (c === BOM && i === 0) continue;
        issue(sink, currentLine, 'PARSE_NO_MATCH', null, `not ${shape.title}: a line outside any JSON value must start with { or [`, text);
        return;
      }
      // A scalar character inside a value: nothing to track.
    }
  }

  return {
    line(text, lineNumber, sink) {
      currentLine = lineNumber;
      lineCharged = false;
      try {
        const first = text.charCodeAt(0);
        const startsValue = first === OPEN_OBJECT || first === OPEN_ARRAY;
        if (resync && startsValue) resync = false;
        // A value in column 1 while a one-line root is open: an NDJSON line cut short, unless the
        // open value expects a value right here (after "[", ":" or an array's ","), as a document printed
        // with any indentation (none included) has it.
        const inArray = kinds[kinds.length - 1] === OPEN_ARRAY;
        const expectsValue = lastSignificant === OPEN_ARRAY || lastSignificant === COLON || (lastSignificant === COMMA && inArray);
        if (startsValue && kinds.length > 0 && rootInline && !expectsValue) cutRoot(sink);
        if (!resync) {
          if (eventBase >= 0) eventStart = 0;
          scan(text, sink);
          if (eventBase >= 0 && !discarding) eventParts.push(text.slice(eventStart));
        }
      } catch (error) {
        // The scanner should not throw; if it does, report the line rather than lose the file.
        issue(sink, lineNumber, 'PARSE_BAD_JSON', null, `scanner failed: ${(error as Error).message}`, text);
      }
      const pending = eventBase >= 0 && eventLine === lineNumber;
      if (!lineCharged && !pending) sink.ignore(lineNumber);
    },
    end(sink) {
      if (kinds.length > 0) {
        currentLine = -1;
        abandonValue(sink, `input ends inside a JSON value opened at line ${rootLine}: truncated document?`);
      }
    },
  };
}
