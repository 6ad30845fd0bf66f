import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPoolBackend, type WorkDone } from './backend.js';
import { clientProfiles, type Target } from './clients.js';
import { writeHaproxyConfig, type HaproxyFiles } from './haproxy-config.js';
import { writeNginxConfig, type NginxFiles } from './nginx-config.js';
import { freePort, type Managed } from './processes.js';
import { startHaproxy, startNginx, stopHaproxy, stopNginx } from './proxies.js';
import { runTraffic, type SentRequest } from './traffic.js';

/**
 * One end-to-end run: two instances of the backend (one behind nginx, one behind HAProxy, each
 * with its own worker pool and APM exports, like two app hosts), the two real proxies, and the
 * clients, every request mirrored through both proxies. `run()` drives the traffic, lets the
 * backends work off what the clients abandoned, and stops everything; `stop()` is idempotent and
 * is what afterAll calls, also after a failure.
 */

export type ProxyName = 'nginx' | 'haproxy';
export const PROXIES: readonly ProxyName[] = ['nginx', 'haproxy'];

export interface ScenarioOptions {
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

export interface ApmFiles {
  csv: string;
  otlp: string;
}

export interface ScenarioResult {
  options: ScenarioOptions;
  dir: string;
  nginx: NginxFiles;
  haproxy: HaproxyFiles;
  apm: Record<ProxyName, ApmFiles>;
  /** What each backend instance really did, request by request. */
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
    const apm: Record<ProxyName, ApmFiles> = {
      nginx: { csv: join(dir, 'newrelic-behind-nginx.csv'), otlp: join(dir, 'otlp-behind-nginx.json') },
      haproxy: { csv: join(dir, 'newrelic-behind-haproxy.csv'), otlp: join(dir, 'otlp-behind-haproxy.json') },
    };
    const nginxBackend = this.backends.nginx = new WorkerPoolBackend({ app: 'api-behind-nginx', workers: options.workers, csvPath: apm.nginx.csv, otlpPath: apm.nginx.otlp });
    const haproxyBackend = this.backends.haproxy = new WorkerPoolBackend({ app: 'api-behind-haproxy', workers: options.workers, csvPath: apm.haproxy.csv, otlpPath: apm.haproxy.otlp });
    await Promise.all([nginxBackend.start(), haproxyBackend.start()]);

    const nginxPort = await freePort();
    const nginxFiles = writeNginxConfig({
      dir, port: nginxPort, backendPort: nginxBackend.port, postAction: options.postAction, ignoreClientAbort: options.ignoreClientAbort,
    });
    this.nginx = await startNginx(nginxFiles, nginxPort);
    const haproxyPort = await freePort();
    const haproxyFiles = writeHaproxyConfig({ dir, port: haproxyPort, backendPort: haproxyBackend.port, abortOnClose: options.abortOnClose });
    this.haproxy = await startHaproxy(haproxyFiles, haproxyPort);

    const targets: Target[] = [{ proxy: 'nginx', port: nginxPort }, { proxy: 'haproxy', port: haproxyPort }];
    const trafficStartMs = Date.now();
    const sent = await runTraffic(clientProfiles(options.clientTimeoutMs), targets, options.seed, options.label, options.trafficMs);
    const trafficEndMs = Date.now();
    // The backends keep working on what the clients abandoned; their exports are complete after.
    await Promise.all([nginxBackend.drain(30_000), haproxyBackend.drain(30_000)]);
    const drained = Date.now();
    await this.stop();
    return {
      options, dir, nginx: nginxFiles, haproxy: haproxyFiles, apm,
      truth: { nginx: nginxBackend.done, haproxy: haproxyBackend.done },
      sent,
      peakQueue: { nginx: nginxBackend.peakQueue, haproxy: haproxyBackend.peakQueue },
      trafficStartMs, trafficEndMs,
      seconds: { startup: (trafficStartMs - began) / 1000, traffic: (trafficEndMs - trafficStartMs) / 1000, drain: (drained - trafficEndMs) / 1000 },
    };
  }

  /** Stops the proxies (by process id) and the backends; safe to call twice. */
  async stop(): Promise<void> {
    const nginx = this.nginx;
    const haproxy = this.haproxy;
    this.nginx = this.haproxy = null;
    await Promise.all([nginx && stopNginx(nginx), haproxy && stopHaproxy(haproxy)]);
    const backends = Object.values(this.backends);
    this.backends = {};
    await Promise.all(backends.map((backend) => backend.close()));
  }

  /** Removes the run's directory unless ALF_E2E_KEEP is set (then its path is printed). */
  cleanUp(): void {
    if (process.env.ALF_E2E_KEEP) console.log(`alf e2e: kept ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One line on what a run did, for the test output. */
export function describeRun(run: ScenarioResult): string {
  const gaveUp = run.sent.filter((request) => request.outcomes.some((outcome) => outcome.gaveUp)).length;
  const { seconds } = run;
  return `alf e2e ${run.options.label}: seed ${run.options.seed}, client timeout ${run.options.clientTimeoutMs} ms, ` +
    `${run.sent.length} requests through each proxy (${gaveUp} given up by their client), ` +
    `backend work ${run.truth.nginx.length}+${run.truth.haproxy.length}, peak queue ${run.peakQueue.nginx}/${run.peakQueue.haproxy}; ` +
    `startup ${seconds.startup.toFixed(1)} s, traffic ${seconds.traffic.toFixed(1)} s, drain ${seconds.drain.toFixed(1)} s`;
}
