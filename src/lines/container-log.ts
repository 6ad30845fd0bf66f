/**
 * Logs read from a Kubernetes node or a Docker host come wrapped: the container runtime writes
 * each line the application printed with its own prefix, and splits long ones.
 *
 *   CRI (containerd, CRI-O; `/var/log/pods/…/0.log`, `/var/log/containers/*.log`):
 *     `2024-11-30T12:57:27.503711475Z stdout F <line>`: an RFC 3339 time, the stream, tags
 *     (`F` a full line or the last part, `P` a part to be continued; `:`-separated), then the
 *     line. Runtimes before tags wrote `<time> <stream> <line>`.
 *   Docker json-file (`/var/lib/docker/containers/*\/*-json.log`):
 *     `{"log":"<line>\n","stream":"stdout","time":"2017-11-09T13:27:36.277747246Z"}`, a long
 *     line split over several objects, all but the last without the trailing `\n`.
 *
 * Sources: the Kubernetes CRI container log format (kubernetes/design-proposals-archive,
 * node/kubelet-cri-logging.md, and the tag list of cri-api's runtime/v1 LogTag) and Docker's
 * json-file logging driver documentation; Elastic Beats' reader for both
 * (libbeat/reader/readjson/docker_json.go and its test, Apache-2.0) for the tagless CRI form and
 * how parts join. The parsers see the application's own line; evidence keeps the file's line
 * numbers (a line joined from parts is cited at its first part).
 */

import { CONTAINER_WRAPPER_NAMES, type ContainerWrapper } from '../model/file-stats.js';

export type { ContainerWrapper };

export interface UnwrappedLine {
  text: string;
  /** Line number in the file (of the first part, for a joined line). */
  line: number;
  /** Written to stderr: an application's own diagnostics there (nginx's error log) are not access-log lines. */
  stderr: boolean;
}

interface WrappedLine {
  text: string;
  stderr: boolean;
  /** A part to be continued by the next line of the same stream. */
  partial: boolean;
  /** Docker json-file without a tag: the line ended with `\n` (so the file keeps them, and a line without one is a part). */
  newline?: boolean;
}

/** The first lines looked at to decide whether a file is wrapped. */
const DETECT_LINES = 50;
/** Share of those (not blank) that must be wrapped lines of one kind. */
const DETECT_SHARE = 0.8;

/** Which wrapper, if any, the first lines of a file are in. */
export function detectContainerWrapper(lines: readonly string[]): ContainerWrapper | null {
  const looked = linesLookedAt(lines);
  let cri = 0;
  let docker = 0;
  for (const line of looked) {
    if (parseCriLine(line) !== null) cri++;
    else if (parseDockerLine(line) !== null) docker++;
  }
  if (looked.length === 0) return null;
  if (cri >= looked.length * DETECT_SHARE) return 'cri';
  if (docker >= looked.length * DETECT_SHARE) return 'docker-json';
  return null;
}

/** The first DETECT_LINES lines that are not blank. */
function linesLookedAt(lines: readonly string[]): string[] {
  const looked: string[] = [];
  for (const line of lines) {
    if (looked.length === DETECT_LINES) break;
    if (line.length > 0) looked.push(line);
  }
  return looked;
}

/**
 * A file's first lines as format detection should see them (`alf detect`): inside their wrapper,
 * if they have one. (parseSource keeps its reader for the batches after the first.)
 */
export function sampleInsideWrapper(lines: readonly string[], maxChars: number, given?: ContainerWrapper): { wrapper: ContainerWrapper | null; lines: readonly string[] } {
  const wrapper = given ?? detectContainerWrapper(lines);
  if (wrapper === null) return { wrapper, lines };
  const unwrapped: UnwrappedLine[] = [];
  const ignore = (): void => undefined;
  new ContainerLogReader(wrapper, maxChars).unwrap(lines, 1, null, unwrapped, { held: ignore, bad: ignore, tooLong: ignore });
  return { wrapper, lines: unwrapped.map((u) => u.text) };
}

/**
 * A CRI line: `<time> <stream> [<tags>] <line>`, or null. Scanned by position, no regular
 * expression: the time is one token with `-` and `T` where RFC 3339 has them.
 */
export function parseCriLine(line: string): WrappedLine | null {
  const timeEnd = line.indexOf(' ');
  // "2006-01-02T15:04:05Z" is 20 characters; with nanoseconds and an offset, 35.
  if (timeEnd < 20 || timeEnd > 40 || line.charCodeAt(4) !== 45 /* - */ || line.charCodeAt(10) !== 84 /* T */ || !isDigit(line.charCodeAt(0))) return null;
  const streamEnd = line.indexOf(' ', timeEnd + 1);
  if (streamEnd < 0) return null;
  const stream = line.slice(timeEnd + 1, streamEnd);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tagsEnd = line.indexOf(' ', streamEnd + 1);
  const tags = tagsEnd < 0 ? line.slice(streamEnd + 1) : line.slice(streamEnd + 1, tagsEnd);
  if (!isTagList(tags)) return { text: line.slice(streamEnd + 1), stderr: stream === 'stderr', partial: false };
  return { text: tagsEnd < 0 ? '' : line.slice(tagsEnd + 1), stderr: stream === 'stderr', partial: tags.split(':').includes('P') };
}

/** `F`, `P`, or such letters joined by `:` (the runtime's tag list). */
function isTagList(text: string): boolean {
  if (text.length === 0 || text.length > 16) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const letter = code >= 65 && code <= 90;
    if (i % 2 === 0 ? !letter : code !== 58 /* : */) return false;
  }
  return text.length % 2 === 1;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * A line of `docker logs --timestamps` (or `kubectl logs --timestamps`): an RFC 3339 UTC time with
 * a fraction (Docker writes nine digits, Kubernetes trims trailing zeros), a space, then the line
 * the application wrote, from stdout or stderr alike (the stream is not said). Or null.
 * Some formats start with such a time of their own (a Classic Load Balancer's entries), so this
 * wrapper is never assumed: it is tried only when no format fits a file's lines as they are
 * (parse-source.ts, unwrapIfItFits).
 */
export function parseTimestampedLine(line: string): WrappedLine | null {
  const timeEnd = line.indexOf(' ');
  // 2020-09-13T11:13:47.4Z (22 characters) to 2020-09-13T11:13:47.401738723Z (30).
  if (timeEnd < 22 || timeEnd > 30 || line.charCodeAt(timeEnd - 1) !== 90 /* Z */ || line.charCodeAt(19) !== 46 /* . */) return null;
  for (let i = 0; i < timeEnd - 1; i++) {
    const code = line.charCodeAt(i);
    const expected = i === 4 || i === 7 ? 45 /* - */ : i === 10 ? 84 /* T */ : i === 13 || i === 16 ? 58 /* : */ : i === 19 ? 46 : -1;
    if (expected === -1 ? !isDigit(code) : code !== expected) return null;
  }
  return { text: line.slice(timeEnd + 1), stderr: false, partial: false };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_TAG = 64;

/**
 * A line as a syslog daemon writes it to a file, or `journalctl` prints it: a time, the host, the
 * tag (the program, with its pid in brackets or not), `: `, then the line the program logged. Or null.
 *   RFC 3164, rsyslog's and syslog-ng's file format, `journalctl`'s default (`-o short`):
 *     `Nov 20 00:12:09 web1 caddy[772]: {…}`, `Jan  5 10:32:01 web1 nginx: 203.0.113.24 - - […`
 *   `journalctl -o short-iso` (and `short-iso-precise`): `2024-01-15T10:32:00+0000 web1 caddy[772]: …`
 * nginx writes its access log there with `access_log syslog:server=…` (its tag `nginx` unless
 * `tag=` says otherwise), and a service under systemd writes to the journal. Like the time
 * prefix, it is tried only when no format fits the lines as they are: HAProxy's format starts
 * with such a header of its own. (RFC 3164 section 4.1.2, HEADER; journalctl(1), OUTPUT OPTIONS.)
 */
export function parseSyslogLine(line: string): WrappedLine | null {
  let at: number;
  if (MONTHS.includes(line.slice(0, 3)) && line.charCodeAt(3) === 32) {
    // `Mmm dd hh:mm:ss `: the day padded with a space or a zero.
    const day = line.charCodeAt(4);
    if (!(day === 32 || isDigit(day)) || !isDigit(line.charCodeAt(5)) || line.charCodeAt(6) !== 32) return null;
    if (!isClock(line, 7)) return null;
    at = 15;
  } else if (isDigit(line.charCodeAt(0)) && line.charCodeAt(4) === 45 /* - */ && line.charCodeAt(10) === 84 /* T */ && isClock(line, 11)) {
    // `yyyy-mm-ddThh:mm:ss`, then a fraction and a zone, up to the space.
    at = line.indexOf(' ', 19);
    if (at < 0 || at > 40) return null;
  } else {
    return null;
  }
  if (line.charCodeAt(at) !== 32) return null;
  const hostEnd = line.indexOf(' ', at + 1);
  if (hostEnd <= at + 1) return null;
  const colon = line.indexOf(': ', hostEnd + 1);
  if (colon <= hostEnd + 1 || colon - hostEnd - 1 > MAX_TAG) return null;
  for (let i = hostEnd + 1; i < colon; i++) {
    const code = line.charCodeAt(i);
    if (code === 32 || code === 58 /* : */) return null;
  }
  return { text: line.slice(colon + 2), stderr: false, partial: false };
}

/** `hh:mm:ss` at `at`. */
function isClock(line: string, at: number): boolean {
  return isDigit(line.charCodeAt(at)) && isDigit(line.charCodeAt(at + 1)) && line.charCodeAt(at + 2) === 58 &&
    isDigit(line.charCodeAt(at + 3)) && isDigit(line.charCodeAt(at + 4)) && line.charCodeAt(at + 5) === 58 &&
    isDigit(line.charCodeAt(at + 6)) && isDigit(line.charCodeAt(at + 7));
}

/** Wrappers never assumed: tried only when no format fits a file's lines as they are, in this order (parse-source.ts, unwrapIfItFits). */
export const FALLBACK_WRAPPERS = ['timestamps', 'syslog'] as const;
export type FallbackWrapper = (typeof FALLBACK_WRAPPERS)[number];

/** Do (DETECT_SHARE of) the first lines look like lines of this fallback wrapper? */
export function looksWrapped(lines: readonly string[], wrapper: FallbackWrapper): boolean {
  const parse = wrapper === 'timestamps' ? parseTimestampedLine : parseSyslogLine;
  const looked = linesLookedAt(lines);
  const wrapped = looked.filter((line) => parse(line) !== null).length;
  return looked.length > 0 && wrapped >= looked.length * DETECT_SHARE;
}

/** A Docker json-file line, or null. */
export function parseDockerLine(line: string): WrappedLine | null {
  if (line.charCodeAt(0) !== 123 /* { */) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const { log, stream, time, logtag } = value as { log?: unknown; stream?: unknown; time?: unknown; logtag?: unknown };
  if (typeof log !== 'string' || typeof time !== 'string' || (stream !== 'stdout' && stream !== 'stderr')) return null;
  const newline = log.endsWith('\n');
  const text = !newline ? log : log.endsWith('\r\n') ? log.slice(0, -2) : log.slice(0, -1);
  // A shipper's copy of CRI lines (Fluent Bit's cri parser: `logtag`, no newline kept) says itself which are parts.
  if (typeof logtag === 'string') return { text, stderr: stream === 'stderr', partial: isTagList(logtag) && logtag.split(':').includes('P') };
  return { text, stderr: stream === 'stderr', partial: !newline, newline };
}

/**
 * Unwraps a file's lines, joining parts. Parts of stdout and stderr may interleave, so each
 * stream holds its own; a joined line is cut off at `maxChars` (it is then reported, not parsed).
 */
export class ContainerLogReader {
  private readonly parse: (line: string) => WrappedLine | null;
  private readonly pending: [out: Pending | null, err: Pending | null] = [null, null];
  /**
   * Whether this file's untagged JSON lines keep their `\n`, as Docker's json-file driver writes
   * them, learned from the first batch: if none does, a line without it is whole, not a part (a
   * shipper that stripped every newline would otherwise have the whole file joined into one line).
   */
  private newlinesKept = false;
  private primed = false;

  constructor(readonly wrapper: ContainerWrapper, private readonly maxChars: number) {
    this.parse = wrapper === 'cri' ? parseCriLine : wrapper === 'docker-json' ? parseDockerLine : wrapper === 'syslog' ? parseSyslogLine : parseTimestampedLine;
  }

  /**
   * The lines of a batch (the first numbered `firstLine`), unwrapped, into `out`; lines in `cut`
   * (over the ingest cap: only a sample of their text) go to `events.tooLong` unread.
   */
  unwrap(lines: readonly string[], firstLine: number, cut: ReadonlySet<number> | null, out: UnwrappedLine[], events: UnwrapEvents): void {
    if (!this.primed) {
      this.primed = true;
      if (this.wrapper === 'docker-json') this.newlinesKept = lines.some((line) => parseDockerLine(line)?.newline === true);
    }
    for (let i = 0; i < lines.length; i++) {
      const number = firstLine + i;
      const raw = lines[i]!;
      if (cut !== null && cut.has(number)) {
        events.tooLong(number, raw);
        continue;
      }
      if (raw.length === 0) {
        events.held();
        continue;
      }
      const wrapped = this.parse(raw);
      if (wrapped === null) {
        events.bad(number, raw, `not a ${CONTAINER_WRAPPER_NAMES[this.wrapper]} line`);
        continue;
      }
      if (wrapped.newline === false && !this.newlinesKept) wrapped.partial = false;
      const slot = wrapped.stderr ? 1 : 0;
      const pending = this.pending[slot];
      if (pending === null && !wrapped.partial) {
        out.push({ text: wrapped.text, line: number, stderr: wrapped.stderr });
        continue;
      }
      if (pending === null) {
        this.pending[slot] = { parts: [wrapped.text], chars: wrapped.text.length, line: number, over: false };
        continue;
      }
      events.held();
      pending.chars += wrapped.text.length;
      if (pending.chars > this.maxChars) pending.over = true;
      else pending.parts.push(wrapped.text);
      if (wrapped.partial) continue;
      this.pending[slot] = null;
      this.finish(pending, wrapped.stderr, out, events);
    }
  }

  /** At the end of the file: a part never continued is a line of its own. */
  end(out: UnwrappedLine[], events: UnwrapEvents): void {
    for (const slot of [0, 1] as const) {
      const pending = this.pending[slot];
      this.pending[slot] = null;
      if (pending !== null) this.finish(pending, slot === 1, out, events);
    }
  }

  private finish(pending: Pending, stderr: boolean, out: UnwrappedLine[], events: UnwrapEvents): void {
    const text = pending.parts.join('');
    if (pending.over) events.bad(pending.line, text, `a line joined from container log parts is longer than ${this.maxChars} characters: not parsed`);
    else out.push({ text, line: pending.line, stderr });
  }
}

export interface UnwrapEvents {
  /** A part kept for joining, or a blank line: a continuation, not a record by itself. */
  held(): void;
  /** A line not in the wrapper, or parts joined past the cap. */
  bad(line: number, text: string, why: string): void;
  /** A line over the ingest cap, not read. */
  tooLong(line: number, sample: string): void;
}

interface Pending {
  parts: string[];
  chars: number;
  line: number;
  /** Past the cap: the rest is counted, not kept. */
  over: boolean;
}
