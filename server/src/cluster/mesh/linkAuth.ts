/**
 * How one node proves to another that it belongs to the cluster before a
 * node link opens: `HuizhenNode <nodeId>.<unix ms>.<hmac>` in the upgrade's
 * Authorization header, the HMAC-SHA256 of `<nodeId>.<unix ms>` under the
 * cluster's shared secret (cluster.linkSecret). A hello older (or newer) than
 * LINK_HELLO_WINDOW_MS is refused, so a captured header is useless soon after.
 * Hand-written rather than a JWT library: one fixed algorithm, one claim, and
 * nothing to negotiate.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NODE_ID_PATTERN } from '../clusterConfig.js';

export const LINK_HELLO_WINDOW_MS = 30_000;
const SCHEME = 'HuizhenNode ';

export class LinkAuthError extends Error {
  readonly code = 'LINK_AUTH_FAILED' as const;
  constructor(reason: string) {
    super(`node link refused: ${reason}`);
    this.name = 'LinkAuthError';
  }
}

const mac = (secret: string, nodeId: string, at: number): Buffer =>
  createHmac('sha256', secret).update(`${nodeId}.${at}`).digest();

/** The Authorization header value a node sends when it opens a link. */
export function signLinkHello(secret: string, nodeId: string, now: number = Date.now()): string {
  return `${SCHEME}${nodeId}.${now}.${mac(secret, nodeId, now).toString('base64url')}`;
}

/** The calling node's id, or LinkAuthError (bad shape, stale, or a wrong secret). */
export function verifyLinkHello(secret: string, header: string | undefined, now: number = Date.now()): string {
  if (!header?.startsWith(SCHEME)) throw new LinkAuthError('no node credentials');
  const parts = header.slice(SCHEME.length).split('.');
  if (parts.length < 3) throw new LinkAuthError('malformed credentials');
  // Node ids may contain dots: the time and the MAC are the last two parts.
  const sig = parts.pop()!;
  const atText = parts.pop()!;
  const nodeId = parts.join('.');
  if (!NODE_ID_PATTERN.test(nodeId) || !/^\d{1,16}$/.test(atText)) throw new LinkAuthError('malformed credentials');
  const at = Number(atText);
  if (Math.abs(now - at) > LINK_HELLO_WINDOW_MS) throw new LinkAuthError('credentials expired (check the clocks)');
  const expected = mac(secret, nodeId, at);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new LinkAuthError('bad signature');
  return nodeId;
}
