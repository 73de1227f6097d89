import { ConnectionError, ConnectionErrorReason } from './errors.js';

/**
 * The signaling URL for a server: for an http(s) URL, the scheme becomes ws(s)
 * and `/ws` is appended to the path (so a server mounted under a prefix works
 * too); a ws(s) URL is taken as the full signaling endpoint. A relative URL is
 * resolved against the page (e.g. `connect('/', token)`).
 */
export function toSignalUrl(serverUrl: string): string {
  const url = parse(serverUrl);
  switch (url.protocol) {
    case 'http:':
      url.protocol = 'ws:';
      break;
    case 'https:':
      url.protocol = 'wss:';
      break;
    case 'ws:':
    case 'wss:':
      url.hash = '';
      return url.toString();
    default:
      throw new ConnectionError(
        ConnectionErrorReason.ServerUnreachable,
        `The server URL must be http(s) or ws(s), not '${url.protocol}'`,
      );
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  url.search = '';
  url.hash = '';
  return url.toString();
}

/**
 * The server's http(s) base URL (no trailing slash) for its HTTP API, from
 * what was passed to `connect()`: an http(s) URL as is; for a ws(s) signaling
 * URL, the scheme becomes http(s) and a trailing `/ws` is dropped.
 */
export function toHttpBase(serverUrl: string): string {
  const url = parse(serverUrl);
  switch (url.protocol) {
    case 'ws:':
      url.protocol = 'http:';
      url.pathname = url.pathname.replace(/\/ws\/?$/, '');
      break;
    case 'wss:':
      url.protocol = 'https:';
      url.pathname = url.pathname.replace(/\/ws\/?$/, '');
      break;
    case 'http:':
    case 'https:':
      break;
    default:
      throw new ConnectionError(
        ConnectionErrorReason.ServerUnreachable,
        `The server URL must be http(s) or ws(s), not '${url.protocol}'`,
      );
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

function parse(serverUrl: string): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(serverUrl, base);
  } catch (cause) {
    throw new ConnectionError(
      ConnectionErrorReason.ServerUnreachable,
      `Not a valid server URL: '${serverUrl}'`,
      undefined,
      { cause },
    );
  }
}
