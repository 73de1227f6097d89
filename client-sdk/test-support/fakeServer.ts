/**
 * A scripted stand-in for the Huizhen signaling server, on a real `ws`
 * WebSocketServer, for SDK tests in Node. Paired with mediasoup-client's
 * FakeHandler, the SDK's real Device/Transport code runs without a browser.
 */
import type { RtpParameters } from 'mediasoup-client/types';
import { FakeHandler, testFakeParameters } from 'mediasoup-client';
import type { DeviceOptions, HandlerInterface, HandlerSendOptions } from 'mediasoup-client/types';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import type { NotificationData, ParticipantInfo, RoomView, TrackInfo } from '@huizhen/protocol';
import type { WebSocketLike } from '../src/SignalClient.js';

export interface ReceivedRequest {
  id: number;
  method: string;
  data: Record<string, unknown>;
}

/** Thrown from a handler to answer `{ ok: false, error }`. */
export class WireFailure {
  constructor(
    readonly code: string,
    readonly message: string,
  ) {}
}

type Handler = (data: Record<string, unknown>, server: FakeHuizhenServer) => unknown;

export const mediasoupDevice: DeviceOptions = { handlerFactory: FakeHandler.createFactory(testFakeParameters) };

/**
 * A fake device that also records what the SDK asked the handler to send
 * (encodings, codec options) and exposes the handlers, whose connection state
 * tests can drive.
 */
export function recordingDevice(): {
  device: DeviceOptions;
  sends: HandlerSendOptions[];
  handlers: HandlerInterface[];
} {
  const base = FakeHandler.createFactory(testFakeParameters);
  const sends: HandlerSendOptions[] = [];
  const handlers: HandlerInterface[] = [];
  const factory = (options: Parameters<typeof base.factory>[0]): HandlerInterface => {
    const handler = base.factory(options);
    const send = handler.send.bind(handler);
    handler.send = (sendOptions) => {
      sends.push(sendOptions);
      return send(sendOptions);
    };
    handlers.push(handler);
    return handler;
  };
  return { device: { handlerFactory: { ...base, factory } }, sends, handlers };
}

export const webSocketFactory = (url: string): WebSocketLike => new WebSocket(url) as unknown as WebSocketLike;

export function participant(identity: string, overrides: Partial<ParticipantInfo> = {}): ParticipantInfo {
  return {
    identity,
    name: identity.toUpperCase(),
    role: 'doctor',
    joinedAt: 1_700_000_000_000,
    tracks: [],
    ...overrides,
  };
}

/** A consumerCreated notification with RTP parameters the fake device accepts. */
export function consumerCreated(
  fields: Pick<NotificationData['consumerCreated'], 'consumerId' | 'trackId' | 'participantIdentity'> &
    Partial<NotificationData['consumerCreated']>,
): NotificationData['consumerCreated'] {
  const kind = fields.kind ?? 'audio';
  const generated = testFakeParameters.generateConsumerRemoteParameters({
    codecMimeType: kind === 'audio' ? 'audio/opus' : 'video/VP8',
  });
  return {
    kind,
    source: kind === 'audio' ? 'microphone' : 'camera',
    producerPaused: false,
    rtpParameters: JSON.parse(JSON.stringify(generated.rtpParameters)) as RtpParameters,
    ...fields,
  };
}

export class FakeHuizhenServer {
  readonly requests: ReceivedRequest[] = [];
  readonly handlers: Record<string, Handler>;
  self: ParticipantInfo = participant('me', { role: 'specialist', name: 'Me' });
  others: ParticipantInfo[] = [];
  /** Offered on setRtpCapabilities, as the real server does for tracks that already exist. */
  initialConsumers: NotificationData['consumerCreated'][] = [];
  /** Other notifications sent while the client is still connecting (on setRtpCapabilities). */
  setupNotifications: [keyof NotificationData, unknown][] = [];
  /** Join into the waiting room instead of the room. */
  waiting = false;
  permissions: string[] = [];
  tokenExpiresIn = 600;
  /** Answer a resume with SESSION_EXPIRED, as the server does after its grace period. */
  sessionExpired = false;
  /** Answer a resume as a node that took the room over: the same session, none of its media (`mediaMoved`). */
  mediaMoved = false;
  /** Sent right after a resumed join's answer, as the server replays what a session missed. */
  replay: [keyof NotificationData, unknown][] = [];
  /** What the client publishes, as the server would list it in `participant.tracks`. */
  readonly published = new Map<string, TrackInfo>();
  /** Extra fields for the room view (waitingRoom, share, chatHistory...). */
  view: Partial<RoomView> = {};
  socket: WebSocket | undefined;
  /** Sockets accepted so far. */
  connections = 0;
  /** The data payload limit the server announces. */
  maxDataBytes = 1024;
  readonly #wss: WebSocketServer;
  #httpServer: Server | undefined;
  readonly #waiters: { method: string; resolve: (r: ReceivedRequest) => void }[] = [];
  readonly #connectionWaiters: (() => void)[] = [];
  #afterResponse: (() => void)[] = [];
  #nextProducer = 1;
  #nextSession = 1;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    this.handlers = {
      join: (data) => {
        const resume = typeof data.resumeSessionId === 'string' ? data.resumeSessionId : undefined;
        if (resume && this.sessionExpired)
          throw new WireFailure('SESSION_EXPIRED', 'The previous session is gone; join again as a new session.');
        if (!resume || this.mediaMoved) this.published.clear();
        if (resume) {
          const replay = this.replay;
          this.replay = [];
          this.#afterResponse.push(() => {
            for (const [name, payload] of replay)
              this.socket?.send(JSON.stringify({ notification: name, data: payload }));
          });
        }
        return {
          protocolVersion: 1,
          sessionId: resume ?? `sess-${this.#nextSession++}`,
          resumed: resume !== undefined,
          ...(resume && this.mediaMoved ? { mediaMoved: true } : {}),
          participant: { ...this.self, tracks: [...this.published.values()] },
          permissions: this.permissions,
          tokenExpiresIn: this.tokenExpiresIn,
          ...(this.waiting ? { admission: 'waiting', room: { id: 'consult-42', kind: 'consult' } } : this.roomView()),
        };
      },
      createTransport: () => {
        const remote = JSON.parse(JSON.stringify(testFakeParameters.generateTransportRemoteParameters()));
        // One candidate a real browser accepts too (the generated ones are for the fake handler only).
        remote.iceCandidates = [
          {
            foundation: 'udpcandidate',
            priority: 1078862079,
            address: '127.0.0.1',
            ip: '127.0.0.1',
            port: 9,
            protocol: 'udp',
            type: 'host',
          },
        ];
        return remote;
      },
      // Notifications go out before the answer: the SDK must hold them until its media is ready.
      setRtpCapabilities: () => {
        for (const [name, data] of this.setupNotifications)
          this.socket?.send(JSON.stringify({ notification: name, data }));
        for (const consumer of this.initialConsumers) this.notify('consumerCreated', consumer);
        return {};
      },
      produce: (data) => {
        const trackId = `prod-${this.#nextProducer++}`;
        const kind = data.kind === 'video' ? 'video' : 'audio';
        this.published.set(trackId, {
          trackId,
          kind,
          source: data.source as TrackInfo['source'],
          muted: data.paused === true,
        });
        return { trackId };
      },
      closeProducer: (data) => {
        this.published.delete(String(data.producerId));
        return {};
      },
      setProducerPaused: (data) => {
        const track = this.published.get(String(data.producerId));
        if (track) track.muted = data.paused === true;
        return {};
      },
      restartIce: () => ({ iceParameters: { usernameFragment: 'u2', password: 'p2', iceLite: true } }),
      setConsumerVideoSize: () => ({ spatialLayer: 0 }),
      // --- data channels: the server's two channels to this client, and one DataProducer per topic
      subscribeData: () => ({
        maxMessageBytes: this.maxDataBytes,
        channels: [
          {
            dataConsumerId: 'dc-reliable',
            dataProducerId: 'dp-server-r',
            sctpStreamParameters: { streamId: 1, ordered: true },
            label: 'huizhen.reliable',
            protocol: 'huizhen-envelope-1',
            reliable: true,
          },
          {
            dataConsumerId: 'dc-unreliable',
            dataProducerId: 'dp-server-u',
            sctpStreamParameters: { streamId: 2, ordered: false, maxRetransmits: 1 },
            label: 'huizhen.unreliable',
            protocol: 'huizhen-envelope-1',
            reliable: false,
          },
        ],
      }),
      produceData: () => ({ dataProducerId: `dp-${this.#nextProducer++}`, maxMessageBytes: this.maxDataBytes }),
    };
    wss.on('connection', (socket) => {
      this.socket = socket;
      this.connections++;
      socket.on('message', (raw) => void this.#onMessage(socket, String(raw)));
      for (const wake of this.#connectionWaiters.splice(0)) wake();
    });
  }

  /**
   * Listens on a free port. With `http`, plain HTTP requests on the same
   * origin (record uploads and downloads) go to that handler.
   */
  static async start(
    options: { http?: (req: IncomingMessage, res: ServerResponse) => void } = {},
  ): Promise<FakeHuizhenServer> {
    if (options.http) {
      const httpServer = createServer(options.http);
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
      const wss = new WebSocketServer({ server: httpServer });
      const server = new FakeHuizhenServer(wss);
      server.#httpServer = httpServer;
      return server;
    }
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeHuizhenServer(wss);
  }

  /** The http origin a client passes to connect(). */
  get url(): string {
    const address = this.#httpServer?.address() ?? this.#wss.address();
    if (typeof address !== 'object' || !address) throw new Error('not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** What an admitted participant is sent (in the join answer, or with `admitted`). */
  roomView(): RoomView & { admission: 'admitted' } {
    return {
      admission: 'admitted',
      room: {
        id: 'consult-42',
        kind: 'consult',
        state: 'active',
        locked: false,
        host: null,
        capacity: 8,
        createdAt: 1_700_000_000_000,
        startedAt: null,
        endedAt: null,
      },
      participants: [this.self, ...this.others],
      routerRtpCapabilities: JSON.parse(JSON.stringify(testFakeParameters.generateRouterRtpCapabilities())),
      chatHistory: [],
      ...this.view,
    };
  }

  /** Cuts the client off without a close frame, as a network drop does (the client sees 1006). */
  drop(): void {
    this.socket?.terminate();
  }

  /** Resolves once `count` sockets in all have been accepted. */
  async waitForConnections(count: number): Promise<void> {
    while (this.connections < count) await new Promise<void>((resolve) => this.#connectionWaiters.push(resolve));
  }

  methods(): string[] {
    return this.requests.map((r) => r.method);
  }

  notify<N extends keyof NotificationData>(notification: N, data: NotificationData[N]): void {
    this.socket?.send(JSON.stringify({ notification, data }));
  }

  /** Resolves with the next (or an already received, unclaimed) request of `method`. */
  waitForRequest(method: string, { after = 0 }: { after?: number } = {}): Promise<ReceivedRequest> {
    const seen = this.requests.slice(after).find((r) => r.method === method);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ method, resolve }));
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    const http = this.#httpServer;
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  async #onMessage(socket: WebSocket, raw: string): Promise<void> {
    const request = JSON.parse(raw) as ReceivedRequest;
    this.requests.push(request);
    for (const waiter of this.#waiters.filter((w) => w.method === request.method)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
    const handler = this.handlers[request.method] ?? (() => ({}));
    try {
      const data = await handler(request.data, this);
      if (data === undefined) return; // The handler chose not to answer.
      socket.send(JSON.stringify({ id: request.id, ok: true, data }));
      for (const after of this.#afterResponse.splice(0)) after();
    } catch (error) {
      const failure = error instanceof WireFailure ? error : new WireFailure('INTERNAL', String(error));
      socket.send(
        JSON.stringify({ id: request.id, ok: false, error: { code: failure.code, message: failure.message } }),
      );
    }
  }
}
