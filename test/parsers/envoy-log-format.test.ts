import { describe, expect, it } from 'vitest';
import { envoy, envoyFormat } from '../../parsers/envoy.js';
import { compileEnvoyLogFormat, envoyFormatString, EnvoyLogFormatError, parseEnvoyLogFormat } from '../../parsers/envoy-log-format.js';
import { compileLogFormat } from '../../src/parse/workers/worker-formats.js';
import { onlyProxy, parseLines } from './parse-lines.js';

/** Envoy's default format string (its access-log documentation). */
const DEFAULT_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/**
 * Envoy's `ingress_full` and `ingress_sampled_log` templates (envoyproxy/envoy
 * configs/access_log_format_helper.template.yaml, Apache-2.0): the default without
 * %UPSTREAM_HOST%, the sampled one cutting paths at 256 characters.
 */
const INGRESS_SAMPLED_YAML = 'log_format: {text_format_source: {inline_string: "[%START_TIME%] \\"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH):256% %PROTOCOL%\\" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \\"%REQ(X-FORWARDED-FOR)%\\" \\"%REQ(USER-AGENT)%\\" \\"%REQ(X-REQUEST-ID)%\\" \\"%REQ(:AUTHORITY)%\\"\\n"}}';

describe('an Envoy format string', () => {
  it('is text and command operators; a command keeps its argument (headers in upper case) and drops its length limit', () => {
    expect(parseEnvoyLogFormat('[%START_TIME(%s.%3f)%] %REQ(user-agent):64% 100% %RESPONSE_CODE%')).toEqual([
      { kind: 'text', text: '[' }, { kind: 'value', name: 'START_TIME(%s.%3f)', quoted: false }, { kind: 'text', text: '] ' },
      { kind: 'value', name: 'REQ(USER-AGENT)', quoted: false }, { kind: 'text', text: ' 100% ' }, { kind: 'value', name: 'RESPONSE_CODE', quoted: false },
    ]);
  });

  it('comes out of an Envoy YAML configuration line as YAML unquotes it', () => {
    const format = envoyFormatString(`access_log:\n- name: envoy.access_loggers.stdout\n  typed_config:\n    ${INGRESS_SAMPLED_YAML}\n`);
    expect(format.startsWith('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH):256% %PROTOCOL%" %RESPONSE_CODE%')).toBe(true);
    expect(format.endsWith('"%REQ(:AUTHORITY)%"\n')).toBe(true);
  });

  it('is refused without %START_TIME% or %RESPONSE_CODE%', () => {
    expect(() => compileEnvoyLogFormat('%RESPONSE_CODE% %DURATION%')).toThrow(EnvoyLogFormatError);
    expect(() => compileEnvoyLogFormat('[%START_TIME%] %DURATION%')).toThrow(/RESPONSE_CODE/);
  });

  it('is what --log-format compiles an Envoy string (or YAML) into, not an Apache or nginx format', () => {
    expect(compileLogFormat(DEFAULT_FORMAT).id).toBe('envoy');
    expect(compileLogFormat(INGRESS_SAMPLED_YAML).id).toBe('envoy');
  });
});

describe('envoy with the operator\'s format string', () => {
  it('reads the default format\'s real lines as the built-in reader of that layout does', () => {
    const given = envoyFormat(DEFAULT_FORMAT);
    // The samples in the default layout: Envoy's documentation's and Datadog's pipeline test's (the others add words).
    const lines = envoy.realSamples!.filter((sample) => ['envoyproxy/envoy', 'DataDog/integrations-core'].includes(sample.source.project)).flatMap((sample) => sample.lines);
    const builtIn = parseLines(envoy, lines);
    const compiled = parseLines(given, lines);
    expect(compiled.issues).toEqual([]);
    expect(compiled.records.length).toBeGreaterThanOrEqual(2);
    expect(compiled.records).toEqual(builtIn.records);
  });

  it('reads Envoy\'s own ingress template, which has no %UPSTREAM_HOST% (no default layout has 12 fields)', () => {
    const line = '[2024-07-20T07:05:54.173Z] "GET /orders/17?page=2 HTTP/1.1" 504 UT 0 24 4497 - "198.51.100.7" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "api.example.com"';
    expect(parseLines(envoy, [line]).records).toEqual([]);
    expect(onlyProxy(compileLogFormat(INGRESS_SAMPLED_YAML), line)).toMatchObject({
      startMs: Date.parse('2024-07-20T07:05:54.173Z'), requestTimeMs: 4497, status: 504, flags: 'UT', method: 'GET', path: '/orders/17', query: 'page=2',
      clientIp: '198.51.100.7', userAgent: 'curl/8.4.0', host: 'api.example.com', upstreamStatus: null, upstreamLogged: true,
    });
  });

  it('reads an operator\'s layout: epoch start time, the client\'s address without port, an API key header and a user agent with spaces last', () => {
    const format = envoyFormat('%START_TIME(%s.%3f)% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% %UPSTREAM_HOST% key=%REQ(X-API-KEY)% ua=%REQ(USER-AGENT)%');
    expect(onlyProxy(format, '1721459154.173 203.0.113.9 POST /v1/reports 200 - 812 10.0.3.17:8080 key=k_live_42 ua=Mozilla/5.0 (X11; Linux x86_64)')).toMatchObject({
      startMs: 1721459154173, timeResolutionMs: 1, requestTimeMs: 812, status: 200, method: 'POST', path: '/v1/reports', clientIp: '203.0.113.9',
      apiKey: 'k_live_42', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)', upstreamAddr: '10.0.3.17:8080', upstreamStatus: 200,
    });
  });

  it('still reads default-layout lines beside it, and names the given format when a line fits neither', () => {
    const format = envoyFormat('%START_TIME% %RESPONSE_CODE% %DURATION%');
    expect(onlyProxy(format, envoy.example).status).toBe(504);
    const read = parseLines(format, ['two-words only']);
    expect(read.issues.map((issue) => [issue.code, issue.field])).toEqual([['PARSE_NO_MATCH', 'log-format']]);
    expect(read.issues[0]!.message).toMatch(/not in the given format/);
  });

  it('reports a value that is there but wrong by its command', () => {
    const format = envoyFormat('[%START_TIME%] %RESPONSE_CODE% %DURATION%');
    const read = parseLines(format, ['[2024-07-20T07:05:54.173Z] 200 x']);
    expect(read.issues.map((issue) => [issue.code, issue.field, issue.message])).toEqual([['PARSE_BAD_FIELD', 'DURATION', 'bad DURATION "x"']]);
  });
});
