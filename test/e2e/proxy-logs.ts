import { readFileSync } from 'node:fs';

/**
 * The proxies' own lines, read by the test itself (not by alf): to tie each line to the request
 * the clients sent (by X-Request-Id), and to state what nginx and HAProxy really wrote.
 */

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '');
}

/** A line of the `alf_pipe` format (nginx-config.ts PIPE_LOG_FORMAT). */
export interface NginxLine {
  line: number;
  raw: string;
  requestId: string;
  apiKey: string;
  uri: string;
  status: number;
  requestTime: number;
  upstreamHeaderTime: string;
  upstreamResponseTime: string;
  upstreamStatus: string;
  bytesSent: number;
  bodyBytesSent: number;
  userAgent: string;
}

export function readNginxPipe(path: string): NginxLine[] {
  return lines(path).map((raw, index) => {
    const f = raw.split('|');
    if (f.length < 18) throw new Error(`nginx line ${index + 1} has ${f.length} fields: ${raw}`);
    return {
      line: index + 1, raw, requestId: f[1]!, apiKey: f[3]!, uri: f[5]!, status: Number(f[6]), requestTime: Number(f[7]),
      upstreamHeaderTime: f[9]!, upstreamResponseTime: f[10]!, upstreamStatus: f[11]!, bytesSent: Number(f[14]), bodyBytesSent: Number(f[15]),
      userAgent: f.slice(17).join('|'),
    };
  });
}

/** An `option httplog` line with the four request captures of haproxy-config.ts. */
export interface HaproxyLine {
  line: number;
  raw: string;
  /** Timers TR/Tw/Tc/Tr/Ta, -1 when not reached. */
  timers: number[];
  status: number;
  bytes: number;
  termination: string;
  captures: string[];
  requestId: string;
}

/**
 * Request lines HAProxy may leave out of a run's log: it never waits to log, and a line it cannot
 * write to its stdout at once is dropped. On a loaded CI host it logged 1,838 of 1,839 requests
 * even after the harness waited 15 s for the last one. Tests count alf against the lines written.
 */
export function haproxyDropAllowance(sent: number): number {
  return Math.max(2, Math.ceil(0.002 * sent));
}

/** Request lines only; HAProxy's own notices on the same stream ("Proxy fe_api stopped") are left out. */
export function readHaproxyLog(path: string): HaproxyLine[] {
  const out: HaproxyLine[] = [];
  lines(path).forEach((raw, index) => {
    const open = raw.indexOf(' {');
    if (open < 0 || !raw.endsWith('"')) return;
    const fields = raw.slice(0, open).split(' ');
    // client [date] frontend backend/server timers status bytes CC CS termination conns queues
    const close = raw.indexOf('}', open);
    const captures = raw.slice(open + 2, close).split('|');
    out.push({
      line: index + 1, raw, timers: fields[4]!.split('/').map(Number), status: Number(fields[5]), bytes: Number(fields[6]),
      termination: fields[9]!, captures, requestId: captures[3] ?? '',
    });
  });
  return out;
}
