import { describe, expect, it } from 'vitest';
import { isInteractive, paintSeverity, terminalSafe, useColor } from '../../src/cli/terminal-text.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('terminal output', () => {
  it('colours only on a terminal, and never when NO_COLOR is set to anything', () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(pipe, {})).toBe(false);
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true);
  });

  it('takes FORCE_COLOR first, as Node does: 0 and false turn colour off, anything else on, even in a pipe', () => {
    expect(useColor(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColor(tty, { FORCE_COLOR: 'false' })).toBe(false);
    expect(useColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(useColor(tty, { FORCE_COLOR: '3', NO_COLOR: '1' })).toBe(true);
  });

  it('gives a dumb terminal neither colour nor a redrawn progress line', () => {
    expect(useColor(tty, { TERM: 'dumb' })).toBe(false);
    expect(isInteractive(tty, { TERM: 'dumb' })).toBe(false);
    expect(isInteractive(tty, { TERM: 'xterm-256color' })).toBe(true);
    expect(isInteractive(pipe, {})).toBe(false);
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
