/** Splits an HTTP request line `GET /a/b?c=1 HTTP/1.1` without a regex. */
export interface RequestLine {
  method: string;
  path: string;
  query: string | null;
}

export function parseRequestLine(text: string): RequestLine | null {
  const firstSpace = text.indexOf(' ');
  if (firstSpace <= 0 || !isToken(text, firstSpace)) return null;
  const lastSpace = text.lastIndexOf(' ');
  // "GET /x" (HTTP/0.9) has no protocol; otherwise the target sits between the two spaces.
  const target = lastSpace > firstSpace ? text.slice(firstSpace + 1, lastSpace) : text.slice(firstSpace + 1);
  const method = text.slice(0, firstSpace);
  const { path, query } = splitTarget(target);
  return { method, path, query };
}

/**
 * Is `text` up to `end` an HTTP token (RFC 9110 5.6.2: letters, digits and !#$%&'*+-.^_`|~), as a
 * method must be? A TLS handshake sent to a plain port is logged as the request line: its bytes
 * (with spaces among them) made a method and a path, and routes, of binary junk.
 */
function isToken(text: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const alphanumeric = (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
    if (!alphanumeric && TOKEN_SYMBOLS.indexOf(text[i]!) < 0) return false;
  }
  return true;
}

const TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

/** Splits a request target into path and query; absolute-form targets lose their scheme and host. */
export function splitTarget(target: string): { path: string; query: string | null } {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */) {
    const scheme = target.indexOf('://');
    if (scheme > 0) {
      const slash = target.indexOf('/', scheme + 3);
      start = slash < 0 ? target.length : slash;
    }
  }
  const question = target.indexOf('?', start);
  if (question < 0) return { path: start === target.length ? '/' : target.slice(start), query: null };
  return { path: target.slice(start, question) || '/', query: target.slice(question + 1) };
}

/** `http://10.0.3.17:8080/v1/x?y` → `10.0.3.17:8080`: a URL's host and port; null without a scheme or host. */
export function authorityOfUrl(url: string): string | null {
  const scheme = url.indexOf('://');
  if (scheme < 0) return null;
  const rest = url.slice(scheme + 3);
  const end = rest.search(/[/?#]/);
  return (end < 0 ? rest : rest.slice(0, end)) || null;
}

/** `https://api.example.com:443/v1/x` → `api.example.com` (the URL as the client sent it). */
export function hostOfUrl(target: string): string | null {
  const scheme = target.indexOf('://');
  if (scheme < 0) return null;
  const slash = target.indexOf('/', scheme + 3);
  const authority = target.slice(scheme + 3, slash < 0 ? target.length : slash);
  if (authority === '') return null;
  const bracket = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  return colon > bracket ? authority.slice(0, colon) : authority;
}
