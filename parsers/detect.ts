import type { LogRecord } from '../src/model/records.js';
import type { ParseIssue } from '../src/model/parse-issue.js';
import { LOG_FORMAT_FIELD, type FormatDef, type RecordSink } from './format.js';

/**
 * Picks a format for a file from its first lines: each candidate parses the sample, and the one
 * that turns the most lines into records wins (ties go to the earlier, more specific format).
 * The first format that reaches a perfect score locks in, as lnav does.
 */

export interface FormatScore {
  format: FormatDef;
  records: number;
  issues: number;
  /** Share of non-ignored sample lines that became records. */
  score: number;
  firstIssue: ParseIssue | null;
  /**
   * Non-blank sample lines the format ignored as its own lines that hold no record (HAProxy's
   * notices and TCP sessions): a file of only those is that format's, with nothing to read.
   */
  recognised: number;
  /** Events of the format's own shape that hold no record (spans that are no transactions). */
  declined: number;
}

export interface Detection {
  best: FormatScore | null;
  /** All candidates, best first, for "which came closest" messages. */
  ranking: FormatScore[];
}

export const MIN_DETECTION_SCORE = 0.5;

const EXTRA_PENALTY = 0.1;
/**
 * A file-level doubt (a warning) costs as much as one line read with text left over: enough to
 * rank a format that doubts below one that does not (how %D and %T files are told apart), not so
 * much that a one-line file whose format warns fails detection. It had counted as a failed line:
 * a single `combined` line with timings after it scored 0.45 and was "no known format fits".
 */
const DOUBT_PENALTY = 0.1;

export function scoreFormat(format: FormatDef, file: string, sample: readonly string[]): FormatScore {
  let records = 0;
  let issues = 0;
  let extra = 0;
  let doubts = 0;
  let recognised = 0;
  let declined = 0;
  /** Issues the parser raised at the end of the sample: a document cut there by the sample itself. */
  let atEnd = 0;
  let ended = false;
  let firstIssue: ParseIssue | null = null;
  /** A doubt is named only when no line failed: Tyk's guessed year was named as why a file failed on its next line's missing status. */
  let firstWarning: ParseIssue | null = null;
  const sink: RecordSink = {
    record(_record: LogRecord) { records++; },
    issue(issue) {
      if (ended) {
        atEnd++;
        firstIssue ??= issue;
        return;
      }
      issues++;
      firstIssue ??= issue;
    },
    ignore(line) {
      if (sample[line - 1]?.trim()) recognised++;
    },
    extra() { extra++; },
    declined() { declined++; },
    // For detection a doubt counts against the format (DOUBT_PENALTY).
    warn(warning) {
      doubts++;
      firstWarning ??= warning;
    },
  };
  try {
    const parser = format.createParser({ file });
    sample.forEach((line, index) => parser.line(line, index + 1, sink));
    ended = true;
    parser.end(sink);
  } catch (error) {
    // A parser that throws on a sample cannot be trusted with the file; count it as a miss.
    issues += sample.length;
    firstIssue ??= {
      code: 'PARSE_NO_MATCH', file, line: 1, field: null,
      message: `parser ${format.id} failed: ${(error as Error).message}`, sample: '',
    };
  }
  // A line format's end has nothing to cut; a document format's sample of a longer file always
  // ends inside the document, so what its end reports is the sample's doing, not the file's.
  if (format.traits.unit === 'line') issues += atEnd;
  const tried = records + issues;
  // A record read from a prefix of its line counts for less than a whole one (0.9), so a format that
  // reads every field wins over a generic one that leaves text over, even when it misses a few lines.
  return { format, records, issues, score: tried === 0 ? 0 : Math.max(0, records - EXTRA_PENALTY * extra - DOUBT_PENALTY * doubts) / tried, firstIssue: firstIssue ?? firstWarning, recognised, declined };
}

export function detectFormat(formats: readonly FormatDef[], file: string, sample: readonly string[]): Detection {
  const ranking: FormatScore[] = [];
  for (const format of formats) {
    const result = scoreFormat(format, file, sample);
    ranking.push(result);
    if (result.score === 1 && result.records > 0) break;
  }
  // Ties (most often: every candidate at 0%) go to the format that read furthest into a line, so
  // "closest" names a format the file resembles, not merely the first one tried.
  ranking.sort((a, b) => b.score - a.score || b.records - a.records || b.recognised - a.recognised || progress(b.firstIssue) - progress(a.firstIssue));
  const fits = (candidate: FormatScore | undefined): candidate is FormatScore => candidate !== undefined &&
    ((candidate.score >= MIN_DETECTION_SCORE && candidate.records > 0) || documentWithoutRecordsYet(candidate));
  // The format the user named wins any file it fits (FormatDef.named), and leads the ranking.
  const named = ranking.findIndex((candidate) => candidate.format.named === true && fits(candidate));
  if (named > 0) ranking.unshift(...ranking.splice(named, 1));
  // The top score fits, or none does by score; then a document that holds no record yet may.
  const best = ranking.find(fits) ?? null;
  return { best, ranking };
}

/**
 * A document format's sample that holds its events, none of them a record, and no error: an
 * OTLP document whose spans come children first (SDKs export a span when it ends, so the server
 * span of a request follows its internal ones, and in a pretty-printed document it can lie past
 * the first batch: line 5,109 of highlight's `backend/otel/samples/fs.json`). The records, if
 * any, come later; a document without any reads as one with no transactions.
 */
function documentWithoutRecordsYet(candidate: FormatScore): boolean {
  return candidate.format.traits.unit === 'document' && candidate.records === 0 && candidate.issues === 0 && candidate.declined > 0;
}

/** How alf names the lines a server writes besides its requests, wherever it speaks of them. */
export const SERVER_OWN_LINES = 'of the kind a server writes besides its requests (an error log, notices, TCP sessions)';

/**
 * The proxy format whose own lines that hold no request (nginx's error log and notices, HAProxy's
 * notices and TCP sessions, Envoy's component log) are every non-blank line of the sample, or
 * null. Such lines name the server but not the layout of its requests: a file that begins with
 * them (an error log, a `docker logs` stream that starts with start-up notices) is detected on its
 * first line that holds a request instead (src/parse/parse-source.ts).
 */
export function nonRequestFormat(detection: Detection, sample: readonly string[]): FormatDef | null {
  let content = 0;
  for (const line of sample) {
    if (line.trim() === '') continue;
    if (looksLikeRequestRecord(line)) return null;
    content++;
  }
  if (content === 0) return null;
  const own = detection.ranking.find((candidate) =>
    candidate.format.kind === 'proxy' && candidate.records === 0 && candidate.issues === 0 && candidate.recognised === content);
  return own?.format ?? null;
}

/**
 * A JSON line that carries an HTTP status and a method, URI or request: an access record of some
 * server's, whatever its layout. Formats ignore other software's structured log lines broadly (every
 * `{"level":"…` line is a Go logger's to Traefik's and Tyk's readers), and Caddy's access records
 * are such lines (`{"level":"info",…,"msg":"handled request","request":{…},"status":200}`): read
 * as a server's own lines, a Caddy access log was said to hold no request, and passed over in a
 * directory (parsers/caddy.ts reads it now; a Go service's own access log through zap is the same
 * shape). No such line counts as one a server writes besides its requests.
 */
export function looksLikeRequestRecord(line: string): boolean {
  const start = line.length - line.trimStart().length;
  return line.charCodeAt(start) === 123 /* { */ && STATUS_KEY.test(line) && REQUEST_KEY.test(line);
}

const STATUS_KEY = /"(?:status|status_code|statusCode|response_code|http_status|DownstreamStatus)" ?: ?"?[1-5]\d\d\b/;
const REQUEST_KEY = /"(?:method|uri|url|path|request|request_uri|RequestMethod|RequestPath)" ?:/;

/** Lines a file is first detected on; more only when that finds nothing (see detectFirstLines). */
export const DETECTION_LINES = 64;

/**
 * Detection as every command does it, on a file's first lines (a batch of them): first the first
 * DETECTION_LINES; when no format fits those and there are more, the whole batch, since a
 * pretty-printed JSON document may not close its first event within the sample (a Datadog trace
 * whose spans carry stack traces runs past a hundred lines). `alf detect` and the parsers of
 * `analyze` and `scan` share it, so they never disagree about a file.
 */
export function detectFirstLines(formats: readonly FormatDef[], file: string, lines: readonly string[], preferred: FormatDef | null = null): Detection {
  const ordered = preferred === null ? formats : preferredFirst(formats, preferred);
  const detection = detectFormat(ordered, file, lines.slice(0, DETECTION_LINES));
  return detection.best || lines.length <= DETECTION_LINES ? detection : detectFormat(ordered, file, lines);
}

/**
 * The candidates with `preferred` (the format another file of the same run was read in) tried
 * first. Detection stops at the first format that reads every sample line, so a rotated file of a
 * log already detected costs one format's try instead of every format's before it in the registry
 * (nginx `combined` is 27th): 3.6 -> 0.1 ms a file once warm, 8 ms a file cold (`node --cpu-prof`,
 * `alf analyze` of the bench's 24 rotated files, 192 ms of detection). A file the preferred format
 * does not read wholly is detected as before. Where two formats read every line alike (nginx and
 * Apache `combined` write the same layout), the file is read as its run's other files were, which
 * is the likelier author. The format named with --log-format still comes first: it wins any file
 * it fits (detectFormat), so it must be tried before a preferred one could end the search.
 */
function preferredFirst(formats: readonly FormatDef[], preferred: FormatDef): readonly FormatDef[] {
  if (!formats.includes(preferred)) return formats;
  if (formats.some((format) => format.named === true && format !== preferred)) return formats;
  return [preferred, ...formats.filter((format) => format !== preferred)];
}

/**
 * Why the closest format does not fit, after its name and score: the first line it failed on, or,
 * when it recognised the lines as its own but none holds a record, that.
 */
export function closestFailure(closest: FormatScore): string {
  if (closest.firstIssue) {
    const issue = closest.firstIssue;
    return `, failing at line ${issue.line}${issue.field ? ` field ${issue.field}` : ''}: ${issue.message}`;
  }
  if (closest.recognised === 0) return '';
  // An APM export's lines that hold no transaction are spans of another kind (internal, client,
  // database), not a proxy's notices: an OTLP file of internal spans only said "notices, TCP sessions".
  if (closest.format.kind === 'apm') {
    return `: the sample's ${closest.recognised === 1 ? 'one line holds' : `${closest.recognised} lines hold`} no transaction (no server or entry span: only internal, client or database spans, or none)`;
  }
  return closest.recognised === 1
    ? ': the sample\'s one line is one of its lines that hold no HTTP request (a notice, or a TCP session, which alf does not analyse)'
    : `: the sample's ${closest.recognised} lines are its lines that hold no HTTP request (notices, or TCP sessions, which alf does not analyse)`;
}

/**
 * The format to name as closest to a file no format fits, or null when none is worth naming: one
 * that read some of its lines, recognised them as its own, or failed on a value of a line that had
 * its shape. A format that stopped at its first check names nothing the file resembles: every
 * unknown text line was "closest to tyk-access-log (0%)" or to HAProxy, a real nginx log with its
 * own log_format to API Gateway's CLF.
 */
function closestFormat(detection: Detection): FormatScore | null {
  const closest = detection.ranking[0];
  if (closest === undefined) return null;
  return closest.score > 0 || closest.recognised > 0 || closest.declined > 0 || progress(closest.firstIssue) >= 2 ? closest : null;
}

/** What `closestFormat` names, or that no format reads the file's lines, for `no known format fits…`. */
export function closestText(detection: Detection, lines: readonly string[], verb: 'is' | 'was'): string {
  const closest = closestFormat(detection);
  // The format the user gave says why it failed, wherever it ranks: "no format reads any line"
  // alone, after a --log-format, left them to guess which part of it did not fit.
  const named = detection.ranking.find((score) => score.format.named === true);
  const namedText = named === undefined || named === closest ? ''
    : `; the format given with --log-format reads ${Math.round(named.score * 100)}% of ${verb === 'is' ? 'it' : 'the sample'}${closestFailure(named)}`;
  // Lines that carry a status and a request are no server's notices, whatever a format ignores.
  const requestLike = lines.some(looksLikeRequestRecord);
  const requestHint = requestLike ? '; its lines carry an HTTP status and a request, as access records do, in a layout no format of alf\'s reads' : '';
  if (closest !== null) {
    const score = verb === 'is' ? `${Math.round(closest.score * 100)}%` : `${Math.round(closest.score * 100)}% of sample lines`;
    const failure = requestLike && closest.firstIssue === null ? '' : closestFailure(closest);
    return `; closest ${verb} ${closest.format.id} (${score})${failure}${namedText}${requestHint}`;
  }
  return `; no format reads any line of its sample${namedText}${requestHint}${named === undefined ? clfShapeHint(lines) : ''}`;
}

/** A first line with a CLF time (`[15/Jan/2025:10:32:01 +0000]`) was most likely written by nginx or httpd in a format of its operator's. */
function clfShapeHint(lines: readonly string[]): string {
  const first = lines.find((line) => line.trim().length > 0);
  return first !== undefined && /\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2}/.test(first.slice(0, 512))
    ? ' (its lines carry a CLF time: if nginx or Apache httpd wrote them in a format of their own, give that log_format or LogFormat with --log-format)'
    : '';
}

/**
 * What a file no format fits holds, when its first line is JSON: its top-level keys (or that it is
 * an array), so a document of an unknown shape (`{"batches":…}`, a vendor's API answer) says what
 * it is rather than only naming the closest format, which may have read none of it. Empty otherwise.
 */
export function jsonShapeHint(lines: readonly string[], detection: Detection): string {
  const first = lines.find((line) => line.trim().length > 0);
  if (first === undefined || !/^\s*[[{]/.test(first)) return '';
  let value: unknown;
  try {
    value = JSON.parse(first);
  } catch {
    // Kinesis Data Firehose writes records to S3 back to back unless told to add a delimiter
    // (an API Gateway access log delivered through it is one line of `{…}{…}`).
    return /^\s*\{/.test(first) && first.includes('}{') ? '; its first line holds JSON objects written back to back ("}{"), as Firehose delivers records without a delimiter: put each on a line of its own' : '';
  }
  if (Array.isArray(value)) return '; its first line is a JSON array';
  if (typeof value !== 'object' || value === null) return '';
  const keys = Object.keys(value);
  const shown = keys.slice(0, 6).map((key) => JSON.stringify(key.slice(0, 40))).join(', ');
  // nginx writes JSON only through its operator's `log_format … escape=json`, with keys of their
  // choosing and flat values: a flat object of a few keys may be one.
  const flat = keys.length >= 3 && Object.values(value).every((v) => v === null || typeof v !== 'object');
  return `; its first line is a JSON object with ${keys.length === 0 ? 'no keys' : `key${keys.length === 1 ? '' : 's'} ${shown}${keys.length > 6 ? ` and ${keys.length - 6} more` : ''}`}` +
    (flat && !detection.ranking.some((score) => score.format.named === true) ? ' (if nginx wrote it, name its JSON log_format with --log-format)' : '');
}

/**
 * How far a failing format got: a value it could not read (2) means the line had its shape; a
 * miss at a named field (1) means it matched up to there; anything else (0) that it never fit.
 */
function progress(issue: ParseIssue | null): number {
  if (issue === null) return 0;
  if (issue.field === LOG_FORMAT_FIELD) return 3;
  if (issue.code === 'PARSE_BAD_FIELD' || issue.code === 'PARSE_BAD_TIMESTAMP') return 2;
  return issue.code === 'PARSE_NO_MATCH' && issue.field !== null && issue.field !== 'line' ? 1 : 0;
}
