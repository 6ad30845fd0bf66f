import { describe, expect, it } from 'vitest';
import { haproxy } from '../../parsers/haproxy.js';
import { haproxyClf } from '../../parsers/haproxy-clf.js';
import { withSiblings } from '../../parsers/siblings.js';
import { traefikJson } from '../../parsers/traefik.js';
import type { FormatDef } from '../../parsers/format.js';
import { parseLines } from './parse-lines.js';

/** A file's format reads the lines its software's other format wrote into the same file, instead of skipping them. */
const withItsSiblings = (format: FormatDef): FormatDef => ({
  ...format,
  createParser: (options) => withSiblings(format, format.createParser(options), options),
});

describe('sibling formats of one software in one file', () => {
  // geraldcroes/adeo-dev-summit-2018 traefik/access.log @c9f3f86d (MIT, as its package.json says; no LICENSE file): Traefik 1.6's CLF, then JSON after its operator switched.
  const clf = '172.25.0.1 - - [08/Jun/2018:08:51:23 +0000] "GET / HTTP/2.0" 200 44 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.62 Safari/537.36" 1 "Host-api-first-containous-demo-com-2" "http://172.25.0.5:80" 3ms';
  const json = '{"BackendAddr":"172.25.0.2:80","BackendName":"backend-www-first","BackendURL":{"Scheme":"http","Opaque":"","User":null,"Host":"172.25.0.2:80","Path":"","RawPath":"","ForceQuery":false,"RawQuery":"","Fragment":""},"ClientAddr":"172.25.0.1:37912","ClientHost":"172.25.0.1","ClientPort":"37912","ClientUsername":"-","DownstreamContentSize":1606,"DownstreamStatus":200,"DownstreamStatusLine":"200 OK","Duration":6450613,"FrontendName":"Host-www-first-containous-demo-com-2","OriginContentSize":1606,"OriginDuration":5941481,"OriginStatus":200,"OriginStatusLine":"200 OK","Overhead":509132,"RequestAddr":"www.first.containous.demo.com","RequestContentSize":0,"RequestCount":1,"RequestHost":"www.first.containous.demo.com","RequestLine":"GET / HTTP/2.0","RequestMethod":"GET","RequestPath":"/","RequestPort":"-","RequestProtocol":"HTTP/2.0","RetryAttempts":0,"StartLocal":"2018-06-08T09:07:52.347415625Z","StartUTC":"2018-06-08T09:07:52.347415625Z","downstream_Accept-Ranges":"bytes","downstream_Content-Encoding":"gzip","downstream_Content-Length":"1606","downstream_Content-Type":"text/html","downstream_Date":"Fri, 08 Jun 2018 09:07:52 GMT","downstream_Etag":"\\"1216-56e1bd9743fc0-gzip\\"","downstream_Last-Modified":"Fri, 08 Jun 2018 06:52:55 GMT","downstream_Server":"Apache/2.4.25 (Debian)","downstream_Vary":"Accept-Encoding","level":"info","msg":"","origin_Accept-Ranges":"bytes","origin_Content-Encoding":"gzip","origin_Content-Length":"1606","origin_Content-Type":"text/html","origin_Date":"Fri, 08 Jun 2018 09:07:52 GMT","origin_Etag":"\\"1216-56e1bd9743fc0-gzip\\"","origin_Last-Modified":"Fri, 08 Jun 2018 06:52:55 GMT","origin_Server":"Apache/2.4.25 (Debian)","origin_Vary":"Accept-Encoding","request_Accept":"text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,image/apng,*/*;q=0.8","request_Accept-Encoding":"gzip, deflate, br","request_Accept-Language":"fr,en-US;q=0.9,en;q=0.8","request_Authorization":"Basic dXNlcjpwYXNzd29yZA==","request_Cache-Control":"max-age=0","request_If-Modified-Since":"Fri, 08 Jun 2018 06:52:55 GMT","request_If-None-Match":"\\"1216-56e1bd9743fc0-gzip\\"","request_Upgrade-Insecure-Requests":"1","request_User-Agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.62 Safari/537.36","time":"2018-06-08T09:07:52Z"}';

  it('reads a Traefik file switched from CLF to JSON whole, each line by the format that wrote it', () => {
    const { records, issues } = parseLines(withItsSiblings(traefikJson), [json, clf, json]);
    expect(issues).toEqual([]);
    expect(records.map((record) => record.format)).toEqual(['traefik-json', 'traefik-clf', 'traefik-json']);
    // Without its sibling, the CLF line was skipped as no JSON.
    expect(parseLines(traefikJson, [json, clf]).issues.map((issue) => issue.code)).toEqual(['PARSE_BAD_JSON']);
  });

  it('keeps a line of the format\'s own shape with a bad value an issue, and a line of neither shape its own format\'s issue', () => {
    const badDuration = json.replace(/"Duration":\d+/, '"Duration":"soon"');
    const { records, issues } = parseLines(withItsSiblings(traefikJson), [badDuration, 'not a log line']);
    expect(records).toEqual([]);
    expect(issues.map((issue) => [issue.line, issue.code])).toEqual([[1, 'PARSE_BAD_FIELD'], [2, 'PARSE_BAD_JSON']]);
  });

  it('reads HAProxy frontends logging httplog and httplog clf into one syslog file', () => {
    const { records, issues } = parseLines(withItsSiblings(haproxy), [haproxy.example, haproxyClf.example]);
    expect(issues).toEqual([]);
    expect(records.map((record) => record.format)).toEqual(['haproxy', 'haproxy-clf']);
  });
});
