import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { ApacheFiles } from './apache-config.js';
import type { HaproxyFiles } from './haproxy-config.js';
import type { NginxFiles } from './nginx-config.js';
import { isRunning, startProcess, stopProcess, waitUntil, type Managed } from './processes.js';

/** The real proxies, from their Debian packages, run in the foreground on private configs. */

export const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path)) ?? null;
export const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((path) => existsSync(path)) ?? null;
/** Debian's httpd binary is apache2; elsewhere it is httpd. */
export const APACHE = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((path) => existsSync(path)) ?? null;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

async function waitListening(managed: Managed, port: number, explain: () => string): Promise<void> {
  await waitUntil(`${managed.name} on port ${port}`, async () => {
    if (!isRunning(managed)) throw new Error(`${managed.name} exited: ${explain()}`);
    return accepts(port);
  }, 15_000);
}

const tail = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').slice(-2000) : '(no output)');

/**
 * Starts nginx in the foreground. `timeZone` (an IANA name) is the TZ it runs with: nginx keeps TZ
 * from its environment, and `$time_local` / `$time_iso8601` are written in that zone.
 */
export async function startNginx(files: NginxFiles, port: number, timeZone?: string): Promise<Managed> {
  if (NGINX === null) throw new Error('nginx is not installed');
  const env = timeZone === undefined ? undefined : { ...process.env, TZ: timeZone };
  const managed = startProcess('nginx', NGINX, ['-p', dirname(files.conf), '-c', files.conf], 'ignore', env);
  await waitListening(managed, port, () => tail(files.errorLog));
  return managed;
}

/** Graceful stop (SIGQUIT): nginx finishes what it has and closes its logs. */
export async function stopNginx(managed: Managed): Promise<void> {
  await stopProcess(managed, 'SIGQUIT', 10_000);
}

export async function startHaproxy(files: HaproxyFiles, port: number): Promise<Managed> {
  if (HAPROXY === null) throw new Error('haproxy is not installed');
  const log = openSync(files.log, 'a');
  const stderr = openSync(files.stderr, 'a');
  try {
    const managed = startProcess('haproxy', HAPROXY, ['-f', files.cfg, '-db'], ['ignore', log, stderr]);
    await waitListening(managed, port, () => tail(files.stderr));
    return managed;
  } finally {
    closeSync(log);
    closeSync(stderr);
  }
}

/** Soft stop (SIGUSR1): HAProxy stops listening and exits once its sessions are done. */
export async function stopHaproxy(managed: Managed): Promise<void> {
  await stopProcess(managed, 'SIGUSR1', 10_000);
}

/** Starts Apache httpd in the foreground on its own config (no /etc/apache2, no apache2ctl). */
export async function startApache(files: ApacheFiles, port: number): Promise<Managed> {
  if (APACHE === null) throw new Error('Apache httpd is not installed');
  const managed = startProcess('apache', APACHE, ['-f', files.conf, '-DFOREGROUND']);
  await waitListening(managed, port, () => tail(files.errorLog));
  return managed;
}

/** Graceful stop (SIGWINCH): httpd lets its children finish their requests, then exits. */
export async function stopApache(managed: Managed): Promise<void> {
  await stopProcess(managed, 'SIGWINCH', 10_000);
}
