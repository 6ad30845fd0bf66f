import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * nginx.conf for the end-to-end runs: a private prefix, temp paths and logs under `dir`, in the
 * foreground. Every request is written to each of several access logs at once, one per log format
 * (nginx writes them in the same order, one line per request each). Locations may carry their own
 * directives (a `proxy_read_timeout 5s` on one API); the metrics API may run a `post_action`, as
 * in the founding case, to an internal location with nothing to serve (nginx answers it 404).
 */

/**
 * Log formats, as written in nginx.conf (alf reads each with --log-format). `alf_pipe` stamps
 * `$msec` and carries the request id the harness ties lines to requests with; the others stamp
 * whole seconds, in nginx's local time zone (the TZ nginx runs with), and carry no id.
 */
export const LOG_FORMATS = {
  alf_pipe:
    "log_format alf_pipe '$msec|$http_x_request_id|$remote_addr|$http_x_api_key|$request_method|$request_uri|$status|$request_time|'\n" +
    "                    '$upstream_connect_time|$upstream_header_time|$upstream_response_time|$upstream_status|$upstream_addr|'\n" +
    "                    '$request_length|$bytes_sent|$body_bytes_sent|$connection_requests|$http_user_agent';",
  /** nginx's predefined format: no directive of its own (redefining it is an error). */
  combined:
    "log_format combined '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"';",
  /** `combined` plus timings and the upstream's status, a common extension. */
  timed_local:
    "log_format timed_local '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\" '\n" +
    "                       '$request_time $upstream_response_time $upstream_status $host';",
  /** ISO 8601 stamps (whole seconds), timings, and the API key. */
  timed_iso:
    "log_format timed_iso '$time_iso8601 $remote_addr \"$request\" $status $request_time $upstream_response_time $upstream_status '\n" +
    "                     '\"$http_user_agent\" \"$http_x_api_key\"';",
} as const;

export type LogFormatName = keyof typeof LOG_FORMATS;

/** The pipe format's directive, as the founding tests and samples know it. */
export const PIPE_LOG_FORMAT = LOG_FORMATS.alf_pipe;

export interface NginxLocation {
  /** `location` argument, e.g. `/v1/reports/` or `= /healthz`. */
  readonly match: string;
  /** Extra directives inside it, each ending in `;`. */
  readonly directives?: readonly string[];
  /** `post_action /account;` here (the founding case's quirk). */
  readonly postAction?: boolean;
}

export interface NginxSetup {
  dir: string;
  port: number;
  backendPort: number;
  /** Access logs to write, by format; each goes to `access-<format>.log`. */
  logs: readonly LogFormatName[];
  /** Locations before the catch-all `/` (which proxies to the backend). */
  locations?: readonly NginxLocation[];
  /** The founding fix: nginx waits for the upstream when the client hangs up. */
  ignoreClientAbort: boolean;
  /** Directives in the server block, each ending in `;`. */
  serverDirectives?: readonly string[];
}

export interface NginxFiles {
  conf: string;
  /** Each access log's path, by format. */
  logs: Partial<Record<LogFormatName, string>>;
  errorLog: string;
}

export function writeNginxConfig(setup: NginxSetup): NginxFiles {
  const { dir } = setup;
  mkdirSync(join(dir, 'empty'), { recursive: true });
  const logs = Object.fromEntries(setup.logs.map((format) => [format, join(dir, `access-${format}.log`)]));
  const files: NginxFiles = { conf: join(dir, 'nginx.conf'), logs, errorLog: join(dir, 'error.log') };
  const temp = (name: string) => `${name}_temp_path ${join(dir, `${name}_temp`)};`;
  const formats = setup.logs.filter((format) => format !== 'combined').map((format) => LOG_FORMATS[format]);
  const accessLogs = setup.logs.map((format) => `access_log ${logs[format]} ${format};`);
  const locations = (setup.locations ?? []).map((location) => `
    location ${location.match} {
      proxy_pass http://app;
      ${[...(location.directives ?? []), ...(location.postAction ? ['post_action /account;'] : [])].join('\n      ')}
    }`);
  writeFileSync(files.conf, `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
error_log ${files.errorLog} info;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 2048; }
http {
  ${temp('client_body')}
  ${temp('proxy')}
  ${temp('fastcgi')}
  ${temp('uwsgi')}
  ${temp('scgi')}
  ${formats.join('\n  ')}
  upstream app { server 127.0.0.1:${setup.backendPort}; }
  server {
    listen 127.0.0.1:${setup.port};
    ${accessLogs.join('\n    ')}
    proxy_ignore_client_abort ${setup.ignoreClientAbort ? 'on' : 'off'};
    ${(setup.serverDirectives ?? []).join('\n    ')}
    ${locations.join('\n')}
    location = /account {
      internal;
      root ${join(dir, 'empty')};
    }
    location / {
      proxy_pass http://app;
    }
  }
}
`);
  return files;
}

/**
 * The head of a private nginx.conf for a test's own nginx, up to and inside `http {`: in the
 * foreground, its pid, error log and temp paths under `dir`, as root only when the tests run as root.
 */
export function nginxConfHead(dir: string, workerConnections = 64): string {
  const temp = (name: string) => `${name}_temp_path ${join(dir, name)};`;
  return `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
error_log ${join(dir, 'error.log')};
pid ${join(dir, 'nginx.pid')};
events { worker_connections ${workerConnections}; }
http {
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`;
}

