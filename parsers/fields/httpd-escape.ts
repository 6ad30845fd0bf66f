/**
 * Apache httpd's log escaping (ap_escape_logitem in server/util.c): in a logged value, `"` and `\`
 * are written `\"` and `\\`, the control characters `\b \n \r \t \v` by their letter, and any other
 * byte outside printable ASCII (UTF-8 included) as `\xhh`. Decoding turns quotes, backslashes and
 * `\xhh` runs back into what was sent (a run of UTF-8 bytes into its characters); the named control
 * characters stay as logged. One pass, no regex.
 */
export function unescapeHttpd(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  let bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === 92 /* \ */ && value.charCodeAt(i + 1) === 120 /* x */ && isHex(value.charCodeAt(i + 2)) && isHex(value.charCodeAt(i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 2, i + 4), 16));
      i += 3;
      continue;
    }
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
    const next = value.charCodeAt(i + 1);
    if (ch === 92 && (next === 34 /* " */ || next === 92)) {
      out += value[i + 1];
      i++;
    } else {
      out += value[i];
    }
  }
  if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
  return out;
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}
