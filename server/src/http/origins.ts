/**
 * Which web origins may use this server: `server.allowedOrigins` holds exact
 * origins (`https://his.example-hospital.cn`) and, for development only,
 * origins with any port (`http://localhost:*`). The server's own origin is
 * always allowed. Requests without an `Origin` header (server-to-server
 * calls, the load tester) are not a browser's and carry their own token.
 */
import type { IncomingMessage } from 'node:http';

/** `scheme://host[:port]` or `scheme://host:*`, no path (compared in lower case). */
export const ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(:(\d{1,5}|\*))?$|^https?:\/\/\[[0-9a-f:.]+\](:(\d{1,5}|\*))?$/i;

export function isWildcardOrigin(entry: string): boolean {
  return entry.endsWith(':*');
}

export class OriginPolicy {
  readonly #exact = new Set<string>();
  /** `scheme://host:` prefixes whose port may be anything. */
  readonly #anyPort: string[] = [];
  readonly #trustProxy: boolean;

  constructor(allowed: readonly string[], trustProxy: boolean) {
    this.#trustProxy = trustProxy;
    for (const entry of allowed) {
      if (isWildcardOrigin(entry)) this.#anyPort.push(entry.slice(0, -1));
      else this.#exact.add(entry);
    }
  }

  /** Whether a request with this `Origin` header may be served (an absent header is not a browser page's). */
  allows(origin: string | undefined, req: IncomingMessage): boolean {
    if (origin === undefined) return true;
    const o = origin.toLowerCase();
    if (this.#exact.has(o) || o === this.selfOrigin(req)) return true;
    return this.#anyPort.some((prefix) => o.startsWith(prefix) && /^\d{1,5}$/.test(o.slice(prefix.length)));
  }

  /** The origin this request was addressed to, as the browser sees it (through a trusted proxy if configured). */
  selfOrigin(req: IncomingMessage): string | undefined {
    const forwarded = this.#trustProxy ? firstHeader(req.headers['x-forwarded-proto']) : undefined;
    const scheme = forwarded ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
    const host = (this.#trustProxy ? firstHeader(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host;
    if (!host) return undefined;
    const origin = `${scheme}://${host}`.toLowerCase();
    // The default port is left out of an Origin header.
    return origin.replace(/^http:\/\/(.*):80$/, 'http://$1').replace(/^https:\/\/(.*):443$/, 'https://$1');
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}
