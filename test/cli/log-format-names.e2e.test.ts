import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/pipeline/analysis.js';
import { freePort, startProcess, stopProcess, waitUntil, type Managed } from '../e2e/processes.js';
import { runCli } from './run-cli.js';
import { nginxConfHead } from '../e2e/nginx-config.js';

/**
 * `--log-format combined` and `--log-format main` read what a real nginx writes under those names:
 * `access_log FILE;` (nginx's built-in combined) and `access_log FILE main;` with the `main`
 * directive of the nginx.conf that nginx.org's packages and Docker image ship.
 */

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const MAIN = `log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';`;

function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!NGINX)('nginx\'s own format names', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-names-'));
  let nginx: Managed;
  const requests = 6;

  beforeAll(async () => {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `${nginxConfHead(dir)}
  ${MAIN}
  server {
    listen 127.0.0.1:${port};
    access_log ${join(dir, 'combined.log')};
    access_log ${join(dir, 'main.log')} main;
    location / { return 404; }
    location = /ok { return 200 "ok"; }
  }
}
`);
    nginx = startProcess('nginx', NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf')]);
    await waitUntil('nginx to answer', async () => (await get(port, '/ok', {}).catch(() => 0)) === 200);
    for (let i = 1; i < requests; i++) {
      await get(port, i % 2 === 0 ? '/ok' : `/missing/${i}`, { 'user-agent': `curl/8.${i}.0 "quoted"`, 'x-forwarded-for': `203.0.113.${i}` });
    }
    await stopProcess(nginx, 'SIGQUIT');
  });

  afterAll(async () => {
    if (nginx) await stopProcess(nginx, 'SIGKILL');
  });

  for (const name of ['combined', 'main']) {
    it(`reads nginx's ${name} log with --log-format ${name}, every line parsed`, () => {
      const log = join(dir, `${name}.log`);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(requests);
      const result = runCli(['analyze', log, '--log-format', name, '--format', 'json', '-q']);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const file = (JSON.parse(result.stdout) as Analysis).inputs.files[0]!;
      expect(file).toMatchObject({ format: 'nginx', linesRead: requests, records: requests, skipped: 0 });
    });
  }
});
