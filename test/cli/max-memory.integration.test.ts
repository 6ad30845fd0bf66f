import { describe, expect, it } from 'vitest';
import { takeMaxMemory } from '../../src/cli/max-memory.js';
import { UsageError } from '../../src/model/errors.js';
import { runCli } from './run-cli.js';

describe('--max-memory', () => {
  it('is taken out of the command line wherever it stands, in both spellings', () => {
    expect(takeMaxMemory(['node', 'alf', 'analyze', '--max-memory', '256', 'x.log'])).toEqual({ argv: ['node', 'alf', 'analyze', 'x.log'], megabytes: 256 });
    expect(takeMaxMemory(['node', 'alf', '--max-memory=128', 'scan'])).toEqual({ argv: ['node', 'alf', 'scan'], megabytes: 128 });
    expect(takeMaxMemory(['node', 'alf', 'analyze'])).toEqual({ argv: ['node', 'alf', 'analyze'], megabytes: null });
  });

  it('refuses a value that is not a sensible number of megabytes', () => {
    expect(() => takeMaxMemory(['node', 'alf', '--max-memory', 'lots'])).toThrow(UsageError);
    expect(() => takeMaxMemory(['node', 'alf', '--max-memory', '8'])).toThrow(/at least 64/);
    expect(() => takeMaxMemory(['node', 'alf', '--max-memory'])).toThrow(UsageError);
  });

  it('runs the same analysis under a capped heap, with the same findings and exit code', { timeout: 60_000 }, () => {
    const args = ['analyze', 'samples/incident', '--budget', '600s/5m', '--format', 'json', '-q', '--fail-on', 'high'];
    const plain = runCli(args);
    const capped = runCli([...args, '--max-memory', '96']);
    expect(capped.status).toBe(1);
    expect(capped.status).toBe(plain.status);
    const findings = (stdout: string) => (JSON.parse(stdout) as { findings: unknown[] }).findings;
    expect(findings(capped.stdout)).toEqual(findings(plain.stdout));
  });
});
