import type { Count, FindingBase, Flag, Milliseconds, Share, Text } from '../model/finding.js';
import { formatShare } from '../model/figure-format.js';
import { roundTo } from '../model/round.js';
import type { JoinedRequest } from '../model/records.js';
import { HEALTHY_BACKGROUND, severityOf } from '../model/severity.js';
import { BoundedCounter } from '../statistics/bounded-counter.js';
import type { Detector, DetectorContext } from './detector.js';
import { EvidenceSample } from '../statistics/evidence-sample.js';
import { LogHistogram } from '../statistics/log-histogram.js';

/**
 * Keep-alive to a backend switched off (the Apigee anti-pattern): every request opens a new TCP
 * connection, often with a TLS handshake, so each pays the handshake in latency and the proxy
 * runs out of connections under load. nginx logs `$upstream_connect_time` 0.000 for a reused
 * connection, but also for a fresh one on loopback that took under a millisecond, so one
 * non-zero value proves nothing: the signal is a *consistent* non-zero connect time, per
 * upstream. The cost is read off the same upstream: latency of requests that connected against
 * those that reused a connection (when both exist), else the connect time itself.
 * `$connection_requests` = 1 on nearly every request says the same of the client side (clients not
 * reusing connections to the proxy, or the proxy closing them), with connect times or without.
 */

const UPSTREAM_CAP = 2_000;
/** A handshake cheaper than this per request is no cost worth a finding above low. */
const NEGLIGIBLE_COST_MS = 5;
const MIN_MEASURED = 50;
const DISABLED_SHARE = 0.9;
const PARTIAL_SHARE = 0.5;

/** Connections to one upstream not reused. */
export interface UpstreamKeepaliveFigures {
  upstream: Text;
  measuredRequests: Count;
  newConnections: Count;
  newConnectionShare: Share;
  meanConnectMs: Milliseconds;
  /** Latency each new connection added: requests that connected against those that reused one, else the connect time. */
  latencyCostMs: Milliseconds;
  medianLatencyNewConnectionMs: Milliseconds | null;
  medianLatencyReusedMs: Milliseconds | null;
  loopback: Flag;
}

/** Clients not reusing their connections to the proxy (`$connection_requests` = 1). */
export interface ClientKeepaliveFigures {
  measuredRequests: Count;
  newConnections: Count;
  newConnectionShare: Share;
  side: 'client';
}

export type KeepaliveFinding = FindingBase<'keepalive-disabled', UpstreamKeepaliveFigures | ClientKeepaliveFigures>;

interface UpstreamConnects {
  measured: number;
  connected: number;
  connectTotalMs: number;
  connectSketch: LogHistogram;
  latencyConnected: LogHistogram;
  latencyReused: LogHistogram;
  evidence: EvidenceSample;
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address.startsWith('[::1]') || address.startsWith('::1') || address.startsWith('localhost') || address.startsWith('unix:');
}

export const keepaliveDisabled: Detector<KeepaliveFinding> = {
  id: 'keepalive-disabled',
  title: 'Keep-alive disabled',
  kinds: ['keepalive-disabled'],
  chart: 'upstream-errors',
  verdict(findings, cite) {
    const upstream = findings.find((f): f is KeepaliveFinding & { figures: UpstreamKeepaliveFigures } => 'upstream' in f.figures);
    if (upstream === undefined) return null;
    return `The proxy opens a new connection to ${upstream.figures.upstream} for ${cite(upstream, 'newConnectionShare')} of requests, ` +
      `about ${cite(upstream, 'latencyCostMs')} each: keep-alive towards it looks off.`;
  },
  start() {
    const upstreams = new BoundedCounter<UpstreamConnects>(UPSTREAM_CAP, () => ({
      measured: 0, connected: 0, connectTotalMs: 0, connectSketch: new LogHistogram(20),
      latencyConnected: new LogHistogram(20), latencyReused: new LogHistogram(20), evidence: new EvidenceSample(3),
    }));
    let withConnectionRequests = 0;
    let firstOnConnection = 0;
    const clientEvidence = new EvidenceSample(3);

    return {
      observe(request: JoinedRequest) {
        const proxy = request.proxy;
        if (proxy === null) return;
        if (proxy.connectionRequests !== null) {
          withConnectionRequests++;
          if (proxy.connectionRequests <= 1) {
            firstOnConnection++;
            clientEvidence.offer(proxy, 0, `connection_requests ${proxy.connectionRequests}`);
          }
        }
        const connectMs = proxy.upstreamConnectTimeMs;
        // Retried requests sum several connects; keep to single attempts for a clean signal.
        if (connectMs === null || proxy.upstreamAddr === null || proxy.upstreamAttempts > 1) return;
        const state = upstreams.get(proxy.upstreamAddr);
        state.measured++;
        const latencyMs = proxy.upstreamTimeMs ?? proxy.requestTimeMs;
        if (connectMs > 0) {
          state.connected++;
          state.connectTotalMs += connectMs;
          state.connectSketch.add(connectMs);
          if (latencyMs !== null) state.latencyConnected.add(latencyMs);
          state.evidence.offer(proxy, connectMs, `upstream connect ${(connectMs / 1000).toFixed(3)} s`);
        } else if (latencyMs !== null) {
          state.latencyReused.add(latencyMs);
        }
      },

      finish(_context: DetectorContext): KeepaliveFinding[] {
        const findings: KeepaliveFinding[] = [];
        let measuredUpstreams = 0;
        for (const [address, state] of upstreams) {
          if (state.measured < MIN_MEASURED) continue;
          const share = state.connected / state.measured;
          const meanConnectMs = state.connected > 0 ? state.connectTotalMs / state.connected : 0;
          const medianConnected = state.latencyConnected.quantile(0.5);
          const medianReused = state.latencyReused.quantile(0.5);
          // Latency cost: compare the two groups when both are large enough, else the handshake itself.
          const costMs = medianConnected !== null && medianReused !== null && state.latencyReused.total >= 20 && state.latencyConnected.total >= 20
            ? Math.max(0, medianConnected - medianReused)
            : meanConnectMs;
          measuredUpstreams++;
          if (share < PARTIAL_SHARE) continue;
          const disabled = share >= DISABLED_SHARE;
          const loopbackAndCheap = isLoopback(address) && (state.connectSketch.quantile(0.5) ?? 0) <= 1.5;
          // A cost, judged by the share of this upstream's requests that pay it, and only when it is worth paying attention to.
          const costly = !loopbackAndCheap && meanConnectMs >= NEGLIGIBLE_COST_MS;
          const severity = severityOf({
            affected: state.connected, total: state.measured, background: HEALTHY_BACKGROUND.none,
            cohortShare: costly ? share : null, costOnly: true,
          });
          findings.push({
            kind: 'keepalive-disabled',
            severity,
            title: disabled
              ? `Upstream ${address}: a new connection for ${formatShare(roundTo(share, 3))} of requests (keep-alive looks disabled)`
              : `Upstream ${address}: only ${formatShare(1 - roundTo(share, 3))} of requests reuse a connection`,
            explanation:
              `${state.connected} of ${state.measured} requests to ${address} logged a non-zero upstream connect time ` +
              `(mean ${meanConnectMs.toFixed(1)} ms): the proxy opened a new connection${disabled ? ' for nearly every request' : ' for most requests'} ` +
              'instead of reusing one. Each new connection costs a TCP handshake (and a TLS one where the backend speaks TLS): ' +
              // A real HAProxy log read "mean 1.7 ms … about 0.0 ms per request": say what was measured.
              (costMs < 0.05 && medianConnected !== null && medianReused !== null
                ? `here requests on a new connection were no slower at the median (${medianConnected.toFixed(1)} ms against ${medianReused.toFixed(1)} ms), `
                : `about ${costMs.toFixed(1)} ms per request here, `) +
              'and under load the proxy and backend run out of connections and ephemeral ports.' +
              (loopbackAndCheap ? ' The upstream is on loopback and connects in about a millisecond, so the cost is small.' : ''),
            nextStep:
              'Turn keep-alive on towards this backend: nginx `keepalive 32;` in the upstream block with `proxy_http_version 1.1;` and ' +
              '`proxy_set_header Connection "";`; Apigee `keepalive.timeout.millis` above 0; check the backend does not send `Connection: close`.',
            figures: {
              upstream: address,
              measuredRequests: state.measured,
              newConnections: state.connected,
              newConnectionShare: roundTo(share, 3),
              meanConnectMs: roundTo(meanConnectMs, 2),
              latencyCostMs: roundTo(costMs, 2),
              medianLatencyNewConnectionMs: medianConnected === null ? null : roundTo(medianConnected, 1),
              medianLatencyReusedMs: medianReused === null ? null : roundTo(medianReused, 1),
              loopback: isLoopback(address),
            },
            evidence: state.evidence.list(),
          });
        }
        // The client side whatever the upstream side showed: with `$upstream_connect_time` logged too,
        // a real nginx with `keepalive_timeout 0` (every request the first on its connection) said
        // nothing, and the same log without that field said it.
        if (withConnectionRequests >= MIN_MEASURED && firstOnConnection / withConnectionRequests >= DISABLED_SHARE) {
          const share = firstOnConnection / withConnectionRequests;
          findings.push({
            kind: 'keepalive-disabled',
            severity: 'low',
            title: `Clients open a new connection for ${formatShare(roundTo(share, 3))} of requests`,
            explanation:
              `${firstOnConnection} of ${withConnectionRequests} requests were the first on their client connection ($connection_requests = 1): ` +
              'clients are not reusing connections to the proxy (or the proxy closes them: nginx `keepalive_timeout 0`).' +
              (measuredUpstreams === 0 ? ' The log has no upstream connect time, so reuse towards the backend cannot be judged.' : ''),
            figures: { measuredRequests: withConnectionRequests, newConnections: firstOnConnection, newConnectionShare: roundTo(share, 3), side: 'client' },
            evidence: clientEvidence.list(),
          });
        }
        return findings;
      },
    };
  },
};
