/**
 * Reads an nginx `log_format` as written in nginx.conf into segments (literal text and variables).
 * Accepts either the bare format string (`$remote_addr - [$time_local] ...`) or a whole directive
 * (`log_format name [escape=json] '...' '...';`), as pasted from a config file.
 * Source: ngx_http_log_module.c (ngx_http_log_compile_format); docs/formats.md, nginx (Directives).
 */

/**
 * How values are escaped in the line. `httpd` is never written in a log_format: it is Apache's
 * (`\"`, `\\`, `\xhh`), given to an httpd LogFormat read through this compiler (apache-log-format.ts).
 */
export type Escape = 'default' | 'json' | 'none' | 'httpd';

export type Segment = { literal: string } | { variable: string };

export interface LogFormatSpec {
  name: string | null;
  escape: Escape;
  segments: Segment[];
  /** The format string after joining the directive's quoted parts. */
  text: string;
}

export class LogFormatError extends Error {
  override name = 'LogFormatError';
}

/** nginx variable names: letters, digits, underscore (ngx_http_log_compile_format). */
function isVariableChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
}

export function parseLogFormat(input: string): LogFormatSpec {
  const directive = readDirective(input);
  const segments = compileSegments(directive.text);
  if (!segments.some((segment) => 'variable' in segment)) {
    throw new LogFormatError('log_format has no $variables; is this really an nginx log_format?');
  }
  return { ...directive, segments };
}

function readDirective(input: string): { name: string | null; escape: Escape; text: string } {
  const trimmed = input.trim();
  if (!trimmed.startsWith('log_format')) return { name: null, escape: 'default', text: trimmed };
  // Tokens: log_format NAME [escape=...] 'part' "part" part ... ;
  const tokens = tokenizeDirective(trimmed.slice('log_format'.length));
  const name = tokens.shift()?.value ?? null;
  let escape: Escape = 'default';
  const first = tokens[0];
  if (first && !first.quoted && first.value.startsWith('escape=')) {
    const mode = first.value.slice('escape='.length);
    if (mode !== 'default' && mode !== 'json' && mode !== 'none') {
      throw new LogFormatError(`unknown escape mode "${mode}" (nginx knows default, json, none)`);
    }
    escape = mode;
    tokens.shift();
  }
  if (tokens.length === 0) throw new LogFormatError(`log_format ${name ?? ''} has no format string`);
  return { name, escape, text: tokens.map((token) => token.value).join('') };
}

interface Token {
  value: string;
  quoted: boolean;
}

function tokenizeDirective(body: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === ';') break;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === '#') {
      // Comment to end of line (nginx.conf syntax).
      const newline = body.indexOf('\n', i);
      i = newline < 0 ? body.length : newline + 1;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      let j = i + 1;
      for (; j < body.length && body[j] !== ch; j++) {
        // nginx.conf unescapes \" \' \\ \t \r \n inside quoted strings.
        if (body[j] === '\\' && j + 1 < body.length) {
          j++;
          const next = body[j]!;
          value += next === 't' ? '\t' : next === 'n' ? '\n' : next === 'r' ? '\r' : next;
        } else {
          value += body[j];
        }
      }
      if (j >= body.length) throw new LogFormatError(`unterminated ${ch} in log_format`);
      tokens.push({ value, quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < body.length && !' \t\n\r;'.includes(body[j]!)) j++;
    tokens.push({ value: body.slice(i, j), quoted: false });
    i = j;
  }
  return tokens;
}

function compileSegments(text: string): Segment[] {
  const segments: Segment[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '$') {
      literal += text[i];
      i++;
      continue;
    }
    let name: string;
    if (text[i + 1] === '{') {
      const close = text.indexOf('}', i + 2);
      if (close < 0) throw new LogFormatError(`unclosed "\${" at offset ${i}`);
      name = text.slice(i + 2, close);
      i = close + 1;
    } else {
      let j = i + 1;
      while (j < text.length && isVariableChar(text.charCodeAt(j))) j++;
      name = text.slice(i + 1, j);
      i = j;
    }
    if (name === '') throw new LogFormatError(`"$" without a variable name at offset ${i}`);
    if (literal) segments.push({ literal });
    literal = '';
    const previous = segments[segments.length - 1];
    if (previous && 'variable' in previous) {
      throw new LogFormatError(
        `$${previous.variable} and $${name} touch with no separator: the line cannot be split between them`,
      );
    }
    segments.push({ variable: name.toLowerCase() });
  }
  if (literal) segments.push({ literal });
  return segments;
}

/** Presets nginx and distributions ship. `combined` is built into nginx and cannot be redefined. */
export const NGINX_PRESETS = {
  combined:
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
  // Debian/RHEL nginx.conf `main`: combined plus X-Forwarded-For.
  main:
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"',
  // ingress-nginx's default `log-format-upstream` (upstreaminfo), from its configmap docs.
  upstreaminfo:
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id',
  // ingress-nginx's default before 0.2x (internal/ingress/controller/config/config.go at 9c6201b79a8b4):
  // the real client address twice, no alternative upstream; still the default of clusters set up then.
  upstreaminfo_legacy:
    '$the_real_ip - [$the_real_ip] - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id',
} as const;
