import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FULL_NEW_RELIC_COLUMNS, type ExportSpec } from './apm-exports.js';
import { WorkerPoolBackend, type WorkDone } from './backend.js';
import { clientProfiles, type Cohort, type Target } from './clients.js';
import { ROUTES, type RouteTable } from './endpoints.js';
import { BACKEND, writeHaproxyConfig, type HaproxyFiles } from './haproxy-config.js';
import { writeNginxConfig, type LogFormatName, type NginxFiles, type NginxLocation } from './nginx-config.js';
import { freePort, waitUntil, type Managed } from './processes.js';
import { startHaproxy, startNginx, stopHaproxy, stopNginx } from './proxies.js';
import { runTraffic, type SentRequest } from './traffic.js';

/**
 * One end-to-end run: a backend instance behind each real proxy (its own worker pool and APM
 * exports, like two app hosts), the proxies on private configs, and the cohorts of clients, every
 * request mirrored through every proxy. `run()` drives the traffic, lets the backends work off what
 * the clients abandoned, stops everything and writes the exports; `stop()` is idempotent and is
 * what afterAll calls, also after a failure.
 */

export type ProxyName = 'nginx' | 'haproxy';

export interface NginxOptions {
  logs: readonly LogFormatName[];
  locations?: readonly NginxLocation[];
  /** proxy_ignore_client_abort on. */
  ignoreClientAbort: boolean;
  serverDirectives?: readonly string[];
  /** IANA time zone nginx runs in ($time_local, $time_iso8601); the machine's when absent. */
  timeZone?: string;
}

export interface ScenarioOptions {
  label: string;
  seed: number;
  trafficMs: number;
  cohorts: readonly Cohort[];
  routes: RouteTable;
  /** The proxies, each with a backend of its own; every request goes through all of them. */
  proxies: readonly ProxyName[];
  /** Worker pool of each backend. */
  workers: number;
  /** APM exports each backend writes. */
  exports: readonly ExportSpec[];
  nginx?: NginxOptions;
  /** HAProxy: option abortonclose. */
  haproxy?: { abortOnClose: boolean };
  /** The founding tests record the client timeout they picked. */
  clientTimeoutMs?: number;
}

export interface ScenarioResult {
  options: ScenarioOptions;
  dir: string;
  /** Null when the run had no such proxy. */
  nginx: NginxFiles | null;
  haproxy: HaproxyFiles | null;
  /** Each backend's export files by export name (empty for a proxy the run did not have). */
  apm: Record<ProxyName, Record<string, string>>;
  /** What each backend instance really did, request by request (empty for a proxy the run did not have). */
  truth: Record<ProxyName, WorkDone[]>;
  sent: SentRequest[];
  peakQueue: Record<ProxyName, number>;
  /** Wall-clock span of the traffic. */
  trafficStartMs: number;
  trafficEndMs: number;
  seconds: { startup: number; traffic: number; drain: number };
}

export class Scenario {
  readonly dir: string;
  private backends: Partial<Record<ProxyName, WorkerPoolBackend>> = {};
  private nginx: Managed | null = null;
  private haproxy: Managed | null = null;

  constructor(readonly options: ScenarioOptions) {
    this.dir = mkdtempSync(join(tmpdir(), `alf-e2e-${options.label}-`));
  }

  async run(): Promise<ScenarioResult> {
    const { options, dir } = this;
    const began = Date.now();
    const backends = this.backends;
    for (const proxy of options.proxies) {
      const exportDir = join(dir, `apm-behind-${proxy}`);
      mkdirSync(exportDir);
      backends[proxy] = new WorkerPoolBackend({
        app: `api-behind-${proxy}`, workers: options.workers, routes: options.routes, dir: exportDir, exports: options.exports,
      });
    }
    await Promise.all(Object.values(backends).map((backend) => backend.start()));

    const targets: Target[] = [];
    let nginxFiles: NginxFiles | null = null;
    let haproxyFiles: HaproxyFiles | null = null;
    if (backends.nginx) {
      const nginx = options.nginx;
      if (!nginx) throw new Error('a run with nginx needs its nginx options');
      const port = await freePort();
      nginxFiles = writeNginxConfig({ dir, port, backendPort: backends.nginx.port, ...nginx });
      this.nginx = await startNginx(nginxFiles, port, nginx.timeZone);
      targets.push({ proxy: 'nginx', port });
    }
    if (backends.haproxy) {
      const port = await freePort();
      haproxyFiles = writeHaproxyConfig({ dir, port, backendPort: backends.haproxy.port, abortOnClose: options.haproxy?.abortOnClose ?? false });
      this.haproxy = await startHaproxy(haproxyFiles, port);
      targets.push({ proxy: 'haproxy', port });
    }

    const trafficStartMs = Date.now();
    const sent = await runTraffic(options.cohorts, options.routes, targets, options.seed, options.label, options.trafficMs);
    const trafficEndMs = Date.now();
    // The backends keep working on what the clients abandoned; their exports are complete after.
    await Promise.all(Object.values(backends).map((backend) => backend.drain(30_000)));
    const drained = Date.now();
    // HAProxy logs a request when its session ends, which can be after its backend is done; a
    // soft stop that outlasts its grace loses the lines of sessions still open (a CI run on a
    // loaded host logged 1,279 of 1,280). So wait, a bounded time, for a request line (one naming
    // the backend, unlike HAProxy's start and stop notices) per request sent; a log that stays
    // short is left to the tests that count it.
    if (haproxyFiles !== null) {
      const logged = (): number => (existsSync(haproxyFiles.log) ? readFileSync(haproxyFiles.log, 'latin1').split(` ${BACKEND}/`).length - 1 : 0);
      await waitUntil(`a HAProxy log line per request (${sent.length})`, () => logged() >= sent.length, 15_000)
        .catch(() => console.warn(`HAProxy had logged ${logged()} of ${sent.length} requests when it was stopped`));
    }
    await this.stop();
    const per = <T>(of: (backend: WorkerPoolBackend) => T, none: T): Record<ProxyName, T> => ({
      nginx: backends.nginx ? of(backends.nginx) : none,
      haproxy: backends.haproxy ? of(backends.haproxy) : none,
    });
    const truth = per((backend) => backend.done, []);
    return {
      options, dir, nginx: nginxFiles, haproxy: haproxyFiles,
      apm: per((backend) => backend.files, {}),
      truth, sent,
      peakQueue: per((backend) => backend.peakQueue, 0),
      trafficStartMs, trafficEndMs,
      seconds: { startup: (trafficStartMs - began) / 1000, traffic: (trafficEndMs - trafficStartMs) / 1000, drain: (drained - trafficEndMs) / 1000 },
    };
  }

  /** Stops the proxies (by process id) and the backends, which then write their exports; safe to call twice. */
  async stop(): Promise<void> {
    const nginx = this.nginx;
    const haproxy = this.haproxy;
    this.nginx = this.haproxy = null;
    await Promise.all([nginx && stopNginx(nginx), haproxy && stopHaproxy(haproxy)]);
    await Promise.all(Object.values(this.backends).map((backend) => backend.close()));
  }

  /** Removes the run's directory unless ALF_E2E_KEEP is set (then its path is printed). */
  cleanUp(): void {
    if (process.env.ALF_E2E_KEEP) console.log(`alf e2e: kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The founding case's exports: New Relic CSV with every column, and OTLP/JSON. */
export const FOUNDING_EXPORTS: readonly ExportSpec[] = [
  { name: 'newrelic', shape: 'newrelic-csv', attributes: FULL_NEW_RELIC_COLUMNS },
  { name: 'otlp', shape: 'otlp-json' },
];

export interface FoundingSetup {
  label: string;
  seed: number;
  trafficMs: number;
  clientTimeoutMs: number;
  /** nginx: post_action on the metrics API. */
  postAction: boolean;
  /** nginx: proxy_ignore_client_abort on. */
  ignoreClientAbort: boolean;
  /** HAProxy: option abortonclose. */
  abortOnClose: boolean;
  workers: number;
}

/** The founding case through both proxies: its clients, its API, the pipe and combined logs. */
export function foundingScenario(setup: FoundingSetup): ScenarioOptions {
  return {
    label: setup.label, seed: setup.seed, trafficMs: setup.trafficMs, clientTimeoutMs: setup.clientTimeoutMs,
    cohorts: clientProfiles(setup.clientTimeoutMs), routes: ROUTES, proxies: ['nginx', 'haproxy'], workers: setup.workers,
    exports: FOUNDING_EXPORTS,
    nginx: {
      logs: ['alf_pipe', 'combined'], ignoreClientAbort: setup.ignoreClientAbort,
      locations: [{ match: '/v2/applications/', postAction: setup.postAction }],
    },
    haproxy: { abortOnClose: setup.abortOnClose },
  };
}

/** One line on what a run did, for the test output. */
export function describeRun(run: ScenarioResult): string {
  const gaveUp = run.sent.filter((request) => request.outcomes.some((outcome) => outcome.gaveUp)).length;
  const { seconds } = run;
  const proxies = run.options.proxies;
  const timeout = run.options.clientTimeoutMs === undefined ? '' : `, client timeout ${run.options.clientTimeoutMs} ms`;
  return `alf e2e ${run.options.label}: seed ${run.options.seed}${timeout}, ` +
    `${run.sent.length} requests through ${proxies.length === 1 ? proxies[0] : 'each proxy'} (${gaveUp} given up by their client), ` +
    `backend work ${proxies.map((proxy) => run.truth[proxy].length).join('+')}, peak queue ${proxies.map((proxy) => run.peakQueue[proxy]).join('/')}; ` +
    `startup ${seconds.startup.toFixed(1)} s, traffic ${seconds.traffic.toFixed(1)} s, drain ${seconds.drain.toFixed(1)} s`;
}
