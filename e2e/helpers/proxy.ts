/**
 * A TCP relay in front of the Huizhen server for one browser page, so a test
 * can cut that page's network the way a failing mobile link does: every open
 * connection (HTTP and the signaling WebSocket) is destroyed at once and new
 * ones are refused for a while. The browser sees an abnormal close (1006),
 * not a polite one. Media (UDP, straight to the server's RTC port) does not
 * pass through here.
 */
import net from 'node:net';

export interface DropProxy {
  /** e.g. http://localhost:41234: open the demo here instead of at the server. */
  readonly url: string;
  /** Connections cut so far by drop(). */
  readonly cut: number;
  /** Destroys every open connection and refuses new ones for `ms`. Resolves when the network is back. */
  drop(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDropProxy(targetPort: number): Promise<DropProxy> {
  const open = new Set<net.Socket>();
  let blockedUntil = 0;
  let cut = 0;
  const server = net.createServer((client) => {
    if (Date.now() < blockedUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    const forget = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', forget);
    upstream.on('error', forget);
    client.on('close', forget);
    upstream.on('close', forget);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('proxy has no port');
  return {
    url: `http://localhost:${address.port}`,
    get cut() {
      return cut;
    },
    async drop(ms: number) {
      blockedUntil = Date.now() + ms;
      for (const socket of open) {
        // resetAndDestroy sends RST where it can: the peer learns at once, as when a link dies under it.
        socket.resetAndDestroy();
        cut++;
      }
      open.clear();
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
