import type { Finding, Severity } from '../model/finding.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest } from '../model/records.js';
import { upstreamMissing } from '../model/records.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from './evidence-sample.js';
import { nearestKnownLimit } from './known-limits.js';

/**
 * Timeout walls: many requests ending at one client-facing time, because some limit fired there
 * (API Gateway's 29 s, nginx's 60 s, a client's 5 s...). Latency from real work is smooth; a
 * limit makes a spike in its density. Method: client times on 10 ms bins (fixed memory); at the
 * end, each 100 ms window is compared with the density around it (±max(1 s, 15%), leaving out
 * ±150 ms), and a window far denser than its surroundings, and significantly so for its count, is
 * a wall. The strongest walls are taken one at a time, masking ±0.5 s around each.
 * A wall at the client-timeout knee's T is that knee, already explained: it is referred to, not
 * reported again.
 */

const BIN_MS = 10;
const MAX_MS = 300_000;
const WINDOW_BINS = 10; // 100 ms
const COARSE_MS = 100;
const MIN_WALL_MS = 500;
const MIN_REQUESTS = 10;
const MIN_RATIO = 8;
const MAX_WALLS = 5;

interface CoarseBin {
  total: number;
  noUpstream: number;
  gatewayTimeouts: number;
  clientClosed: number;
  serverErrors: number;
}

export interface Wall {
  ms: number;
  requests: number;
  expected: number;
  ratio: number;
}

/** Finds sharp spikes in a histogram of BIN_MS bins; exported for tests. */
export function findWalls(histogram: Uint32Array): Wall[] {
  const prefix = new Float64Array(histogram.length + 1);
  for (let i = 0; i < histogram.length; i++) prefix[i + 1] = prefix[i]! + histogram[i]!;
  const sum = (from: number, to: number): number => {
    const a = Math.max(0, Math.min(histogram.length, from));
    const b = Math.max(0, Math.min(histogram.length, to));
    return b > a ? prefix[b]! - prefix[a]! : 0;
  };
  const masked = new Uint8Array(histogram.length);
  const candidates: Wall[] = [];
  for (let start = MIN_WALL_MS / BIN_MS; start + WINDOW_BINS <= histogram.length; start++) {
    const count = sum(start, start + WINDOW_BINS);
    if (count < MIN_REQUESTS) continue;
    const centerMs = (start + WINDOW_BINS / 2) * BIN_MS;
    const reach = Math.floor(Math.max(1000, 0.15 * centerMs) / BIN_MS);
    const gap = 15; // ±150 ms left out around the window, where a jittery wall spills over
    const lo = Math.max(0, start - reach);
    const hi = Math.min(histogram.length, start + WINDOW_BINS + reach);
    const around = sum(lo, start - gap) + sum(start + WINDOW_BINS + gap, hi);
    const aroundBins = Math.max(1, (start - gap - lo) + (hi - start - WINDOW_BINS - gap));
    // Expected count in a 100 ms window from the surroundings, floored so empty surroundings do not make every pile a wall.
    const expected = Math.max(0.5, (around / aroundBins) * WINDOW_BINS);
    const ratio = count / expected;
    if (ratio < MIN_RATIO || count < expected + 6 * Math.sqrt(expected)) continue;
    candidates.push({ ms: centerMs, requests: count, expected, ratio });
  }
  candidates.sort((a, b) => b.requests - a.requests || b.ratio - a.ratio);
  const walls: Wall[] = [];
  for (const candidate of candidates) {
    const bin = Math.floor(candidate.ms / BIN_MS);
    if (masked[bin]) continue;
    // Median of the wall's own window, for a precise value.
    const start = bin - WINDOW_BINS / 2;
    let seen = 0;
    let medianMs = candidate.ms;
    for (let i = start; i < start + WINDOW_BINS; i++) {
      const count = histogram[i] ?? 0;
      if (seen + count >= candidate.requests / 2) {
        medianMs = (i + (candidate.requests / 2 - seen) / Math.max(1, count)) * BIN_MS;
        break;
      }
      seen += count;
    }
    walls.push({ ...candidate, ms: Math.round(medianMs) });
    for (let i = Math.max(0, bin - 50); i < Math.min(masked.length, bin + 50); i++) masked[i] = 1;
    if (walls.length >= MAX_WALLS) break;
  }
  return walls;
}

export const timeoutWalls: Detector = {
  id: 'timeout-walls',
  title: 'Timeout walls',
  start() {
    const histogram = new Uint32Array(MAX_MS / BIN_MS);
    const coarse: CoarseBin[] = [];
    const evidence = new Map<number, EvidenceSample>();
    let total = 0;

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null || proxy.requestTimeMs === null) return;
        total++;
        const ms = proxy.requestTimeMs;
        if (ms >= MAX_MS) return;
        histogram[Math.floor(ms / BIN_MS)]!++;
        const index = Math.floor(ms / COARSE_MS);
        let bin = coarse[index];
        if (!bin) coarse[index] = bin = { total: 0, noUpstream: 0, gatewayTimeouts: 0, clientClosed: 0, serverErrors: 0 };
        bin.total++;
        if (upstreamMissing(proxy)) bin.noUpstream++;
        if (proxy.status === 504 || proxy.status === 408) bin.gatewayTimeouts++;
        if (proxy.clientClosed) bin.clientClosed++;
        if (proxy.status !== null && proxy.status >= 500) bin.serverErrors++;
        if (ms < MIN_WALL_MS) return;
        let sample = evidence.get(index);
        if (!sample) evidence.set(index, (sample = new EvidenceSample(3)));
        const backend = request.apm ? `, backend (APM) ${(request.apm.durationMs / 1000).toFixed(3)} s` : '';
        // Prefer lines where the backend never answered: they show the limit, not slow work.
        sample.offer(proxy, upstreamMissing(proxy) || proxy.status === 504 ? 1 : 0,
          `client ${(ms / 1000).toFixed(3)} s, status ${proxy.status ?? '-'}, upstream status ${proxy.upstreamStatus ?? '-'}${backend}`);
      },

      finish(context: DetectorContext): Finding[] {
        const knee = context.earlier.find((f) => f.kind === 'client-timeout-knee');
        const kneeSeconds = typeof knee?.figures.timeoutSeconds === 'number' ? knee.figures.timeoutSeconds : null;
        const findings: Finding[] = [];
        for (const wall of findWalls(histogram)) {
          const seconds = wall.ms / 1000;
          const around = [-1, 0, 1].map((d) => coarse[Math.floor(wall.ms / COARSE_MS) + d]);
          const sumOf = (field: keyof CoarseBin): number => around.reduce((s, bin) => s + (bin?.[field] ?? 0), 0);
          const atWall = Math.max(1, sumOf('total'));
          const noUpstream = sumOf('noUpstream');
          const gatewayTimeouts = sumOf('gatewayTimeouts');
          const clientClosed = sumOf('clientClosed');
          const failedShare = Math.min(1, Math.max(noUpstream, gatewayTimeouts, clientClosed, sumOf('serverErrors')) / atWall);
          const limit = nearestKnownLimit(seconds);
          const wallEvidence = [-1, 0, 1].flatMap((d) => evidence.get(Math.floor(wall.ms / COARSE_MS) + d)?.list() ?? []).slice(0, 5);
          if (kneeSeconds !== null && Math.abs(kneeSeconds - seconds) <= 0.15) {
            findings.push({
              kind: 'timeout-walls',
              severity: 'info',
              title: `The latency wall at ${seconds.toFixed(2)} s is the client-timeout knee`,
              explanation: `${wall.requests} requests end within 0.1 s of ${seconds.toFixed(2)} s. This is the client timeout the knee finding already explains (T = ${kneeSeconds.toFixed(2)} s); see it for who and why.`,
              figures: { sameAsKneeSeconds: kneeSeconds, requestsAtWall: wall.requests, densityRatio: Math.round(wall.ratio * 10) / 10 },
              evidence: wallEvidence,
            });
            continue;
          }
          const share = total > 0 ? wall.requests / total : 0;
          const who = limit?.side === 'client' || clientClosed > gatewayTimeouts ? 'client' : 'proxy';
          const severity: Severity = failedShare >= 0.5 ? (share >= 0.01 ? 'high' : 'medium') : 'low';
          const statusText = gatewayTimeouts > 0 ? `${gatewayTimeouts} were answered 504/408` : clientClosed > 0 ? `${clientClosed} were closed by the client` : `${noUpstream} had no upstream answer`;
          findings.push({
            kind: 'timeout-walls',
            severity,
            title: `Latency wall at ${seconds.toFixed(2)} s${limit ? `: likely ${limit.name}` : ''}`,
            explanation:
              `${wall.requests} requests (${(share * 100).toFixed(2)}% of all) end within 0.1 s of ${seconds.toFixed(2)} s, ` +
              `${Math.round(wall.ratio)}× the density of latencies around it: real work does not pile up at one value, a limit does. ` +
              `Of the requests at the wall, ${statusText}. ` +
              (limit ? `The value matches ${limit.name}. ` : 'The value matches no common default: look for a configured timeout of this length. ') +
              (who === 'proxy'
                ? 'The proxy or gateway gave up waiting; the backend may have kept working on requests nobody would receive.'
                : 'A client gave up waiting; the backend may have kept working on requests nobody would receive.'),
            nextStep: who === 'proxy'
              ? 'Find which layer has this timeout (gateway integration timeout, proxy read timeout, load balancer idle timeout), and either make the slow route faster, make it asynchronous, or align the timeouts from the client inwards.'
              : 'Find the client with this timeout (see the knee and proxy-made-responses findings) and raise it or make the call asynchronous.',
            figures: {
              wallSeconds: roundTo(seconds, 3),
              requestsAtWall: wall.requests,
              shareOfRequests: roundTo(share, 3),
              densityRatio: Math.round(wall.ratio * 10) / 10,
              failedShareAtWall: roundTo(failedShare, 3),
              gatewayTimeouts,
              clientClosed,
              noUpstreamAnswer: noUpstream,
              likelyLimit: limit?.name ?? null,
              likelyLimitSeconds: limit?.seconds ?? null,
            },
            evidence: wallEvidence,
          });
        }
        return findings;
      },
    };
  },
};
