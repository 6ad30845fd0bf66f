import { readFileSync } from 'node:fs';
import type { JoinedPair } from './alf-cli.js';
import type { WorkDone } from './backend.js';
import { readNginxPipe } from './proxy-logs.js';

/**
 * The true pairing of a run, to score alf's join against: which APM export line belongs to which
 * access-log line. The `alf_pipe` log carries the client's X-Request-Id, which the backend saw
 * too; nginx writes every access log of a server in the same order, one line per request, so the
 * other logs' lines are tied to requests by position, after checking that each line there names
 * the same request (method, URI and status) as the pipe log's line.
 */

/** Proxy line → the line of its transaction in one export; requests the backend never wrote (a reset) are absent. */
export type TruePairs = Map<number, number>;

export function truePairs(pipeLog: string, truth: readonly WorkDone[], exportName: string): TruePairs {
  const byId = new Map(truth.filter((work) => work.requestId !== null).map((work) => [work.requestId!, work]));
  const pairs: TruePairs = new Map();
  for (const line of readNginxPipe(pipeLog)) {
    const apmLine = byId.get(line.requestId)?.lines[exportName];
    if (apmLine !== undefined) pairs.set(line.line, apmLine);
  }
  return pairs;
}

/** `"GET /v1/orders/7 HTTP/1.0" 200` in any of the harness's formats, per line. */
function requestAndStatus(raw: string): string {
  const match = /"([A-Z]+ \S+) HTTP\/[\d.]+" (\d{3})/.exec(raw);
  if (!match) throw new Error(`no request line in ${raw}`);
  return `${match[1]} ${match[2]}`;
}

/** Throws unless line n of `otherLog` is the same request as line n of the pipe log, for every n. */
export function assertSameOrder(pipeLog: string, otherLog: string): void {
  const pipe = readNginxPipe(pipeLog);
  const other = readFileSync(otherLog, 'utf8').split('\n').filter((line) => line !== '');
  if (other.length !== pipe.length) throw new Error(`${otherLog} has ${other.length} lines, the pipe log ${pipe.length}`);
  pipe.forEach((line, i) => {
    const fields = line.raw.split('|');
    const expected = `${fields[4]} ${fields[5]} ${fields[6]}`;
    if (requestAndStatus(other[i]!) !== expected) throw new Error(`line ${i + 1} of ${otherLog} is not the pipe log's request: ${other[i]}`);
  });
}

export interface JoinScore {
  truePairs: number;
  claimed: number;
  right: number;
  precision: number;
  recall: number;
}

export function scoreJoin(pairs: readonly JoinedPair[], truth: TruePairs): JoinScore {
  const claimed = pairs.filter((pair) => pair.apm_line !== null);
  const right = claimed.filter((pair) => truth.get(pair.proxy_line) === pair.apm_line).length;
  return {
    truePairs: truth.size, claimed: claimed.length, right,
    precision: claimed.length === 0 ? 0 : right / claimed.length,
    recall: truth.size === 0 ? 0 : right / truth.size,
  };
}
