/**
 * JSON.parse that keeps integers too big for a double. Datadog writes `start`, `trace_id` and
 * `span_id` as bare numbers up to 2^64, and OTLP exporters may write `*UnixNano` as numbers;
 * JSON.parse would round them silently (formats.md §0). Integer literals of 16 or more digits
 * outside strings are quoted before parsing, so they arrive as decimal strings. Node 20 lacks the
 * reviver `context.source` that would make this unnecessary.
 */

// A whole string literal (skipped as a unit, so digits inside strings are never touched), or a
// bare integer of 16+ digits that is not part of a fraction or an exponent. The string branch is
// written as an unrolled loop, which runs faster than one alternation per character. An
// unterminated string runs to the end of the line (`\\?(?:"|$)`): the match can then never fail
// after its loop, so there is nothing to backtrack into. Requiring the closing quote made every
// quote of `"\"\"\"…` rescan the rest of the line: quadratic, 1.3 s for 32 KB (a ReDoS).
const STRING_OR_BIG_INTEGER = /"[^"\\]*(?:\\[\s\S][^"\\]*)*\\?(?:"|$)|(?<![\w.+-])(-?\d{16,})(?![\w.])/g;
const LONG_DIGIT_RUN = /\d{16}/;

export function parseJsonKeepingBigIntegers(text: string): unknown {
  if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
  return JSON.parse(text.replace(STRING_OR_BIG_INTEGER, (match, big: string | undefined) => (big ? `"${big}"` : match)));
}
