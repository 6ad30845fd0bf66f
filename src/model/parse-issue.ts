/** A line that did not become a record. Bad lines are data, not exceptions. */
export interface ParseIssue {
  readonly code: ParseIssueCode;
  readonly file: string;
  readonly line: number;
  /** Field that failed, when known. */
  readonly field: string | null;
  readonly message: string;
  /** A short, raw excerpt of the offending line (escaped at render time, never here). */
  readonly sample: string;
}

export const ParseIssueCode = {
  PARSE_NO_MATCH: 'PARSE_NO_MATCH',
  PARSE_BAD_FIELD: 'PARSE_BAD_FIELD',
  PARSE_BAD_TIMESTAMP: 'PARSE_BAD_TIMESTAMP',
  PARSE_LINE_TOO_LONG: 'PARSE_LINE_TOO_LONG',
  PARSE_BAD_JSON: 'PARSE_BAD_JSON',
  /** File-level: values that look like another unit than the format says (a warning, not a skipped line). */
  PARSE_SUSPECT_UNITS: 'PARSE_SUSPECT_UNITS',
  /** File-level: lines carry text after the last field the format knows (kept out of the known fields). */
  PARSE_EXTRA_FIELDS: 'PARSE_EXTRA_FIELDS',
  /** File-level: HAProxy header captures read by an assumed layout, or not read because they do not fit it. */
  PARSE_SUSPECT_CAPTURES: 'PARSE_SUSPECT_CAPTURES',
  /** File-level: lines the software cut at its own length limit (HAProxy's `log … len`), read as far as they go. */
  PARSE_TRUNCATED: 'PARSE_TRUNCATED',
  /** File-level: stamps written without a year (Tyk's text log), read as the latest year not in the future. */
  PARSE_TIME_GUESSED: 'PARSE_TIME_GUESSED',
  /** File-level: lines escaped as another program escapes them (httpd's `\"` in an nginx-read log), read with that escaping. */
  PARSE_OTHER_ESCAPING: 'PARSE_OTHER_ESCAPING',
  /** File-level: a file of a directory or bucket that holds only lines its server writes besides its requests (an error log): passed over. */
  PARSE_NO_REQUESTS: 'PARSE_NO_REQUESTS',
} as const;
export type ParseIssueCode = keyof typeof ParseIssueCode;

const SAMPLE_CHARS = 160;

export function excerpt(line: string): string {
  return line.length > SAMPLE_CHARS ? `${line.slice(0, SAMPLE_CHARS)}…` : line;
}
