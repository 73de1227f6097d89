/**
 * WebSocket upgrades on the HTTP server's one port, routed by path: `/ws`
 * for clients, `/cluster/link` for other nodes. One listener decides, because
 * a `ws` server attached to the HTTP server refuses (400) every upgrade whose
 * path is not its own, so two of them cannot share a port.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class UpgradeRouter {
  readonly #routes = new Map<string, UpgradeHandler>();

  constructor(http: HttpServer) {
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      const url = req.url ?? '/';
      const query = url.indexOf('?');
      const handler = this.#routes.get(query === -1 ? url : url.slice(0, query));
      if (handler) handler(req, socket, head);
      else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
  }

  route(path: string, handler: UpgradeHandler): void {
    this.#routes.set(path, handler);
  }
}
