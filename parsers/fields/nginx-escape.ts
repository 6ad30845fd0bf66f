/**
 * nginx's default log escaping writes `"`, `\` and bytes below 0x20 or above 0x7e as `\xHH`
 * (ngx_http_log_escape in ngx_http_log_module.c). Decoding turns `\x22` back into `"`, and a run
 * of escaped UTF-8 bytes back into its characters. Anything else stays as logged.
 * The pattern repeats a fixed four-character unit: it cannot backtrack.
 */
const ESCAPED_RUN = /(?:\\x[0-9A-Fa-f]{2})+/g;

export function unescapeNginxDefault(value: string): string {
  if (!value.includes('\\x')) return value;
  return value.replace(ESCAPED_RUN, (run) => {
    const bytes = Buffer.alloc(run.length / 4);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(run.slice(i * 4 + 2, i * 4 + 4), 16);
    return bytes.toString('utf8');
  });
}
