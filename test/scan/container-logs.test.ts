import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { albLine, scan, windowReports } from './helpers.js';

/**
 * `alf scan` over a Kubernetes node's pod logs: every line in the CRI wrapper the container
 * runtime writes (src/lines/container-log.ts), read again from where the last run stopped.
 */
const cri = (endMs: number, i: number): string => `${new Date(endMs).toISOString().replace('Z', '123456Z')} stdout F ${albLine(endMs, i)}\n`;
const START = Date.parse('2025-01-15T10:00:30Z');

describe('scan of container runtime logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-scan-cri-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the wrapped lines, says the wrapper in each window report, and resumes mid-file', async () => {
    const logs = join(dir, 'pods');
    mkdirSync(logs);
    const file = join(logs, '0.log');
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => cri(START + i * 1000, i)).join(''));
    const first = await scan([logs], dir);
    expect(first.records).toBe(30);
    expect(first.skippedLines).toBe(0);
    // The runtime appends; a later run reads only the new lines, still unwrapping them.
    appendFileSync(file, Array.from({ length: 10 }, (_, i) => cri(START + (30 + i) * 1000, 30 + i)).join(''));
    const second = await scan([logs], dir);
    expect(second.records).toBe(10);
    expect(second.skippedLines).toBe(0);
    const reports = [...windowReports(join(dir, 'out')).values()] as unknown as { inputs: { files: { format: string; container?: string; records: number }[] } }[];
    expect([...windowReports(join(dir, 'out')).keys()]).toEqual(['alf-20250115T1000Z.json']);
    expect(reports[0]!.inputs.files.map((f) => [f.format, f.container])).toEqual([['aws-alb', 'cri']]);
    expect(reports[0]!.inputs.files.reduce((sum, f) => sum + f.records, 0)).toBe(40);
    expect(readFileSync(join(dir, 'out', 'index.html'), 'utf8')).toContain('alf-20250115T1000Z');
  });
});
