import { describe, expect, it } from 'vitest';
import { rotationBase } from '../../src/sources/glob.js';

// `--shard i/n` keeps every rotation of a log in one shard: a log whose rotations hashed apart was
// read once as itself and again, after it rotated, by the other shard.
describe('rotationBase: every name logrotate gives a log maps to the log', () => {
  it.each([
    ['/var/log/nginx/access.log', '/var/log/nginx/access.log'],
    ['/var/log/nginx/access.log.1', '/var/log/nginx/access.log'],
    ['/var/log/nginx/access.log.2.gz', '/var/log/nginx/access.log'],
    ['/var/log/nginx/access.log-20250115', '/var/log/nginx/access.log'],
    ['/var/log/nginx/access.log-2025011504.gz', '/var/log/nginx/access.log'],
    ['/var/log/nginx/access.log-2025-01-15.xz', '/var/log/nginx/access.log'],
    // `extension .log`: the count or date goes before the extension, compression after it.
    ['/var/log/app/web.1.log', '/var/log/app/web.log'],
    ['/var/log/app/web.2.log.gz', '/var/log/app/web.log'],
    ['/var/log/app/web-20250115.log.bz2', '/var/log/app/web.log'],
    ['/var/log/app/haproxy.1.log', '/var/log/app/haproxy.log'],
  ])('%s → %s', (path, base) => {
    expect(rotationBase(path)).toBe(base);
  });

  it('leaves other logs apart', () => {
    expect(new Set(['/l/access.log', '/l/error.log', '/l/api.log', '/l/2025-01-15.log'].map(rotationBase)).size).toBe(4);
  });
});
