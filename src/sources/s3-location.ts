import { UsageError } from '../model/errors.js';

/**
 * S3 locations by name, apart from the SDK that reads them (s3-source.ts): a scan of local files
 * tells its sources apart without loading the AWS SDK, ~0.1 s of CPU at start-up.
 */

export interface S3Location {
  bucket: string;
  prefix: string;
}

export interface S3ObjectInfo {
  bucket: string;
  key: string;
  etag: string;
  size: number;
  lastModifiedMs: number;
}

export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match || match[1]!.length < 3) throw new UsageError(`not an S3 location: "${url}" (expected s3://bucket/prefix/)`);
  return { bucket: match[1]!, prefix: match[2]! };
}
