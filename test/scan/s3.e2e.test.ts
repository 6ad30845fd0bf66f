import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forEachLimited } from '../../src/scan/pool.js';
import { albLines, scan, totalProxyRequests } from './helpers.js';
import { startS3Server, type S3Server } from './s3-server.js';

const BUCKET = 'alf-logs';
const now = Date.now();
const hourAgo = now - 3_600_000;
const day = new Date(now).toISOString().slice(0, 10).replaceAll('-', '/');
const ALB = 'AWSLogs/123456789012/elasticloadbalancing/us-east-1/';
const albKey = (n: number, endMs = now): string => {
  const end = new Date(endMs).toISOString().replace(/[-:]/g, '').slice(0, 13);
  return `${ALB}${day}/123456789012_elasticloadbalancing_us-east-1_app.prod-api.5d1e3f0a9b8c7d6e_${end}Z_10.0.3.${n % 250}_${String(n).padStart(6, '0')}.log.gz`;
};

describe('S3 sources through the AWS SDK against a local S3-compatible server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-s3-'));
  let server: S3Server;
  let client: S3Client;
  let endpoint = '';

  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_REGION = 'us-east-1';
    server = await startS3Server(join(dir, 's3'));
    endpoint = server.endpoint;
    client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  afterAll(async () => {
    await server.stop();
    // Thousands of small files take seconds to unlink: a detached rm does it after the test.
    spawn('rm', ['-rf', dir], { detached: true, stdio: 'ignore' }).unref();
  });

  const put = (key: string, body: string | Uint8Array): Promise<unknown> => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  it('lists by prefix, reads gzip and plain objects, re-reads an object whose ETag changed', async () => {
    const work = join(dir, 'small');
    await put(albKey(1), gzipSync(albLines(hourAgo, 0, 40)));
    await put(albKey(2), albLines(hourAgo + 40_000, 40, 25)); // plain, recognised by content
    await put('other/not-mine.log', albLines(hourAgo, 1000, 7));
    await put(`${ALB}2020/01/01/old.log`, albLines(Date.UTC(2020, 0, 1), 2000, 5));
    await put(`${ALB.split('/').slice(0, 2).join('/')}/ELBAccessLogTestFile`, 'Enable AccessLog for ELB: test\n');
    const url = `s3://${BUCKET}/${ALB}`;

    let summary = await scan([url], work, { endpoint, sinceMs: now - 2 * 3_600_000 });
    expect(summary.sourcesRead).toBe(2); // the 2020 partition is not even listed with --since 2h
    expect(summary.records).toBe(65);
    expect(totalProxyRequests(join(work, 'out'))).toBe(65);

    summary = await scan([url], work, { endpoint, sinceMs: now - 2 * 3_600_000 });
    expect(summary.sourcesRead).toBe(0);
    expect(summary.sourcesUnchanged).toBe(2);

    // Replaced object: new ETag, read again, and its old records no longer count.
    await put(albKey(2), albLines(hourAgo + 40_000, 40, 30));
    summary = await scan([url], work, { endpoint, sinceMs: now - 2 * 3_600_000 });
    expect(summary.sourcesRead).toBe(1);
    expect(totalProxyRequests(join(work, 'out'))).toBe(70);

    // Without --since the whole prefix is listed, old partition included.
    summary = await scan([url], work, { endpoint });
    expect(summary.sourcesRead).toBe(1);
    expect(totalProxyRequests(join(work, 'out'))).toBe(75);
  }, 60_000);

  it('scans a bucket of 2000 small objects with bounded memory', async () => {
    const work = join(dir, 'many');
    const prefix = 'many/';
    const keys = Array.from({ length: 2000 }, (_, n) => n);
    const uploadStart = performance.now();
    await forEachLimited(keys, 32, async (n) => {
      await put(`${prefix}${String(n).padStart(5, '0')}.log.gz`, gzipSync(albLines(hourAgo + n * 1000, n * 3, 3, 300)));
    });
    console.log(`uploaded 2000 objects in ${((performance.now() - uploadStart) / 1000).toFixed(1)} s`);
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    const timer = setInterval(() => { peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed); }, 20);
    const started = performance.now();
    const summary = await scan([`s3://${BUCKET}/${prefix}`], work, { endpoint, concurrency: 16 });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    expect(summary.sourcesRead).toBe(2000);
    expect(totalProxyRequests(join(work, 'out'))).toBe(6000);
    const again = await scan([`s3://${BUCKET}/${prefix}`], work, { endpoint });
    expect(again.sourcesUnchanged).toBe(2000);
    expect(again.records).toBe(0);
    console.log(`2000 objects: ${seconds.toFixed(1)} s (${(2000 / seconds).toFixed(0)} objects/s read; listing ${again.seconds.list} s = ${(2000 / Math.max(again.seconds.list, 0.001)).toFixed(0)} keys/s), ` +
      `heap growth peak ${((peakHeap - heapBefore) / 1e6).toFixed(1)} MB; phases ${JSON.stringify(summary.seconds)}`);
    expect(peakHeap - heapBefore).toBeLessThan(200e6);
  }, 240_000);
});
