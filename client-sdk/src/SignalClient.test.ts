import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionError, ErrorCode, HuizhenError } from './errors.js';
import { createLogger } from './logger.js';
import {
  SignalClient,
  type AnyNotification,
  type SignalClientOptions,
  type SignalCloseInfo,
  type WebSocketLike,
} from './SignalClient.js';

interface ReceivedRequest {
  id: number;
  method: string;
  data: unknown;
}

/** A real WebSocket server; each test scripts how it answers. */
class TestServer {
  readonly wss: WebSocketServer;
  readonly requests: ReceivedRequest[] = [];
  socket: WebSocket | undefined;
  // Answers are protocol-valid (the client checks them): a getStats answer whose one entry names the method.
  onRequest: (request: ReceivedRequest, socket: WebSocket) => void = (req, socket) =>
    socket.send(JSON.stringify({ id: req.id, ok: true, data: { transports: [{ echo: req.method }] } }));
  readonly #connected: Promise<WebSocket>;

  constructor() {
    this.wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    this.#connected = new Promise((resolve) => {
      this.wss.on('connection', (socket) => {
        this.socket = socket;
        socket.on('message', (raw) => {
          const request = JSON.parse(String(raw)) as ReceivedRequest;
          this.requests.push(request);
          this.onRequest(request, socket);
        });
        resolve(socket);
      });
    });
  }

  async listening(): Promise<string> {
    await new Promise<void>((resolve) =>
      this.wss.address() ? resolve() : this.wss.once('listening', () => resolve()),
    );
    const address = this.wss.address();
    if (typeof address !== 'object' || !address) throw new Error('no address');
    return `ws://127.0.0.1:${address.port}/ws`;
  }

  connection(): Promise<WebSocket> {
    return this.#connected;
  }

  send(message: unknown): void {
    this.socket?.send(JSON.stringify(message));
  }

  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const factory = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;

describe('SignalClient over a real WebSocket', () => {
  let server: TestServer;
  let url: string;
  let client: SignalClient;

  beforeEach(async () => {
    server = new TestServer();
    url = await server.listening();
    client = new SignalClient(url, { webSocketFactory: factory, requestTimeoutMs: 2000 });
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  it('connects and sends requests framed as {id, method, data}', async () => {
    await client.connect();
    expect(client.state).toBe('open');
    const data = await client.request('getStats', {});
    expect(data).toEqual({ transports: [{ echo: 'getStats' }] });
    expect(server.requests).toEqual([{ id: 1, method: 'getStats', data: {} }]);
  });

  it('matches responses to requests by id, whatever order they come back in', async () => {
    const held: ReceivedRequest[] = [];
    server.onRequest = (req, socket) => {
      held.push(req);
      if (held.length < 3) return;
      // Answer in reverse order, each with data naming the request it belongs to.
      for (const r of [...held].reverse()) {
        const { recordId } = r.data as { recordId: string };
        socket.send(JSON.stringify({ id: r.id, ok: true, data: { url: `/records/${recordId}`, expiresAt: 1 } }));
      }
    };
    await client.connect();
    const results = await Promise.all(
      ['r1', 'r2', 'r3'].map((recordId) => client.request('getRecordUrl', { recordId })),
    );
    expect(results.map((r) => r.url)).toEqual(['/records/r1', '/records/r2', '/records/r3']);
    expect(new Set(server.requests.map((r) => r.id)).size).toBe(3);
    expect(client.pendingRequestCount).toBe(0);
  });

  it('rejects with a HuizhenError carrying the server error code', async () => {
    server.onRequest = (req, socket) =>
      socket.send(
        JSON.stringify({ id: req.id, ok: false, error: { code: 'TOKEN_EXPIRED', message: 'The token expired' } }),
      );
    await client.connect();
    const error = await client.request('join', { protocolVersion: 1, token: 't' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({ code: ErrorCode.TOKEN_EXPIRED, message: 'The token expired' });
  });

  it('times out a request the server never answers with TIMEOUT, and ignores the late answer', async () => {
    let late: ReceivedRequest | undefined;
    server.onRequest = (req) => {
      late = req;
    };
    await client.connect();
    const started = Date.now();
    const error = await client.request('getStats', {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HuizhenError);
    expect((error as HuizhenError).code).toBe(ErrorCode.TIMEOUT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(client.pendingRequestCount).toBe(0);

    // A late answer must not resolve anything or break the client.
    server.send({ id: late?.id, ok: true, data: {} });
    server.onRequest = (req, socket) =>
      socket.send(JSON.stringify({ id: req.id, ok: true, data: { transports: [{ fine: true }] } }));
    await expect(client.request('getStats', {})).resolves.toEqual({ transports: [{ fine: true }] });
  });

  it('uses the client-wide request timeout by default', async () => {
    server.onRequest = () => {};
    const quick = new SignalClient(url, { webSocketFactory: factory, requestTimeoutMs: 100 });
    await quick.connect();
    await expect(quick.request('leave', {})).rejects.toMatchObject({ code: ErrorCode.TIMEOUT });
    quick.close();
  });

  it('dispatches notifications with their data', async () => {
    await client.connect();
    const received: AnyNotification[] = [];
    const two = new Promise<void>((resolve) => {
      client.on('notification', (message) => {
        received.push(message);
        if (received.length === 2) resolve();
      });
    });
    server.send({ notification: 'activeSpeakerChanged', data: { identity: 'dr-zhang' } });
    server.send({ notification: 'trackMuted', data: { participantIdentity: 'dr-zhang', trackId: 'p1' } });
    await two;
    expect(received).toEqual([
      { notification: 'activeSpeakerChanged', data: { identity: 'dr-zhang' } },
      { notification: 'trackMuted', data: { participantIdentity: 'dr-zhang', trackId: 'p1' } },
    ]);
  });

  it('ignores malformed frames and keeps working', async () => {
    await client.connect();
    const notifications: AnyNotification[] = [];
    client.on('notification', (m) => notifications.push(m));
    server.socket?.send('not json');
    server.socket?.send('[1,2]');
    server.send({ hello: 'there' });
    server.send({ id: null, ok: false, error: { code: 'MALFORMED_MESSAGE', message: 'bad frame' } });
    await expect(client.request('getStats', {})).resolves.toEqual({ transports: [{ echo: 'getStats' }] });
    expect(notifications).toEqual([]);
  });

  it('rejects pending requests with CONNECTION_FAILED when the server closes the socket', async () => {
    server.onRequest = () => {};
    await client.connect();
    const closed = new Promise<SignalCloseInfo>((resolve) => client.once('close', resolve));
    const pending = [client.request('getStats', {}), client.request('leave', {})].map((p) =>
      p.catch((e: unknown) => e),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.socket?.close(4003, 'replaced');
    const errors = await Promise.all(pending);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'connectionLost' });
    }
    expect(await closed).toEqual({ code: 4003, reason: 'replaced', initiatedLocally: false });
    expect(client.state).toBe('closed');
    await expect(client.request('getStats', {})).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
  });

  it('rejects pending requests and emits close once when closed locally', async () => {
    server.onRequest = () => {};
    await client.connect();
    const closes: SignalCloseInfo[] = [];
    client.on('close', (info) => closes.push(info));
    const pending = client.request('getStats', {}).catch((e: unknown) => e);
    client.close(1000, 'bye');
    client.close();
    expect(await pending).toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
    expect(closes).toEqual([{ code: 1000, reason: 'bye', initiatedLocally: true }]);
    const serverSide = await server.connection();
    await new Promise((resolve) =>
      serverSide.readyState === WebSocket.CLOSED ? resolve(undefined) : serverSide.once('close', resolve),
    );
  });

  it('refuses requests before connecting', async () => {
    await expect(client.request('getStats', {})).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
  });

  it('refuses to connect while open', async () => {
    await client.connect();
    await expect(client.connect()).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
  });

  it('connects again on a new socket after a drop, with request ids still counting up', async () => {
    await client.connect();
    await client.request('getStats', {});
    const first = await server.connection();
    const closed = new Promise<SignalCloseInfo>((resolve) => client.once('close', resolve));
    first.terminate();
    expect((await closed).initiatedLocally).toBe(false);
    expect(client.state).toBe('closed');
    const second = new Promise<WebSocket>((resolve) => server.wss.once('connection', resolve));
    await client.connect({ timeoutMs: 1000 });
    expect(client.state).toBe('open');
    expect(await second).not.toBe(first);
    await expect(client.request('getStats', {})).resolves.toEqual({ transports: [{ echo: 'getStats' }] });
    expect(server.requests.map((r) => r.id)).toEqual([1, 2]);
  });
});

/**
 * Runs `test` with a TestServer and a client that pings every 100 ms and waits 150 ms for the answer (plus `options`),
 * then closes both.
 */
async function withHeartbeat(
  options: Partial<SignalClientOptions>,
  test: (server: TestServer, client: SignalClient) => Promise<void>,
): Promise<void> {
  const server = new TestServer();
  const url = await server.listening();
  const client = new SignalClient(url, {
    webSocketFactory: factory,
    heartbeatIntervalMs: 100,
    heartbeatTimeoutMs: 150,
    ...options,
  });
  try {
    await test(server, client);
  } finally {
    client.close();
    await server.close();
  }
}

describe('SignalClient heartbeat', () => {
  it('treats a server that stops answering pings as a lost connection', async () => {
    await withHeartbeat({}, async (server, client) => {
      let answering = true;
      server.onRequest = (req, socket) => {
        if (answering) socket.send(JSON.stringify({ id: req.id, ok: true, data: {} }));
      };
      const closed = new Promise<SignalCloseInfo>((resolve) => client.on('close', resolve));
      await client.connect();
      await new Promise((r) => setTimeout(r, 350));
      expect(server.requests.filter((r) => r.method === 'ping').length).toBeGreaterThanOrEqual(2);
      expect(client.state).toBe('open');
      // The network dies silently: the socket stays open, nothing answers.
      answering = false;
      const info = await closed;
      expect(info).toMatchObject({ code: 4100, initiatedLocally: false });
      expect(client.state).toBe('closed');
    });
  });
});

// --- connection quality: a slow socket on a weak link is not a dead one
describe('SignalClient heartbeat on a slow link', () => {
  it('keeps a connection whose pongs are late while other frames still arrive', async () => {
    await withHeartbeat({}, async (server, client) => {
      let ticker: ReturnType<typeof setInterval> | undefined;
      try {
        // Pings are never answered, but the server keeps talking (a notification every 50 ms).
        server.onRequest = () => {};
        let closed = false;
        client.on('close', () => (closed = true));
        await client.connect();
        ticker = setInterval(() => {
          server.send({ notification: 'activeSpeakerChanged', data: { identity: null } });
        }, 50);
        await new Promise((r) => setTimeout(r, 700));
        expect(closed).toBe(false);
        expect(client.state).toBe('open');
      } finally {
        clearInterval(ticker);
      }
    });
  });

  it('keeps a silent connection while media flows, for heartbeatMediaAliveMs', async () => {
    await withHeartbeat({ heartbeatMediaAliveMs: 600, isMediaAlive: () => true }, async (server, client) => {
      server.onRequest = () => {};
      const closedAt = new Promise<number>((resolve) => client.on('close', () => resolve(Date.now())));
      const started = Date.now();
      await client.connect();
      const info = await Promise.race([closedAt, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
      // Given up only once the silence outlasted the media allowance, not at the first late pong.
      expect(info).not.toBeNull();
      expect(info! - started).toBeGreaterThanOrEqual(600);
    });
  });
});

describe('SignalClient connect failures', () => {
  it('rejects with serverUnreachable when nothing listens', async () => {
    const server = new TestServer();
    const url = await server.listening();
    await server.close();
    const client = new SignalClient(url, { webSocketFactory: factory });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'serverUnreachable' });
    expect(client.state).toBe('closed');
  });

  it('rejects with timeout when the socket does not open in time', async () => {
    // A socket that never opens: the handshake hangs.
    const stuck: WebSocketLike = {
      readyState: 0,
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send() {},
      close() {},
    };
    const client = new SignalClient('ws://127.0.0.1:1/ws', { webSocketFactory: () => stuck, connectTimeoutMs: 80 });
    await expect(client.connect()).rejects.toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'timeout' });
  });

  it('rejects when the factory throws', async () => {
    const client = new SignalClient('ws://x/ws', {
      webSocketFactory: () => {
        throw new SyntaxError('bad url');
      },
    });
    await expect(client.connect()).rejects.toMatchObject({ reason: 'serverUnreachable' });
  });
});

describe('SignalClient checks what the server sends against the protocol', () => {
  let server: TestServer;
  let client: SignalClient;
  let logged: { level: string; message: string; fields: Record<string, unknown> }[];

  beforeEach(async () => {
    server = new TestServer();
    const url = await server.listening();
    logged = [];
    // The SDK's own logger, writing into a list instead of the console.
    const record =
      (level: string) =>
      (_prefix: unknown, message: unknown, fields: unknown): void => {
        logged.push({ level, message: String(message), fields: fields as Record<string, unknown> });
      };
    const logger = createLogger(
      'debug',
      {},
      {
        debug: record('debug'),
        info: record('info'),
        warn: record('warn'),
        error: record('error'),
      },
    );
    client = new SignalClient(url, { webSocketFactory: factory, requestTimeoutMs: 2000, logger });
    await client.connect();
  });

  afterEach(async () => {
    client.close();
    await server.close();
  });

  const protocolErrors = () => logged.filter((l) => l.fields.code === ErrorCode.PROTOCOL_ERROR);

  it('drops malformed and unknown notifications, logs PROTOCOL_ERROR without the payload, and goes on', async () => {
    const notifications: AnyNotification[] = [];
    client.on('notification', (m) => notifications.push(m));
    // Wrong type, missing field, unknown name, then a valid one (as the server sends it).
    server.send({ notification: 'trackMuted', data: { participantIdentity: 42, trackId: 'p1' }, seq: 1 });
    server.send({ notification: 'participantLeft', data: { reason: 'left' }, seq: 2 });
    server.send({ notification: 'participantTeleported', data: { identity: 'secret-patient-name' }, seq: 3 });
    server.send({ notification: 'consumerClosed', data: 'not an object', seq: 4 });
    const valid = {
      consumerId: 'c1',
      trackId: 'p1',
      participantIdentity: 'dr-zhang',
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        mid: '0',
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
        headerExtensions: [],
        encodings: [{ ssrc: 1234 }],
        rtcp: { cname: 'abc', reducedSize: true },
      },
      producerPaused: false,
    };
    server.send({ notification: 'consumerCreated', data: valid, seq: 5 });
    await expect(client.request('getStats', {})).resolves.toEqual({ transports: [{ echo: 'getStats' }] });

    expect(notifications).toEqual([{ notification: 'consumerCreated', data: valid }]);
    expect(client.lastNotificationSeq).toBe(5);
    const errors = protocolErrors();
    expect(errors.map((e) => e.fields.notification)).toEqual([
      'trackMuted',
      'participantLeft',
      'participantTeleported',
      'consumerClosed',
    ]);
    expect(errors.map((e) => e.fields.path)).toEqual(['data.participantIdentity', 'data.identity', undefined, 'data']);
    expect(JSON.stringify(logged)).not.toContain('secret-patient-name');
  });

  it('rejects a malformed response with PROTOCOL_ERROR; later requests still resolve', async () => {
    let answer: unknown = { transports: 'lots' };
    server.onRequest = (req, socket) => socket.send(JSON.stringify({ id: req.id, ok: true, data: answer }));
    const error = await client.request('getStats', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({ code: ErrorCode.PROTOCOL_ERROR });
    expect((error as Error).message).toMatch(/data\.transports: expected array, got string/);

    // A join answer missing its session id is as bad as a wrong type.
    answer = { protocolVersion: 1, resumed: false, admission: 'waiting', room: { id: 'r1', kind: 'consult' } };
    await expect(client.request('join', { protocolVersion: 1, token: 't' })).rejects.toMatchObject({
      code: ErrorCode.PROTOCOL_ERROR,
    });

    answer = { transports: [] };
    await expect(client.request('getStats', {})).resolves.toEqual({ transports: [] });
    expect(client.pendingRequestCount).toBe(0);
    expect(protocolErrors().map((e) => e.fields.method)).toEqual(['getStats', 'join']);
  });
});
