import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * nginx.conf for the end-to-end runs: a private prefix, temp paths and logs under `dir`, in the
 * foreground. Two access logs for every request: the pipe-delimited `alf_pipe` format with
 * request and upstream fields, and `combined`. The metrics API runs a `post_action`, as in the
 * founding case, to an internal location with nothing to serve (nginx answers it 404).
 */

/** The custom format, as it is written in nginx.conf (alf reads it with --log-format). */
export const PIPE_LOG_FORMAT =
  "log_format alf_pipe '$msec|$http_x_request_id|$remote_addr|$http_x_api_key|$request_method|$request_uri|$status|$request_time|'\n" +
  "                    '$upstream_connect_time|$upstream_header_time|$upstream_response_time|$upstream_status|$upstream_addr|'\n" +
  "                    '$request_length|$bytes_sent|$body_bytes_sent|$connection_requests|$http_user_agent';";

export interface NginxSetup {
  dir: string;
  port: number;
  backendPort: number;
  /** `post_action` on the metrics API, as the founding case had it. */
  postAction: boolean;
  /** The founding fix: nginx waits for the upstream when the client hangs up. */
  ignoreClientAbort: boolean;
}

export interface NginxFiles {
  conf: string;
  pipeLog: string;
  combinedLog: string;
  errorLog: string;
}

export function writeNginxConfig(setup: NginxSetup): NginxFiles {
  const { dir } = setup;
  mkdirSync(join(dir, 'empty'), { recursive: true });
  const files: NginxFiles = {
    conf: join(dir, 'nginx.conf'),
    pipeLog: join(dir, 'access.log'),
    combinedLog: join(dir, 'access-combined.log'),
    errorLog: join(dir, 'error.log'),
  };
  const temp = (name: string) => `${name}_temp_path ${join(dir, `${name}_temp`)};`;
  const postAction = setup.postAction ? 'post_action /account;' : '';
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
  ${PIPE_LOG_FORMAT}
  upstream app { server 127.0.0.1:${setup.backendPort}; }
  server {
    listen 127.0.0.1:${setup.port};
    access_log ${files.pipeLog} alf_pipe;
    access_log ${files.combinedLog} combined;
    proxy_ignore_client_abort ${setup.ignoreClientAbort ? 'on' : 'off'};
    location /v2/applications/ {
      proxy_pass http://app;
      ${postAction}
    }
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
