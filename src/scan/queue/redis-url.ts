import { UsageError } from '../../model/errors.js';

/**
 * `--queue redis://[user:password@]host:port[/db]` (or `rediss://` for TLS) as the options
 * ioredis takes. Checked before any work, so a typo is a one-line exit 2, not a hang.
 */
export interface RedisConnection {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
}

export function parseQueueUrl(text: string): RedisConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--queue must be redis://host:port[/db], not "${text}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--queue must be redis://host:port[/db] or rediss://, not "${text}"`);
  if (url.hostname === '') throw new UsageError(`--queue "${text}" names no host`);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!(Number.isInteger(db) && db >= 0 && db <= 15) || !/^\d*$/.test(dbText)) throw new UsageError(`--queue "${text}": the database must be a number from 0 to 15`);
  const connection: RedisConnection = { host: url.hostname.replace(/^\[|\]$/g, ''), port, db };
  if (url.username !== '') connection.username = decodeURIComponent(url.username);
  if (url.password !== '') connection.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') connection.tls = {};
  return connection;
}
