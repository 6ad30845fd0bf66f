import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../src/scan/pool.js';
import { quietLine, runAlf, type CliRun } from './cli.js';
import { albLines, totalProxyRequests } from './helpers.js';
import { startS3Server, type S3Server } from './s3-server.js';

const BUCKET = 'alf-night';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
const t0 = Date.UTC(2025, 0, 15, 14);

/** Spool segment files written so far (committed or not): the scan's progress, seen from outside. */
function segmentCount(out: string): number {
  const spool = join(out, 'spool');
  if (!existsSync(spool)) return 0;
  return readdirSync(spool).filter((w) => !w.startsWith('.')).reduce((n, w) => n + readdirSync(join(spool, w)).length, 0);
}

/** Resolves once `condition` holds, polling; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

/** One line on stderr, no stack, exit 2 (and with --quiet that line is the JSON line). */
function expectOneLineFailure(run: CliRun, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/bug in alf|\n\s+at /);
  expect(run.stderr).toMatch(pattern);
}

// An operator's bad night on S3: the server dies or freezes mid-scan, the bucket or the
// credentials are wrong. Each is exit 2 with the object or bucket named, in bounded time.
describe('S3 failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-s3-night-'));
  let server: S3Server;
  let client: S3Client;
  const OBJECTS = 150;
  const LINES = 40;

  beforeAll(async () => {
    Object.assign(process.env, CREDENTIALS);
    server = await startS3Server(join(dir, 's3'));
    client = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1' });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await forEachLimited(Array.from({ length: OBJECTS }, (_, n) => n), 16, async (n) => {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `logs/${String(n).padStart(4, '0')}.log.gz`, Body: gzipSync(albLines(t0 + n * 20_000, n * LINES, LINES, 400)) }));
    });
  }, 120_000);
  afterAll(async () => {
    await server.stop();
    spawn('rm', ['-rf', dir], { detached: true, stdio: 'ignore' }).unref();
  });

  const scanArgs = (name: string, endpoint: string, extra: string[] = []): string[] =>
    ['scan', `s3://${BUCKET}/logs/`, '--endpoint', endpoint, '--state', join(dir, `${name}.json`), '--out', join(dir, name), '--quiet', '--concurrency', '2', ...extra];

  it('a server killed mid-scan: exit 2 naming what failed; the next run reads the rest, every request once', async () => {
    const out = join(dir, 'killed');
    const run = runAlf(scanArgs('killed', server.endpoint, ['--s3-timeout', '2s']), {
      env: CREDENTIALS,
      started: () => {
        void until(() => segmentCount(out) >= 10, 60_000).then(() => process.kill(server.pid, 'SIGKILL'));
      },
    });
    const first = await run;
    expect(first.code, first.stderr).toBe(2);
    const line = quietLine(first);
    expect(line.sourcesFailed).toBeGreaterThan(0);
    expect(line.sourcesRead).toBeLessThan(OBJECTS);
    expect(JSON.stringify(line.failures)).toMatch(/s3:\/\/alf-night\/logs\//);
    const readFirst = line.sourcesRead as number;

    server = await startS3Server(join(dir, 's3'));
    const second = await runAlf(scanArgs('killed', server.endpoint), { env: CREDENTIALS });
    expect(second.code, second.stderr).toBe(0);
    expect(quietLine(second).sourcesRead).toBe(OBJECTS - readFirst);
    expect(totalProxyRequests(out)).toBe(OBJECTS * LINES);
  }, 180_000);

  it('a server that stops answering (SIGSTOP) fails the run in bounded time with --s3-timeout', async () => {
    const out = join(dir, 'stopped');
    let stoppedAt = 0;
    const first = await runAlf(scanArgs('stopped', server.endpoint, ['--s3-timeout', '1s']), {
      env: CREDENTIALS,
      started: () => {
        void until(() => segmentCount(out) >= 10, 60_000).then(() => {
          process.kill(server.pid, 'SIGSTOP');
          stoppedAt = performance.now();
        });
      },
    });
    const afterStop = (performance.now() - stoppedAt) / 1000;
    process.kill(server.pid, 'SIGCONT');
    console.log(`SIGSTOP mid-scan: exit ${first.code} ${afterStop.toFixed(1)} s after the stop; ${first.stderr.trim().slice(0, 300)}`);
    expect(first.code).toBe(2);
    // Three tries of 1 s each, backoff, start-up of the process: far from a hang.
    expect(afterStop).toBeLessThan(30);
    expect(JSON.stringify(quietLine(first).failures)).toMatch(/stopped answering.*TimeoutError|TimeoutError/);

    // Stopped before the listing: the listing itself times out.
    process.kill(server.pid, 'SIGSTOP');
    const listing = await runAlf(scanArgs('stopped-list', server.endpoint, ['--s3-timeout', '1s']), { env: CREDENTIALS });
    process.kill(server.pid, 'SIGCONT');
    console.log(`SIGSTOP before listing: exit ${listing.code} in ${listing.seconds.toFixed(1)} s`);
    expectOneLineFailure(listing, /listing failed: TimeoutError/);
    expect(listing.seconds).toBeLessThan(30);

    const again = await runAlf(scanArgs('stopped', server.endpoint), { env: CREDENTIALS });
    expect(again.code, again.stderr).toBe(0);
    expect(totalProxyRequests(out)).toBe(OBJECTS * LINES);
  }, 180_000);

  it('refused connection, missing bucket, unknown key id and missing credentials: one line, exit 2, naming the bucket', async () => {
    const refused = await runAlf(scanArgs('refused', 'http://127.0.0.1:9', ['--s3-timeout', '1s']), { env: CREDENTIALS });
    expectOneLineFailure(refused, /s3:\/\/alf-night\/logs\/.*listing failed:.*(ECONNREFUSED|connection refused)/);
    expect(quietLine(refused).exitCode).toBe(2);

    const bucket = await runAlf(['scan', 's3://no-such-bucket/x/', '--endpoint', server.endpoint, '--state', join(dir, 'nb.json'), '--out', join(dir, 'nb'), '--quiet'], { env: CREDENTIALS });
    expectOneLineFailure(bucket, /s3:\/\/no-such-bucket\/x\/.*NoSuchBucket/);

    const key = await runAlf(scanArgs('badkey', server.endpoint), { env: { ...CREDENTIALS, AWS_ACCESS_KEY_ID: 'NOT-A-KEY' } });
    expectOneLineFailure(key, /InvalidAccessKeyId/);
    expect(key.stderr).not.toContain('S3RVER'); // the secret never appears

    const home = mkdtempSync(join(tmpdir(), 'alf-home-'));
    const none = await runAlf(scanArgs('nocreds', server.endpoint), {
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined, HOME: home,
        AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'), AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'us-east-1' },
    });
    expectOneLineFailure(none, /credentials/i);
  }, 120_000);
});
