/**
 * This node's links to the other nodes of the cluster: it accepts links at
 * `/cluster/link` (the HTTP server's upgrade, authenticated with linkAuth)
 * and dials other nodes' signaling URLs. One link per pair of nodes: when
 * two nodes dial each other at once, the link dialed by the node with the
 * smaller id wins and the other is closed, so both sides agree which one
 * carries the pair's pipes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TypedEmitter } from '@huizhen/protocol';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../observability/logger.js';
import { LinkAuthError, signLinkHello, verifyLinkHello } from './linkAuth.js';
import { LINK_MAX_FRAME_BYTES, NodeLink } from './NodeLink.js';

export const LINK_PATH = '/cluster/link';
const DIAL_TIMEOUT_MS = 5_000;
/** Close code for the losing one of two links between the same nodes. */
const DUPLICATE_LINK = 4409;

export interface NodeLinksOptions {
  nodeId: string;
  /** The cluster's shared secret (cluster.linkSecret). */
  secret: string;
  logger: Logger;
}

export interface NodeLinksEvents {
  /** A link to `link.peer` opened (dialed or accepted). */
  link: (link: NodeLink) => void;
}

export class NodeLinks extends TypedEmitter<NodeLinksEvents> {
  readonly #options: NodeLinksOptions;
  readonly #logger: Logger;
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: LINK_MAX_FRAME_BYTES, perMessageDeflate: false });
  readonly #links = new Map<string, { link: NodeLink; dialer: string }>();
  readonly #dialing = new Map<string, Promise<NodeLink>>();

  constructor(options: NodeLinksOptions) {
    super({
      onListenerError: (error, event) =>
        options.logger.error('node links listener failed', { event, error: error as Error }),
    });
    this.#options = options;
    this.#logger = options.logger;
  }

  /** The open link to `peer`, if any. */
  get(peer: string): NodeLink | undefined {
    return this.#links.get(peer)?.link;
  }

  get size(): number {
    return this.#links.size;
  }

  /** Handles an HTTP upgrade at LINK_PATH: a node with the secret gets a link, anything else a bare 401. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let peer: string;
    try {
      peer = verifyLinkHello(this.#options.secret, req.headers.authorization);
      if (peer === this.#options.nodeId) throw new LinkAuthError('a node cannot link to itself');
    } catch (error) {
      this.#logger.warn('node link refused', {
        reason: error instanceof LinkAuthError ? error.message : 'error',
        remote: req.socket.remoteAddress,
      });
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#adopt(ws, peer, peer));
  }

  /** The link to `peer`, dialing `url` (its signaling base URL, http(s)://…) when there is none. */
  dial(peer: string, url: string): Promise<NodeLink> {
    const open = this.get(peer);
    if (open) return Promise.resolve(open);
    let pending = this.#dialing.get(peer);
    if (!pending) {
      pending = this.#dial(peer, url).finally(() => this.#dialing.delete(peer));
      this.#dialing.set(peer, pending);
    }
    return pending;
  }

  close(): void {
    for (const { link } of this.#links.values()) link.close();
    this.#links.clear();
    this.#wss.close();
  }

  async #dial(peer: string, url: string): Promise<NodeLink> {
    const target = new URL(LINK_PATH, url);
    target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(target, {
      headers: { authorization: signLinkHello(this.#options.secret, this.#options.nodeId) },
      maxPayload: LINK_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: DIAL_TIMEOUT_MS,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`node '${peer}' refused the link (HTTP ${res.statusCode})`)),
      );
    });
    return this.#adopt(ws, peer, this.#options.nodeId);
  }

  #adopt(ws: WebSocket, peer: string, dialer: string): NodeLink {
    const existing = this.#links.get(peer);
    if (existing && !existing.link.closed) {
      // Both dialed: the smaller id's link stays (both nodes apply the same rule).
      if (dialer >= existing.dialer) {
        ws.close(DUPLICATE_LINK, 'duplicate node link');
        return existing.link;
      }
      existing.link.close();
    }
    const link = new NodeLink(ws, peer, this.#logger);
    this.#links.set(peer, { link, dialer });
    link.once('closed', () => {
      if (this.#links.get(peer)?.link === link) this.#links.delete(peer);
    });
    this.emit('link', link);
    return link;
  }
}
