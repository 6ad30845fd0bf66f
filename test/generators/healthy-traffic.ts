import { SeededRandom } from './random.js';

/**
 * A healthy day in nginx's `combined` format, with the background every real log has: browsers and
 * apps on many addresses, API clients, load-balancer and Kubernetes probes, scanners hunting for
 * /wp-login.php and /.env, favicon 404s, clients that hang up (499) now and then, and rare
 * transient 500/503s. Nothing is wrong: a detector that raises anything above `low` here is
 * raising a false alarm. The shares are options so a test states what it checks.
 */

export interface HealthyOptions {
  seed: number;
  lines: number;
  startMs: number;
  /** Requests per second on average. */
  rate: number;
  /** Share of requests a client hung up on (499), at random. */
  clientDrops: number;
  /** Share of requests the backend failed (500/503), at random. */
  serverErrors: number;
  /** Share of requests for something that does not exist (404): favicons, scanners, stale links. */
  notFound: number;
}

export const HEALTHY_COMBINED: HealthyOptions = {
  seed: 2024, lines: 100_000, startMs: Date.UTC(2024, 9, 14, 6, 0, 0), rate: 12,
  clientDrops: 0.015, serverErrors: 0.004, notFound: 0.01,
};

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0',
  'ShopApp/5.1 (iPhone; iOS 18.0; Scale/3.00)',
  'okhttp/4.12.0',
];
const API_CLIENTS = ['python-requests/2.32.3', 'Go-http-client/2.0', 'axios/1.7.7'];
const PAGES = ['/', '/products', '/cart', '/search', '/account', '/checkout'];
const SCANNER_PATHS = ['/wp-login.php', '/.env', '/phpmyadmin/index.php', '/.git/config', '/xmlrpc.php', '/admin.php'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function timeLocal(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Lines of a healthy `combined` access log, in time order. */
export function healthyCombinedLog(options: HealthyOptions = HEALTHY_COMBINED): string[] {
  const r = new SeededRandom(options.seed);
  const lines: string[] = [];
  let t = options.startMs;
  let nextProbe = t;
  for (let i = 0; i < options.lines; i++) {
    let ip: string;
    let agent: string;
    let request: string;
    let status = 200;
    let bytes = r.int(300, 40_000);
    let referer = '-';
    if (t >= nextProbe) {
      // Probes: kubelet and the load balancer, every few seconds, always fine.
      nextProbe = t + 5_000;
      const kube = r.chance(0.5);
      ip = kube ? '10.0.12.1' : `10.0.${r.int(0, 3)}.${r.int(10, 40)}`;
      agent = kube ? 'kube-probe/1.30' : 'ELB-HealthChecker/2.0';
      request = `GET ${kube ? '/healthz' : '/health'} HTTP/1.1`;
      bytes = 2;
    } else if (r.chance(options.notFound)) {
      // 404s: scanners, favicons some browsers ask for, stale links.
      const kind = r.int(0, 2);
      ip = kind === 0 ? `198.51.100.${r.int(1, 30)}` : `203.0.113.${r.int(1, 250)}`;
      agent = kind === 0 ? 'Mozilla/5.0 zgrab/0.x' : r.pick(BROWSERS);
      request = `GET ${kind === 0 ? r.pick(SCANNER_PATHS) : kind === 1 ? '/favicon.ico' : `/products/${r.int(90_000, 99_999)}`} HTTP/1.1`;
      status = 404;
      bytes = 153;
    } else {
      const api = r.chance(0.2);
      ip = api ? `192.0.2.${r.int(1, 12)}` : `203.0.113.${r.int(1, 250)}`;
      agent = api ? r.pick(API_CLIENTS) : r.pick(BROWSERS);
      const path = api ? `/api/v2/orders/${r.int(1, 50_000)}` : r.chance(0.5) ? r.pick(PAGES) : `/products/${r.int(1, 5_000)}`;
      request = `${api && r.chance(0.2) ? 'POST' : 'GET'} ${path} HTTP/1.1`;
      if (!api && r.chance(0.3)) referer = 'https://shop.example.com/';
      if (r.chance(options.clientDrops)) {
        status = 499;
        bytes = 0;
      } else if (r.chance(options.serverErrors)) {
        status = r.chance(0.5) ? 500 : 503;
        bytes = r.int(150, 600);
      }
    }
    lines.push(`${ip} - - [${timeLocal(t)}] "${request}" ${status} ${bytes} "${referer}" "${agent}"`);
    t += Math.round(-Math.log(1 - r.next()) * (1000 / options.rate));
  }
  return lines;
}
