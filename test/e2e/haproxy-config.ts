import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * haproxy.cfg for the end-to-end runs: `option httplog` to stdout (the harness points stdout at
 * a file; `dontlognull` keeps the harness's readiness probes out of it), and request header
 * captures declared in both of HAProxy's forms. Their order is
 * alf's default capture layout (Host, User-Agent, X-Api-Key); X-Request-Id comes fourth, for the
 * harness's ground truth.
 */

export const FRONTEND = 'fe_api';
/** The backend's name: every request line of the log names it (`be_app/app1`), HAProxy's own notices do not. */
export const BACKEND = 'be_app';

export interface HaproxySetup {
  dir: string;
  port: number;
  backendPort: number;
  /**
   * `option abortonclose`: HAProxy gives up on the server when the client closes. Without it,
   * HAProxy 2.6 waits for the server's answer (the client abort does not show).
   */
  abortOnClose: boolean;
}

export interface HaproxyFiles {
  cfg: string;
  log: string;
  stderr: string;
}

export function writeHaproxyConfig(setup: HaproxySetup): HaproxyFiles {
  const files: HaproxyFiles = { cfg: join(setup.dir, 'haproxy.cfg'), log: join(setup.dir, 'haproxy.log'), stderr: join(setup.dir, 'haproxy.stderr') };
  writeFileSync(files.cfg, `${haproxyCfgHead({ abortOnClose: setup.abortOnClose, timeoutSeconds: 60 })}
frontend ${FRONTEND}
  bind 127.0.0.1:${setup.port}
  capture request header Host len 64
  http-request capture req.hdr(User-Agent) len 96
  http-request capture req.hdr(X-Api-Key) len 48
  capture request header X-Request-Id len 48
  default_backend ${BACKEND}

backend ${BACKEND}
  server app1 127.0.0.1:${setup.backendPort}
`);
  return files;
}

/**
 * The head of a test's haproxy.cfg: `option httplog` to stdout (the harness points stdout at a
 * file), `dontlognull` keeping readiness probes out of it, and the timeouts; sections follow.
 */
export function haproxyCfgHead(options: { abortOnClose: boolean; timeoutSeconds: number }): string {
  return `global
  log stdout format raw local0
  maxconn 4096

defaults
  mode http
  log global
  option httplog
  option dontlognull
${options.abortOnClose ? '  option abortonclose\n' : ''}  timeout connect 5s
  timeout client ${options.timeoutSeconds}s
  timeout server ${options.timeoutSeconds}s
`;
}
