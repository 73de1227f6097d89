/**
 * What a synthetic participant needs from an SFU, and its implementation over
 * Huizhen's real front door: token → WebSocket → join → plain transports →
 * produce → consume. The bare-mediasoup baseline implements the same interface
 * without Huizhen in between (bare.ts).
 */
import WebSocket from 'ws';
import type { NotificationData, ResponseData, RoomKind, RoomView, WaitingEntry } from '@huizhen/protocol';
import { AuthError, LoadTestError, UnreachableError } from './errors.js';
import type { SrtpParameters } from './rtp/srtp.js';
import type { TokenSource } from './tokens.js';

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

export interface SfuSession {
  readonly routerRtpCapabilities: Record<string, unknown>;
  createPlainTransport(direction: 'send' | 'recv', srtp: boolean): Promise<PlainTransportInfo>;
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
  close(): void;
}

export interface SfuConnector {
  readonly name: string;
  /** Joins (and, for roles that wait in the lobby, waits until a host admits them). */
  connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession>;
  close(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** A minimal protocol-v1 client: one request at a time per id, bounded by a timeout. */
class WsSession implements SfuSession {
  routerRtpCapabilities: Record<string, unknown> = {};
  onConsumer: ((c: ConsumerInfo) => void) | undefined;
  onClosed: ((reason: string) => void) | undefined;
  readonly #ws: WebSocket;
  #nextId = 1;
  readonly #pending = new Map<
    number,
    { resolve: (d: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  #closedByUs = false;
  /** Consumers announced before the participant set onConsumer. */
  readonly #early: ConsumerInfo[] = [];
  #admitted: ((view: RoomView) => void) | undefined;
  /** Hosts admit whoever waits, as the doctor of a consult does. */
  autoAdmit = false;
  readonly #admitting = new Set<string>();

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => this.#onMessage(raw.toString()));
    ws.on('close', (code, reason) => {
      const why = `signaling closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      for (const p of this.#pending.values()) {
        clearTimeout(p.timer);
        p.reject(new LoadTestError('SERVER_REFUSED', why));
      }
      this.#pending.clear();
      if (!this.#closedByUs) this.onClosed?.(why);
    });
    ws.on('error', () => undefined);
  }

  #onMessage(text: string): void {
    let msg: {
      id?: number;
      ok?: boolean;
      data?: unknown;
      error?: { code: string; message: string };
      notification?: string;
    };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.notification === 'consumerCreated') {
      const c = msg.data as ConsumerInfo;
      if (this.onConsumer) this.onConsumer(c);
      else this.#early.push(c);
      return;
    }
    if (msg.notification === 'admitted') {
      this.#admitted?.(msg.data as RoomView);
      return;
    }
    if (msg.notification === 'waitingRoomChanged') {
      this.admitAll((msg.data as { waiting: WaitingEntry[] }).waiting);
      return;
    }
    if (msg.notification === 'sessionClosed') {
      const d = msg.data as { code: string; reason: string };
      this.onClosed?.(`${d.code}: ${d.reason}`);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.data);
    else {
      const code = msg.error?.code ?? 'UNKNOWN';
      const text2 = `${code}: ${msg.error?.message ?? 'request failed'}`;
      p.reject(
        /^TOKEN|ISSUER|PERMISSION/.test(code)
          ? new AuthError(`the server refused the load-test credentials: ${text2}`)
          : new LoadTestError('SERVER_REFUSED', text2),
      );
    }
  }

  request<T>(method: string, data: Record<string, unknown>): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new LoadTestError('SERVER_REFUSED', `no answer to '${method}' within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.#ws.send(JSON.stringify({ id, method, data }));
    });
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

  createPlainTransport(direction: 'send' | 'recv', srtp: boolean): Promise<PlainTransportInfo> {
    return this.request('createPlainTransport', { direction, srtp });
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
  close(): void {
    this.#closedByUs = true;
    this.#ws.close();
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
    const ws = new WebSocket(this.#target.wsUrl, { perMessageDeflate: false, handshakeTimeout: REQUEST_TIMEOUT_MS });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) =>
        reject(
          new UnreachableError(`cannot open the signaling WebSocket ${this.#target.wsUrl}: ${(err as Error).message}`),
        ),
      );
    });
    timing.wsOpenAt = performance.now();
    const session = new WsSession(ws);
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
