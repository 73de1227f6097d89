/**
 * The React kit's tests against a real Huizhen node (real signaling, real
 * mediasoup worker) started in-process on free ports, as the SDK's tests do.
 * jsdom has no WebRTC: mediasoup-client's fake handler stands in for the
 * browser's, so signaling, rooms and consumers are real and no media flows.
 */
import { WebSocket } from 'ws';
import { connect, type ConnectOptions, type Role, type Room, type WebSocketLike } from '@huizhen/client-sdk';
import { startTestServer, type TestServer } from '../../../server/src/testing/testServer.js';
import { mediasoupDevice } from '../../../client-sdk/test-support/fakeServer.js';

export type { TestServer };
export { startTestServer };
export { fakeTrack } from '../../../client-sdk/test-support/roomHelpers.js';

/** Connect options for Node: `ws` sockets (counted in `sockets`) and the fake WebRTC handler. */
export function nodeOptions(): ConnectOptions & { sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  return {
    sockets,
    mediasoupDevice,
    webSocketFactory: (url: string): WebSocketLike => {
      const ws = new WebSocket(url);
      sockets.push(ws);
      return ws as unknown as WebSocketLike;
    },
  };
}

/** Joins with the SDK directly (the other side of a test); the caller disconnects it. */
export async function joinDirect(t: TestServer, identity: string, role: Role, roomId: string): Promise<Room> {
  return connect(t.url, t.token(identity, role, roomId, { name: identity }), nodeOptions());
}

/** The server's structured log lines whose `msg` is `message`, parsed. */
export function logLines(t: TestServer, message: string): Record<string, unknown>[] {
  return t.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.msg === message);
}
