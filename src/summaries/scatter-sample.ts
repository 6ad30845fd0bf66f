import { ownString } from '../model/own-string.js';
import { type JoinedRequest, upstreamMissing } from '../model/records.js';
import { routeOf } from '../model/route.js';

/**
 * A bounded, seeded reservoir of joined pairs for the client-vs-backend scatter. A million
 * pairs would make an unreadable, heavy chart; a few thousand show the knee just as well.
 * Seeded, so the same input draws the same report.
 */
export interface ScatterPoint {
  /** When the proxy logged the request, epoch ms: the report's time filter. */
  timeMs: number;
  route: string | null;
  clientSeconds: number;
  backendSeconds: number;
  status: number | null;
  upstreamMissing: boolean;
  userAgent: string | null;
  apiKey: string | null;
}

export class ScatterSample {
  readonly points: ScatterPoint[] = [];
  seen = 0;
  private state = 0x9e3779b9;

  constructor(private readonly capacity = 4000) {}

  private random(): number {
    // xorshift32: deterministic and fast; statistical quality is ample for sampling.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }

  observe(request: JoinedRequest): void {
    const proxy = request.proxy;
    const apm = request.apm;
    if (proxy === null || apm === null || proxy.requestTimeMs === null) return;
    this.seen++;
    let slot = this.points.length;
    if (slot >= this.capacity) {
      slot = Math.floor(this.random() * this.seen);
      if (slot >= this.capacity) return;
    }
    const route = routeOf(proxy);
    this.points[slot] = {
      timeMs: proxy.endMs,
      route: route === null ? null : ownString(route),
      clientSeconds: proxy.requestTimeMs / 1000,
      backendSeconds: apm.durationMs / 1000,
      status: proxy.status,
      upstreamMissing: upstreamMissing(proxy),
      // Owned: a point is kept for the run, and a value cut from a line would pin its read chunk.
      userAgent: proxy.userAgent === null ? null : ownString(proxy.userAgent),
      apiKey: proxy.apiKey === null ? null : ownString(proxy.apiKey),
    };
  }
}
