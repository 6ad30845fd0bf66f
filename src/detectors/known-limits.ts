/**
 * Timeouts that products ship with, by value: a pile-up of latencies at one of these usually
 * means that limit fired. Several products share a value, so each entry names them all.
 */
export interface KnownLimit {
  seconds: number;
  name: string;
  /** Which side gave up: a client (the backend may have kept working) or a proxy/gateway. */
  side: 'client' | 'proxy';
}

export const KNOWN_LIMITS: readonly KnownLimit[] = [
  { seconds: 5, name: 'a 5 s client default (HTTP libraries, exporters, health checkers)', side: 'client' },
  { seconds: 10, name: 'a 10 s client default (HTTP libraries, SDKs)', side: 'client' },
  { seconds: 15, name: 'the Envoy route timeout default (15 s)', side: 'proxy' },
  { seconds: 29, name: 'the AWS API Gateway integration timeout (29 s)', side: 'proxy' },
  { seconds: 30, name: 'a 30 s proxy or client timeout (API Gateway HTTP APIs, many clients)', side: 'proxy' },
  { seconds: 60, name: 'the nginx proxy_read_timeout / AWS ALB idle timeout default (60 s)', side: 'proxy' },
  { seconds: 100, name: 'the Cloudflare origin response timeout (100 s)', side: 'proxy' },
  { seconds: 120, name: 'a 120 s proxy timeout (Kong, many load balancers)', side: 'proxy' },
];

/** The known limit a wall at `seconds` most likely is: within 2% (timers fire a little late). */
export function nearestKnownLimit(seconds: number): KnownLimit | null {
  let best: KnownLimit | null = null;
  for (const limit of KNOWN_LIMITS) {
    const distance = Math.abs(seconds - limit.seconds);
    if (distance <= Math.max(0.1, 0.02 * limit.seconds) && (best === null || distance < Math.abs(seconds - best.seconds))) best = limit;
  }
  return best;
}
