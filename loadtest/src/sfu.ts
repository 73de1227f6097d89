/**
 * What a synthetic participant needs from an SFU, and its implementation over
 * Huizhen's real front door: token → WebSocket → join → plain transports →
 * produce → consume. The bare-mediasoup baseline implements the same interface
 * without Huizhen in between (bare.ts).
 */
import { ProtocolClient } from '@huizhen/server/client';
import type { Method, NotificationData, ResponseData, RoomKind, RoomView, WaitingEntry } from '@huizhen/protocol';
import { AuthError, LoadTestError, UnreachableError } from './errors.js';
import type { SrtpParameters, SrtpSuite } from './rtp/srtp.js';
import type { TokenSource } from './tokens.js';
import type { MediaPath, PathSink } from './paths.js';
import type { WebRtcIdentity } from './webrtcPeer.js';

export type ConsumerInfo = NotificationData['consumerCreated'];
export type PlainTransportInfo = ResponseData['createPlainTransport'];
export type WebRtcTransportInfo = ResponseData['createTransport'];

/** One WebRTC transport's setup, in ms (webrtc mode). */
export interface TransportTiming {
  direction: 'send' | 'recv';
  /** createTransport request → answer. */
  createMs: number;
  /** connectTransport (our DTLS role and fingerprint) request → answer. */
  connectMs?: number;
  /** ICE: first connectivity check → a pair nominated. */
  iceMs?: number;
  /** DTLS: ClientHello → handshake done, server certificate checked, SRTP keyed. */
  dtlsMs?: number;
  /** performance.now() when SRTP could flow. */
  connectedAt?: number;
  /** Times ICE went disconnected or closed afterwards (consent checks unanswered). */
  iceLost?: number;
}

export interface JoinTiming {
  /** performance.now() when the participant started. */
  startedAt: number;
  wsOpenAt?: number;
  joinedAt?: number;
  /** Every media transport can carry media (plain: at once; WebRTC: ICE + DTLS done). */
  connectedAt?: number;
  /** Transports connected and tracks published. */
  readyAt?: number;
  firstRtpAt?: number;
  /** WebRTC transports, in the order they were created. */
  transports?: TransportTiming[];
}

export interface JoinRequest {
  identity: string;
  room: string;
  role: 'doctor' | 'patient' | 'observer';
  /** The kind of room a clinician opens (consult, clinic, rounds). */
  kind: RoomKind;
}

/** What a webrtc-mode path needs when the SFU opens it with its own signaling (Janus). */
export interface WebRtcPathRequest {
  identity: WebRtcIdentity;
  suite: SrtpSuite;
  sink: PathSink;
  timings: TransportTiming[];
  /** Consumers the participant should end up with (audio + video per remote publisher). */
  expectedConsumers: number;
}

export interface SfuSession {
  /** Set by SFUs whose WebRTC signaling is not createTransport/connectTransport (janus/connector.ts). */
  openWebRtcPath?(direction: 'send' | 'recv', req: WebRtcPathRequest): Promise<MediaPath>;
  readonly routerRtpCapabilities: Record<string, unknown>;
  /** `srtp`: SDES-keyed SRTP with `suite` (the server's side of the keys comes back in the answer). */
  createPlainTransport(direction: 'send' | 'recv', srtp: boolean, suite: SrtpSuite): Promise<PlainTransportInfo>;
  connectPlainTransport(transportId: string, ip: string, port: number, srtpParameters?: SrtpParameters): Promise<void>;
  /** A WebRTC transport (ICE-lite + DTLS on the server), as browsers get. */
  createWebRtcTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo>;
  connectWebRtcTransport(
    transportId: string,
    dtlsParameters: { role: 'client'; fingerprints: { algorithm: string; value: string }[] },
  ): Promise<void>;
  setRtpCapabilities(caps: Record<string, unknown>): Promise<void>;
  produce(
    transportId: string,
    kind: 'audio' | 'video',
    source: 'camera' | 'microphone',
    rtpParameters: Record<string, unknown>,
  ): Promise<string>;
  resumeConsumer(consumerId: string): Promise<void>;
  /** Set by the participant before it subscribes. */
  onConsumer: ((c: ConsumerInfo) => void) | undefined;
  /** Called when the server ends the session unexpectedly. */
  onClosed: ((reason: string) => void) | undefined;
  /** Says goodbye (`leave`) so the server ends the session now instead of holding it for a reconnect; then closes. */
  leave?(): Promise<void>;
  close(): void;
}

export interface SfuConnector {
  readonly name: string;
  /** Joins (and, for roles that wait in the lobby, waits until a host admits them). */
  connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession>;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** A load-test session over the shared protocol client; requests are bounded by a timeout. */
class WsSession implements SfuSession {
  routerRtpCapabilities: Record<string, unknown> = {};
  onConsumer: ((c: ConsumerInfo) => void) | undefined;
  onClosed: ((reason: string) => void) | undefined;
  readonly #client: ProtocolClient;
  #closedByUs = false;
  /** Consumers announced before the participant set onConsumer. */
  readonly #early: ConsumerInfo[] = [];
  #admitted: ((view: RoomView) => void) | undefined;
  /** Hosts admit whoever waits, as the doctor of a consult does. */
  autoAdmit = false;
  readonly #admitting = new Set<string>();

  constructor(client: ProtocolClient) {
    this.#client = client;
    client.onNotification = (name, data) => this.#onNotification(name, data);
    client.onClose = (code, reason) => {
      if (!this.#closedByUs) this.onClosed?.(`signaling closed (${code}${reason.length ? ` ${reason}` : ''})`);
    };
  }

  #onNotification(name: string, data: unknown): void {
    if (name === 'consumerCreated') {
      const c = data as ConsumerInfo;
      if (this.onConsumer) this.onConsumer(c);
      else this.#early.push(c);
    } else if (name === 'admitted') {
      this.#admitted?.(data as RoomView);
    } else if (name === 'waitingRoomChanged') {
      this.admitAll((data as { waiting: WaitingEntry[] }).waiting);
    } else if (name === 'sessionClosed') {
      const d = data as { code: string; reason: string };
      this.onClosed?.(`${d.code}: ${d.reason}`);
    }
  }

  async request<T>(method: Method, data: Record<string, unknown>): Promise<T> {
    let res;
    try {
      res = await this.#client.call(method, data, REQUEST_TIMEOUT_MS);
    } catch (err) {
      throw new LoadTestError('SERVER_REFUSED', (err as Error).message);
    }
    if (res.ok) return res.data as T;
    const text = `${res.error.code}: ${res.error.message}`;
    throw /^TOKEN|ISSUER|PERMISSION/.test(res.error.code)
      ? new AuthError(`the server refused the load-test credentials: ${text}`)
      : new LoadTestError('SERVER_REFUSED', text);
  }

  admitAll(waiting: readonly WaitingEntry[] | undefined): void {
    if (!this.autoAdmit || !waiting) return;
    for (const w of waiting) {
      if (this.#admitting.has(w.identity)) continue;
      this.#admitting.add(w.identity);
      // Another host of the room may admit first; that refusal is expected.
      this.request('admit', { identity: w.identity }).catch(() => undefined);
    }
  }

  waitAdmitted(timeoutMs: number): Promise<RoomView> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new LoadTestError('SERVER_REFUSED', `not admitted from the waiting room within ${timeoutMs / 1000} s`),
          ),
        timeoutMs,
      );
      this.#admitted = (view) => {
        clearTimeout(timer);
        resolve(view);
      };
    });
  }

  drainEarly(): void {
    const early = this.#early.splice(0);
    for (const c of early) this.onConsumer?.(c);
  }

  createPlainTransport(direction: 'send' | 'recv', srtp: boolean, suite: SrtpSuite): Promise<PlainTransportInfo> {
    return this.request('createPlainTransport', { direction, srtp, ...(srtp ? { srtpCryptoSuite: suite } : {}) });
  }
  async connectPlainTransport(
    transportId: string,
    ip: string,
    port: number,
    srtpParameters?: SrtpParameters,
  ): Promise<void> {
    await this.request('connectPlainTransport', {
      transportId,
      ip,
      port,
      ...(srtpParameters ? { srtpParameters } : {}),
    });
  }
  createWebRtcTransport(direction: 'send' | 'recv'): Promise<WebRtcTransportInfo> {
    return this.request('createTransport', { direction });
  }
  async connectWebRtcTransport(
    transportId: string,
    dtlsParameters: { role: 'client'; fingerprints: { algorithm: string; value: string }[] },
  ): Promise<void> {
    await this.request('connectTransport', { transportId, dtlsParameters });
  }
  async setRtpCapabilities(caps: Record<string, unknown>): Promise<void> {
    await this.request('setRtpCapabilities', { rtpCapabilities: caps });
    this.drainEarly();
  }
  async produce(
    transportId: string,
    kind: 'audio' | 'video',
    source: 'camera' | 'microphone',
    rtpParameters: Record<string, unknown>,
  ): Promise<string> {
    const r = await this.request<{ trackId: string }>('produce', { transportId, kind, source, rtpParameters });
    return r.trackId;
  }
  async resumeConsumer(consumerId: string): Promise<void> {
    await this.request('resumeConsumer', { consumerId });
  }
  async leave(): Promise<void> {
    this.#closedByUs = true;
    try {
      await this.request('leave', {});
    } finally {
      this.#client.close();
    }
  }
  close(): void {
    this.#closedByUs = true;
    this.#client.close();
  }
}

export interface HuizhenTarget {
  /** http(s) origin, e.g. http://127.0.0.1:3000 */
  httpUrl: string;
  /** ws(s) URL of the signaling endpoint. */
  wsUrl: string;
}

/** Accepts http(s)://host:port, ws(s)://host:port or ws(s)://host:port/ws. */
export function parseTargetUrl(raw: string): HuizhenTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new LoadTestError('USAGE', `--url '${raw}' is not a URL (expected e.g. http://127.0.0.1:3000)`, 2);
  }
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) {
    throw new LoadTestError(
      'USAGE',
      `--url must start with http://, https://, ws:// or wss:// (got '${u.protocol}')`,
      2,
    );
  }
  const host = u.host;
  const path = u.pathname.replace(/\/ws\/?$/, '').replace(/\/$/, '');
  return {
    httpUrl: `${secure ? 'https' : 'http'}://${host}${path}`,
    wsUrl: `${secure ? 'wss' : 'ws'}://${host}${path}/ws`,
  };
}

export class HuizhenConnector implements SfuConnector {
  readonly name = 'huizhen';
  readonly #target: HuizhenTarget;
  readonly #tokens: TokenSource;

  constructor(target: HuizhenTarget, tokens: TokenSource) {
    this.#target = target;
    this.#tokens = tokens;
  }

  async connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    const token = await this.#tokens.token(req);
    let client: ProtocolClient;
    try {
      client = await ProtocolClient.connect(this.#target.wsUrl, {
        keepLog: false,
        perMessageDeflate: false,
        handshakeTimeoutMs: REQUEST_TIMEOUT_MS,
      });
    } catch (err) {
      throw new UnreachableError(
        `cannot open the signaling WebSocket ${this.#target.wsUrl}: ${(err as Error).message}`,
      );
    }
    timing.wsOpenAt = performance.now();
    const session = new WsSession(client);
    try {
      const admitted = session.waitAdmitted(30_000);
      admitted.catch(() => undefined);
      const joined = await session.request<ResponseData['join']>('join', { protocolVersion: 1, token });
      if (joined.permissions.includes('admit')) {
        session.autoAdmit = true;
        if (joined.admission === 'admitted') session.admitAll(joined.waitingRoom);
      }
      session.routerRtpCapabilities =
        joined.admission === 'admitted' ? joined.routerRtpCapabilities : (await admitted).routerRtpCapabilities;
    } catch (err) {
      session.close();
      throw err;
    }
    timing.joinedAt = performance.now();
    return session;
  }

  async close(): Promise<void> {}
}
