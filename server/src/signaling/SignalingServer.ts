/**
 * The WebSocket endpoint at /ws, sharing the HTTP server's port (the
 * UpgradeRouter hands its upgrades here). Oversized frames are refused by ws
 * itself (close 1009) before they are buffered.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode } from '@huizhen/protocol';
import { OriginPolicy } from '../http/origins.js';
import type { UpgradeRouter } from '../http/upgrades.js';
import { Connection } from './Connection.js';
import type { SignalingContext } from './SignalingContext.js';

const HEARTBEAT_MS = 10_000;

export class SignalingServer {
  readonly #wss: WebSocketServer;
  readonly #ctx: SignalingContext;
  readonly #connections = new Set<Connection>();
  readonly #heartbeat: NodeJS.Timeout;
  readonly #origins: OriginPolicy;

  constructor(upgrades: UpgradeRouter, ctx: SignalingContext) {
    this.#ctx = ctx;
    this.#origins = new OriginPolicy(ctx.config.server.allowedOrigins, ctx.config.server.trustProxy);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.config.signaling.maxMessageBytes,
      perMessageDeflate: false,
    });
    upgrades.route('/ws', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req)),
    );
    this.#wss.on('error', (err) => ctx.logger.error('websocket server error', { error: err }));
    this.#heartbeat = setInterval(() => {
      for (const c of this.#connections) c.ping();
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Connections that carry a session (local or relayed). */
  get sessions(): number {
    let n = 0;
    for (const c of this.#connections) if (c.inSession) n++;
    return n;
  }

  /** Cluster drain: every session is told to move to `url`. Returns how many were. */
  moveAll(url: string, reason: string): number {
    let n = 0;
    for (const c of this.#connections) if (c.move(url, reason)) n++;
    return n;
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    // A page from elsewhere is told why in the close reason (a refused handshake would show the
    // browser only a bare 1006); nothing it sends is read.
    const origin = req.headers.origin;
    if (!this.#origins.allows(origin, req)) {
      this.#ctx.logger.warn('websocket from an origin not allowed', { origin: origin?.slice(0, 200), remote });
      ws.close(CloseCode.ORIGIN_NOT_ALLOWED, 'origin not allowed (server.allowedOrigins)');
      return;
    }
    const connection = new Connection(ws, this.#ctx, remote, req.socket.remoteAddress);
    this.#connections.add(connection);
    this.#ctx.metrics.connections.inc();
    ws.once('close', () => {
      this.#connections.delete(connection);
      this.#ctx.metrics.connections.dec();
    });
  }

  /** Closes every connection with a reason the SDK can show. */
  close(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const c of this.#connections) c.close(CloseCode.SERVER_SHUTTING_DOWN, 'server shutting down');
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}
