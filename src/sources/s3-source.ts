import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import type { S3Location, S3ObjectInfo } from './s3-location.js';
import type { Source } from './sources.js';

/**
 * S3 (and S3-compatible stores) as sources, through the AWS SDK v3. Credentials come from the
 * SDK's standard chain (environment, profile, instance or pod role) and are never printed.
 * An endpoint (`--endpoint` or AWS_ENDPOINT_URL) means an S3-compatible store: those rarely
 * serve virtual-host buckets, so path-style addressing is used there.
 */

/** `--s3-timeout`'s default: connect, and silence on an open connection (S3 answers in well under a second). */
export const DEFAULT_S3_TIMEOUT_MS = 30_000;
/** Tries of each request (the SDK's standard retry: exponential backoff with jitter, transient errors only). */
export const S3_MAX_ATTEMPTS = 3;

/**
 * The SDK's defaults have no timeout at all: an endpoint that accepts connections and then stops
 * answering (a stopped server, a black-holed route) hangs a read forever, and a scheduled scan
 * with it. Here a connection must be made within `timeoutMs`, and a connection silent for
 * `timeoutMs` (before the response or in the middle of a body) fails the request; each request
 * is tried S3_MAX_ATTEMPTS times with backoff, so a stuck endpoint fails a request in about
 * 3 × timeout.
 */
export function createS3Client(endpoint: string | undefined, timeoutMs: number = DEFAULT_S3_TIMEOUT_MS): S3Client {
  // The SDK warns on Node < 22 about its future releases: not actionable at run time, and its
  // multi-line text would break `--quiet`'s one JSON line per run. Set to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const url = endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(url ? { endpoint: url, forcePathStyle: true } : {}),
    maxAttempts: S3_MAX_ATTEMPTS,
    retryMode: 'standard',
    // The SDK builds its NodeHttpHandler from these options.
    requestHandler: { connectionTimeout: timeoutMs, socketTimeout: timeoutMs },
  });
}

/**
 * An error that says the endpoint itself is unreachable or failing (not one object): the rest of
 * its objects would fail alike. The SDK has already retried these (docs/scheduled-scans.md, "S3
 * requests through the AWS SDK for JavaScript v3").
 */
export function isEndpointFailure(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (e === null || typeof e !== 'object') return false;
  if (e.name === 'TimeoutError') return true;
  if (typeof e.code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(e.code)) return true;
  return (e.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** One page at a time: memory holds a page (1000 keys), never the whole listing. */
async function* listPages(client: S3Client, bucket: string, prefix: string, delimiter?: string): AsyncGenerator<{ objects: S3ObjectInfo[]; prefixes: string[] }> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, Delimiter: delimiter }));
    const objects = (page.Contents ?? []).map((o) => ({
      bucket, key: o.Key ?? '', etag: o.ETag ?? '', size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0,
    }));
    yield { objects, prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '') };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

// ALB/ELB: [prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy>/<mm>/<dd>/<file>
const ALB_REGION_LEVEL = /(?:^|\/)AWSLogs\/[^/]+\/elasticloadbalancing\/[^/]+\/$/;
const ALB_ABOVE_REGION = /(?:^|\/)AWSLogs\/(?:[^/]+\/(?:elasticloadbalancing\/)?)?$/;
/** ALB and classic ELB file names carry the end of the 5-minute span they cover. */
const ALB_END_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_/;

export function albEndTimeMs(key: string): number | null {
  const match = ALB_END_TIME.exec(key);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
}

function dayPrefixes(base: string, fromMs: number, toMs: number): string[] {
  const out: string[] = [];
  const day = 86_400_000;
  for (let t = Math.floor(fromMs / day) * day; t <= toMs; t += day) {
    const iso = new Date(t).toISOString();
    out.push(`${base}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/`);
  }
  return out;
}

/**
 * The prefixes worth listing. Without --since, the given prefix. With it, the ALB layout is
 * walked down to each region and only the date partitions from the since-day to today are
 * listed (the date is the delivery date, which is never before the requests it holds).
 */
async function* partitionPrefixes(client: S3Client, bucket: string, prefix: string, sinceMs: number | null, nowMs: number, depth = 0): AsyncGenerator<string> {
  if (sinceMs === null) {
    yield prefix;
    return;
  }
  if (ALB_REGION_LEVEL.test(prefix)) {
    yield* dayPrefixes(prefix, sinceMs, nowMs);
    return;
  }
  // Walk down only where an ALB layout can still start: the given prefix, AWSLogs/, account, service.
  if (depth > 4 || (depth > 0 && !ALB_ABOVE_REGION.test(prefix) && !prefix.endsWith('AWSLogs/'))) {
    yield prefix;
    return;
  }
  const children: string[] = [];
  let hasObjects = false;
  for await (const page of listPages(client, bucket, prefix, '/')) {
    children.push(...page.prefixes);
    if (page.objects.length > 0) hasObjects = true;
  }
  if (hasObjects) {
    // Loose objects beside partitions: list this level whole rather than miss them.
    yield prefix;
    return;
  }
  for (const child of children) yield* partitionPrefixes(client, bucket, child, sinceMs, nowMs, depth + 1);
}

/** Objects under an s3:// location, page by page; with `sinceMs`, only those that may hold newer requests. */
export async function* listObjects(client: S3Client, location: S3Location, sinceMs: number | null, nowMs: number): AsyncGenerator<S3ObjectInfo[]> {
  for await (const prefix of partitionPrefixes(client, location.bucket, location.prefix, sinceMs, nowMs)) {
    for await (const page of listPages(client, location.bucket, prefix)) {
      yield page.objects.filter((o) => keep(o, sinceMs));
    }
  }
}

function keep(object: S3ObjectInfo, sinceMs: number | null): boolean {
  if (object.key.endsWith('/') || object.key.endsWith('ELBAccessLogTestFile')) return false;
  if (sinceMs === null) return true;
  const endMs = albEndTimeMs(object.key);
  return endMs !== null ? endMs >= sinceMs : object.lastModifiedMs >= sinceMs;
}

/**
 * One object as a Source. The read is conditional on the listed ETag, so a version replaced
 * between listing and reading fails (412) instead of being recorded under the wrong ETag.
 */
export function s3ObjectSource(client: S3Client, object: S3ObjectInfo): Source {
  return {
    name: `s3://${object.bucket}/${object.key}`,
    // An object of a listed prefix (Source.listed).
    listed: true,
    open(): Readable {
      const out = new PassThrough({ highWaterMark: 256 * 1024 });
      client.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key, IfMatch: object.etag || undefined })).then(
        (response) => {
          const body = response.Body as Readable | undefined;
          if (!body) {
            out.end();
            return;
          }
          body.on('error', (error) => out.destroy(error));
          body.pipe(out);
        },
        (error: unknown) => out.destroy(error as Error),
      );
      return out;
    },
  };
}
