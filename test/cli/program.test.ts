import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { FAIL_ON } from '../../src/cli/shared-options.js';
import { UsageError } from '../../src/model/errors.js';

/**
 * Commander parses each option's value as it reads argv (src/cli/shared-options.ts): a command's
 * action receives durations in ms, numbers and budgets, and a bad value is a usage error before
 * any work. Checked on the program itself, in-process.
 */

function command(name: string): Command {
  const found = buildProgram(() => {}).commands.find((c) => c.name() === name);
  if (found === undefined) throw new Error(`no command ${name}`);
  return found;
}

function options(name: string, argv: string[]): Record<string, unknown> {
  const cmd = command(name);
  cmd.parseOptions(argv);
  return cmd.opts();
}

describe('the CLI\'s options, parsed by commander', () => {
  it('gives analyze durations in ms, numbers, the budget and the jobs as values', () => {
    expect(options('analyze', ['--max-skew', '2s', '--horizon', '90s', '--clock-offset', '-350ms', '--min-confidence', '0.7', '--jobs', 'auto', '--budget', '600s/5m', '--fail-on', 'high']))
      .toMatchObject({ maxSkew: 2_000, horizon: 90_000, clockOffset: -350, minConfidence: 0.7, jobs: 'auto', budget: { allowanceMs: 600_000, windowMs: 300_000, text: '600s/5m' }, failOn: 'high' });
    expect(options('analyze', ['--jobs', '4']).jobs).toBe(4);
  });

  it('gives scan its window, lock wait and retention in ms, a lock wait of 0s as 0', () => {
    expect(options('scan', ['--window', '30m', '--lock-wait', '2m', '--retain', '30d']))
      .toMatchObject({ window: 1_800_000, lockWait: 120_000, retain: 30 * 86_400_000 });
    expect(options('scan', ['--lock-wait', '0s']).lockWait).toBe(0);
    expect(options('scan', []).retain).toBeUndefined();
  });

  it('gives the defaults as values too, and shows them in --help as written', () => {
    expect(options('analyze', [])).toMatchObject({ maxSkew: 30_000, horizon: 65_000, minConfidence: 0.5, jobs: 1, failOn: 'never' });
    expect(options('scan', [])).toMatchObject({ s3Timeout: 30_000, failOn: 'never', window: 3_600_000, lockWait: 0 });
    // Unset: 2 local files, 8 S3 objects at once (src/scan/run-scan.ts).
    expect(options('scan', []).concurrency).toBeUndefined();
    const scanHelp = command('scan').helpInformation();
    expect(scanHelp).toMatch(/--window <duration>[^]*?\(default: 1h\)/);
    expect(scanHelp).toMatch(/--lock-wait <duration>[^]*?\(default: 0s\)/);
    const help = command('analyze').helpInformation();
    expect(help).toContain('(default: 30s)');
    expect(help).toContain('(default: 65s)');
  });

  it('refuses a bad value as a usage error naming the option', () => {
    const refused = (name: string, argv: string[]): unknown => {
      try {
        options(name, argv);
      } catch (error) {
        return error;
      }
      return null;
    };
    for (const [name, argv, message] of [
      ['analyze', ['--max-skew', '5x'], /^--max-skew: "5x" is not a duration/],
      ['analyze', ['--clock-offset', '-x'], /^--clock-offset: "x" is not a duration/],
      ['analyze', ['--min-confidence', '1.5'], /^--min-confidence must be between 0 and 1, not "1.5"$/],
      ['analyze', ['--jobs', '0'], /^--jobs must be auto or a whole number from 1 to 64, not "0"$/],
      ['analyze', ['--budget', '600s'], /^--budget: "600s" should look like 600s\/5m/],
      ['scan', ['--concurrency', '0'], /^--concurrency must be an integer from 1 to 256, not "0"$/],
      ['scan', ['--timezone', 'Mars/Olympus'], /^--timezone "Mars\/Olympus": not a time zone/],
      ['analyze', ['--timezone', '+25:00'], /^--timezone "\+25:00": not a time zone/],
      ['scan', ['--window', '90s'], /^--window must be whole minutes, not "90s"$/],
      ['scan', ['--window', 'hourly'], /^--window: "hourly" is not a duration \(examples: 5m, 1h, 1d\)$/],
      ['scan', ['--lock-wait', 'soon'], /^--lock-wait: "soon" is not a duration/],
      ['scan', ['--retain', '0d'], /^--retain: must be greater than zero/],
      ['merge', ['--budget', '10/5m'], /^--budget allowance: "10" is not a duration/],
    ] as const) {
      const error = refused(name, [...argv]);
      expect(error, `${name} ${argv.join(' ')}`).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('declares --fail-on, --budget and --key-field once for analyze, scan and merge', () => {
    for (const name of ['analyze', 'scan', 'merge']) {
      const declared = command(name).options;
      expect(declared.find((option) => option.long === '--fail-on')?.argChoices, name).toEqual([...FAIL_ON]);
      expect(declared.some((option) => option.long === '--budget'), name).toBe(true);
      expect(declared.some((option) => option.long === '--key-field'), name).toBe(true);
    }
    // --timezone: the same builder for the two commands that parse logs (merge replays parsed records).
    expect(options('scan', ['--timezone', 'Europe/Paris']).timezone).toBe('Europe/Paris');
    expect(options('analyze', ['--timezone', '+01:00']).timezone).toBe('+01:00');
    expect(command('merge').options.some((option) => option.long === '--timezone')).toBe(false);
    expect(() => options('merge', ['--fail-on', 'severe'])).toThrow(/Allowed choices are never, info, low, medium, high, critical/);
  });
});
