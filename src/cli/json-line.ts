/**
 * One line of JSON. JSON.stringify escapes C0 controls and the newline, but not C1 controls,
 * U+2028/2029 or bidi overrides, which a file name or key may hold: those are escaped too, so
 * the line shows the same on a terminal as in a log shipper.
 */
export function jsonLine(value: unknown): string {
  // eslint-disable-next-line no-control-regex
  return `${JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
