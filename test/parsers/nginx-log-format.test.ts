import { describe, expect, it } from 'vitest';
import { LogFormatError, parseLogFormat } from '../../parsers/nginx-log-format.js';

describe('nginx log_format reader', () => {
  it('reads a bare format string into literals and variables', () => {
    const spec = parseLogFormat('$remote_addr - [$time_local] "$request" $status');
    expect(spec.segments).toEqual([
      { variable: 'remote_addr' }, { literal: ' - [' }, { variable: 'time_local' }, { literal: '] "' },
      { variable: 'request' }, { literal: '" ' }, { variable: 'status' },
    ]);
    expect(spec.escape).toBe('default');
  });

  it('reads a whole directive pasted from nginx.conf: name, escape mode, joined quoted parts, comments', () => {
    const spec = parseLogFormat(`log_format  forensic escape=json '$msec|$status|'   # first part
                        "$request_time|\\"$http_user_agent\\"";`);
    expect(spec.name).toBe('forensic');
    expect(spec.escape).toBe('json');
    expect(spec.text).toBe('$msec|$status|$request_time|"$http_user_agent"');
  });

  it('accepts ${name} and lower-cases variable names', () => {
    const spec = parseLogFormat('${msec}ms|$Status');
    expect(spec.segments).toEqual([{ variable: 'msec' }, { literal: 'ms|' }, { variable: 'status' }]);
  });

  it('rejects formats that cannot be split: touching variables, no variables, bad escape, unterminated quote', () => {
    expect(() => parseLogFormat('$status$request_time')).toThrow(LogFormatError);
    expect(() => parseLogFormat('just text')).toThrow(/no \$variables/);
    expect(() => parseLogFormat("log_format x escape=yaml '$status';")).toThrow(/unknown escape mode/);
    expect(() => parseLogFormat("log_format x '$status;")).toThrow(/unterminated/);
  });
});
