import { describe, expect, it } from 'vitest';
import { emptyFileStats, formatLabel } from '../../src/model/file-stats.js';

describe('formatLabel', () => {
  it('names the wrapper a file came in, and a time prefix as what writes one (docker logs, a CloudWatch Logs export)', () => {
    const stats = { ...emptyFileStats('x.log'), format: 'aws-api-gateway-json' };
    expect(formatLabel(stats)).toBe('aws-api-gateway-json');
    expect(formatLabel({ ...stats, container: 'cri' })).toBe('aws-api-gateway-json in CRI container log lines');
    // A CloudWatch Logs export puts the same RFC 3339 time before each event: it was called "docker logs" alone.
    expect(formatLabel({ ...stats, container: 'timestamps' })).toBe('aws-api-gateway-json in time-prefixed (`docker logs --timestamps`, a CloudWatch Logs export) lines');
    expect(formatLabel({ ...emptyFileStats('y.log') })).toBeNull();
  });
});
