/**
 * A log format made of text and values (HAProxy's `log-format`, Envoy's format strings), compiled
 * for reading lines: each value ends where the text after it in the format begins; a quoted value
 * ends at its closing quote. Text that may hold its own delimiter (a request line, a header, a user
 * agent) is cut from the right when it is the last such value: the values after it are cut from
 * the end of the line back. Only `indexOf`/`lastIndexOf`: no regular expression, no backtracking.
 * The format's own parser (parsers/haproxy-log-format.ts, parsers/envoy-log-format.ts) says which
 * values are text, and where a value's delimiter may first be looked for.
 */

/** A piece of a format: text written as is, or a value (`quoted`: written between `"`). */
export type FormatPart =
  | { kind: 'text'; text: string }
  | { kind: 'value'; name: string; quoted: boolean };

export interface DelimitedField {
  name: string;
  quoted: boolean;
  /** The format's text right after this value ('' for the last). */
  after: string;
}

/** A format compiled for reading: the text before the first value, the values, and the text after the last. */
export interface DelimitedFormat {
  /** The format as given, for messages. */
  readonly source: string;
  readonly prefix: string;
  readonly fields: readonly DelimitedField[];
  readonly suffix: string;
  /** The value cut from the right end back to it (text that may hold its delimiter), or -1. */
  readonly elastic: number;
  readonly names: ReadonlySet<string>;
  /** Where to start looking for a left-cut value's delimiter (past what the value itself may hold). */
  readonly searchFrom: (name: string, line: string, position: number) => number;
}

export interface DelimitedOptions {
  /** A value that may hold spaces or its delimiter. */
  isFreeText(name: string): boolean;
  /** How a value is written in the format's own syntax, for messages (`%ci`, `%REQ(:PATH)%`). */
  show(name: string): string;
  searchFrom?: (name: string, line: string, position: number) => number;
}

export class DelimitedFormatError extends Error {}

/**
 * The index of the `close` that matches the `open` at `openAt` (nested pairs counted), or -1: a
 * format's argument may hold pairs of its own (`%[var(txn.a),map(/x)]`, `%START_TIME(%s)%`).
 */
export function matchingClose(text: string, openAt: number, open: string, close: string): number {
  let depth = 0;
  for (let at = openAt; at < text.length; at++) {
    if (text[at] === open) depth++;
    else if (text[at] === close && --depth === 0) return at;
  }
  return -1;
}

/** Merges adjacent text parts. */
export function pushText(parts: FormatPart[], text: string): void {
  const last = parts[parts.length - 1];
  if (last?.kind === 'text') last.text += text;
  else parts.push({ kind: 'text', text });
}

export function compileDelimitedFormat(source: string, parts: readonly FormatPart[], options: DelimitedOptions): DelimitedFormat {
  let prefix = '';
  let start = 0;
  if (parts[0]?.kind === 'text') {
    prefix = parts[0].text;
    start = 1;
  }
  const fields: DelimitedField[] = [];
  for (let i = start; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.kind !== 'value') continue;
    const next = parts[i + 1];
    fields.push({ name: part.name, quoted: part.quoted, after: next?.kind === 'text' ? next.text : '' });
  }
  if (fields.length === 0) throw new DelimitedFormatError('the format has no value');
  for (let i = 0; i < fields.length - 1; i++) {
    if (fields[i]!.after === '' && !fields[i]!.quoted) {
      throw new DelimitedFormatError(`${options.show(fields[i]!.name)} and ${options.show(fields[i + 1]!.name)} have no text between them: alf cannot tell where one ends`);
    }
  }
  const last = fields[fields.length - 1]!;
  const suffix = last.after;
  last.after = '';
  let elastic = -1;
  for (let i = fields.length - 1; i >= 0; i--) {
    if (options.isFreeText(fields[i]!.name) && !fields[i]!.quoted) {
      elastic = i;
      break;
    }
  }
  return {
    source, prefix, fields, suffix, elastic, names: new Set(fields.map((field) => field.name)),
    searchFrom: options.searchFrom ?? ((_name, _line, position) => position),
  };
}

/** Values by name from one line (or the part of it the format covers); a string naming the misfit when it does not fit. */
export function splitDelimitedLine(format: DelimitedFormat, body: string, show: (name: string) => string = (name) => name): Map<string, string> | string {
  const { prefix, fields, suffix, elastic } = format;
  const values = new Map<string, string>();
  if (!body.startsWith(prefix)) return `the line does not start with the format's "${prefix}"`;
  let position = prefix.length;
  const leftEnd = elastic < 0 ? fields.length : elastic;
  for (let i = 0; i < leftEnd; i++) {
    const field = fields[i]!;
    const isLast = i === fields.length - 1;
    if (field.quoted && body.charCodeAt(position) === 34 /* " */) {
      const close = body.indexOf('"', position + 1);
      if (close < 0) return `${show(field.name)}: no closing quote`;
      values.set(field.name, body.slice(position + 1, close));
      const end = close + 1;
      if (isLast) return body.length - end === suffix.length && body.endsWith(suffix) ? values : `text after ${show(field.name)} where the format ends`;
      if (!body.startsWith(field.after, end)) return `${show(field.name)}: "${field.after}" does not follow it`;
      position = end + field.after.length;
      continue;
    }
    if (isLast) {
      if (!body.endsWith(suffix) || body.length - suffix.length < position) return `the line does not end with the format's "${suffix}"`;
      values.set(field.name, body.slice(position, body.length - suffix.length));
      return values;
    }
    const end = body.indexOf(field.after, format.searchFrom(field.name, body, position));
    if (end < 0) return `${show(field.name)}: "${field.after}" does not follow it`;
    values.set(field.name, body.slice(position, end));
    position = end + field.after.length;
  }
  if (elastic < 0) return values;
  // From the end back to the elastic value.
  if (!body.endsWith(suffix) || body.length - suffix.length < position) return `the line does not end with the format's "${suffix}"`;
  let end = body.length - suffix.length;
  for (let i = fields.length - 1; i > elastic; i--) {
    const field = fields[i]!;
    const delimiter = fields[i - 1]!.after;
    if (field.quoted && body.charCodeAt(end - 1) === 34) {
      const open = body.lastIndexOf('"', end - 2);
      if (open < position) return `${show(field.name)}: no opening quote`;
      values.set(field.name, body.slice(open + 1, end - 1));
      if (!body.startsWith(delimiter, open - delimiter.length)) return `${show(field.name)}: "${delimiter}" does not come before it`;
      end = open - delimiter.length;
      continue;
    }
    const start = body.lastIndexOf(delimiter, end - delimiter.length);
    if (start < position) return `${show(field.name)}: "${delimiter}" does not come before it`;
    values.set(field.name, body.slice(start + delimiter.length, end));
    end = start;
  }
  if (end < position) return `${show(fields[elastic]!.name)}: the values around it overlap`;
  values.set(fields[elastic]!.name, body.slice(position, end));
  return values;
}
