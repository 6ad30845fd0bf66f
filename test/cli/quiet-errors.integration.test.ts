import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * `alf scan --quiet` and `alf merge --quiet` promise log shippers one JSON line per run: a bad
 * argument, caught by commander before the command runs, is that line too, and nothing else.
 */
describe('argument errors under --quiet', () => {
  const cases: [string, string[], RegExp][] = [
    ['a bad --window value (an option parser)', ['scan', '/nonexistent', '--state', '/tmp/alf-quiet.json', '--window', '7q', '--quiet'], /--window: "7q" is not a duration/],
    ['a missing argument (commander itself)', ['scan', '--quiet'], /missing required argument 'sources'/],
    ['an unknown option to merge', ['merge', '-q', '--bogus'], /unknown option '--bogus'/],
  ];

  it.each(cases)('%s: exit 2 and one JSON line naming the error', (_what, args, said) => {
    const run = runCli(args);
    expect(run.status).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { alf: string; error: string; exitCode: number };
    expect(line).toMatchObject({ alf: args[0], exitCode: 2 });
    expect(line.error).toMatch(said);
  });

  it('without --quiet the same error is one plain line for people', () => {
    const run = runCli(['scan', '/nonexistent', '--state', '/tmp/alf-quiet.json', '--window', '7q']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^alf: --window: "7q" is not a duration/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
