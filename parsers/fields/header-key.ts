/**
 * One spelling of a request header's name, whatever names it: `X-Api-Key`, `x_api_key`,
 * `$http_x_api_key` (nginx), `request.headers.x-api-key` (APM attributes), `--key-field
 * http_x_api_key` -> `x-api-key`. HAProxy's captures and samples and Envoy's `%REQ(…)%` are matched
 * to their roles (agent, host, API key) by it.
 */
export function headerKey(name: string): string {
  let key = name.trim().toLowerCase();
  if (key.startsWith('$')) key = key.slice(1);
  for (const prefix of ['http_', 'request.headers.', 'request.header.', 'http.request.header.']) {
    if (key.startsWith(prefix)) key = key.slice(prefix.length);
  }
  return key.replaceAll('_', '-');
}
