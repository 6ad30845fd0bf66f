import { traitsOf } from '../../../parsers/registry.js';

/**
 * Timeouts that products ship with, by value: a pile-up of latencies at one of these usually
 * means that limit fired. Several products share a value, so each entry names them all. Sources
 * for each value and setting: docs/timeouts.md.
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
  { seconds: 30, name: 'a 30 s proxy or client timeout (API Gateway HTTP APIs, CloudFront origins, many clients)', side: 'proxy' },
  { seconds: 60, name: 'the nginx proxy_read_timeout / AWS ALB idle timeout default (60 s)', side: 'proxy' },
  { seconds: 100, name: 'the Cloudflare origin response timeout (100 s)', side: 'proxy' },
  { seconds: 120, name: 'a 120 s proxy timeout (Kong, many load balancers)', side: 'proxy' },
];

/**
 * The known limit a wall at `seconds` most likely is: within 2% (timers fire a little late), and
 * of the side that gave up when it is known: a wall of gateway timeouts at 5 s is a proxy set to
 * 5 s, never "a 5 s client default".
 */
export function nearestKnownLimit(seconds: number, side?: KnownLimit['side']): KnownLimit | null {
  let best: KnownLimit | null = null;
  for (const limit of KNOWN_LIMITS) {
    if (side !== undefined && limit.side !== side) continue;
    const distance = Math.abs(seconds - limit.seconds);
    if (distance <= Math.max(0.1, 0.02 * limit.seconds) && (best === null || distance < Math.abs(seconds - best.seconds))) best = limit;
  }
  return best;
}

/** The setting that bounds how long a proxy or gateway waits for its backend, by log format. */
export interface TimeoutSetting {
  /** What to look at, e.g. "nginx `proxy_read_timeout`". */
  setting: string;
  /** Its default in seconds, when it has one. */
  defaultSeconds: number | null;
}

const UNKNOWN_PROXY: TimeoutSetting = { setting: 'the proxy\'s or gateway\'s upstream read timeout', defaultSeconds: null };

export function timeoutSettingOf(format: string | null): TimeoutSetting {
  // Each format names its own setting (parsers/*.ts, traits.upstreamTimeout).
  return (format === null ? null : traitsOf(format)?.upstreamTimeout) ?? UNKNOWN_PROXY;
}
