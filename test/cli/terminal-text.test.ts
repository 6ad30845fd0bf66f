import { describe, expect, it } from 'vitest';
import { paintSeverity, terminalSafe, useColor } from '../../src/cli/terminal-text.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('terminal output', () => {
  it('colours only on a terminal, and never when NO_COLOR is set to anything', () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(pipe, {})).toBe(false);
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('paints severities of alf\'s own summary, and leaves text alone without colour', () => {
    expect(paintSeverity('high', '2 high', true)).toBe('\u001b[31m2 high\u001b[0m');
    expect(paintSeverity('info', '3 info', true)).toBe('3 info');
    expect(paintSeverity('high', '2 high', false)).toBe('2 high');
  });

  it('replaces escape sequences and bidi overrides from logs', () => {
    expect(terminalSafe('a\u001b[2Jb\u202Ec')).toBe('a\uFFFD[2Jb\uFFFDc');
  });
});
