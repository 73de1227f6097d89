/**
 * The media side of a joined session: the mediasoup Device, the send and
 * receive transports, and keeping them connected (ICE restarts). Signaling for
 * transports goes through the SignalClient; rooms and participants live elsewhere.
 */
import type {
  AppData,
  Device,
  Consumer,
  ConnectionState as TransportConnectionState,
  DataConsumer,
  DataProducer,
  DeviceOptions,
  MediaKind,
  Producer,
  ProducerCodecOptions,
  RtpEncodingParameters,
  RtpParameters,
  Transport,
} from 'mediasoup-client/types';
import { ErrorCode, HuizhenError } from './errors.js';
import { errorFields, type Logger } from './logger.js';
import { TRACK_SOURCES, type DataChannelInfo, type TrackSource, type TransportOptions } from '@huizhen/protocol';
import type { SignalClient } from './SignalClient.js';

export type TransportDirection = 'send' | 'recv';

export interface MediaSessionOptions {
  signal: SignalClient;
  routerRtpCapabilities: Record<string, unknown>;
  logger: Logger;
  /** From `MediaSession.createDevice()`; loaded here with the router's capabilities. */
  device: Device;
  /** ICE servers (TURN) for networks where direct UDP/TCP to the server is blocked. */
  iceServers?: RTCIceServer[];
  // --- TURN
  /** 'relay' sends all media through TURN (strict networks, tests); 'all' by default. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** A TURN server refused the credentials (e.g. expired: 401). */
  onIceServerError?: (error: HuizhenError) => void;
  /** How long a transport may stay 'disconnected' before an ICE restart; 3000 ms by default. */
  iceRestartDelayMs?: number;
  onConnectionStateChange?: (direction: TransportDirection, state: TransportConnectionState) => void;
}

export interface ProduceOptions {
  track: MediaStreamTrack;
  source: TrackSource;
  encodings?: RtpEncodingParameters[];
  codecOptions?: ProducerCodecOptions;
  /** Start paused (muted) on the server and locally. */
  paused?: boolean;
}

export interface ConsumeOptions {
  consumerId: string;
  trackId: string;
  kind: MediaKind;
  rtpParameters: RtpParameters;
}

/**
 * How long the answer to a request that makes media state on the server
 * (produce, produceData, connectTransport) is waited for. The server acts on
 * these at once; a slow answer means a congested downlink (a patient on a thin
 * mobile link while the first seconds of video arrive), and giving up would
 * leave the server with a track the client no longer has. A connection that is
 * really gone is found by the heartbeat, which fails these requests at once.
 */
export const MEDIA_SETUP_TIMEOUT_MS = 30_000;
const SETUP = { timeoutMs: MEDIA_SETUP_TIMEOUT_MS } as const;

/** Source and initial pause state travel to the 'produce' handler in appData. */
interface ProducerAppData extends AppData {
  source: TrackSource;
  paused: boolean;
}

function isTrackSource(value: unknown): value is TrackSource {
  return typeof value === 'string' && (TRACK_SOURCES as readonly string[]).includes(value);
}

export class MediaSession {
  readonly device: Device;
  readonly recvTransport: Transport;
  readonly #signal: SignalClient;
  readonly #log: Logger;
  readonly #options: MediaSessionOptions;
  readonly #restartTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #restarting = new Set<string>();
  /** Transports the server gave an SCTP association (data channels). */
  readonly #sctp = new Set<string>();
  #sendTransport: Promise<Transport> | undefined;
  #closed = false;
  #iceServers: RTCIceServer[] | undefined;

  /**
   * Detects the browser's WebRTC flavour. Done before joining so an unsupported
   * browser fails at once (and a patient does not wait in the lobby for nothing).
   *
   * @throws mediasoup-client's UnsupportedError when the browser cannot do WebRTC.
   */
  static async createDevice(options?: DeviceOptions): Promise<Device> {
    // Loaded on the first connect, not with the SDK: mediasoup-client is half of the SDK's
    // weight, and an app's pages that import the SDK but join no call yet need not fetch it.
    const { Device } = await import('mediasoup-client');
    return Device.factory(options);
  }

  /**
   * Loads the device with the router's capabilities, creates the receive
   * transport and tells the server what this browser can receive (after which
   * the server starts offering tracks). The send transport is created on first
   * publish, so participants who never publish (observers) do not set one up.
   */
  static async create(options: MediaSessionOptions): Promise<MediaSession> {
    const device = options.device;
    await device.load({ routerRtpCapabilities: options.routerRtpCapabilities });
    const remote = await options.signal.request('createTransport', {
      direction: 'recv',
      sctpCapabilities: device.sctpCapabilities,
    });
    const session = new MediaSession(device, remote, options);
    try {
      await options.signal.request('setRtpCapabilities', { rtpCapabilities: device.recvRtpCapabilities });
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  private constructor(device: Device, recv: TransportOptions, options: MediaSessionOptions) {
    this.device = device;
    this.#signal = options.signal;
    this.#log = options.logger;
    this.#options = options;
    this.#iceServers = options.iceServers;
    this.recvTransport = this.#setUpTransport('recv', recv);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether either transport is connected (media can flow). */
  get connected(): boolean {
    if (this.#closed) return false;
    return this.recvTransport.connectionState === 'connected' || this.#sendConnected;
  }

  #sendConnected = false;

  /** The send transport, once the first publish created it. */
  get sendTransport(): Transport | undefined {
    return this.#sendReady;
  }

  #sendReady: Transport | undefined;

  /** Whether this browser can send `kind` with the room's codecs. */
  canProduce(kind: MediaKind): boolean {
    return this.device.canProduce(kind);
  }

  /** Creates a consumer for a track the server offered. */
  consume(options: ConsumeOptions): Promise<Consumer> {
    this.#assertOpen();
    return this.recvTransport.consume({
      id: options.consumerId,
      producerId: options.trackId,
      kind: options.kind,
      rtpParameters: options.rtpParameters,
    });
  }

  /** Publishes a track; the returned producer's id is the track id on the server. */
  async produce(options: ProduceOptions): Promise<Producer> {
    this.#assertOpen();
    const kind = options.track.kind;
    if (kind !== 'audio' && kind !== 'video') {
      throw new HuizhenError(ErrorCode.INVALID_REQUEST, `Cannot publish a track of kind '${kind}'`);
    }
    if (!this.device.canProduce(kind)) {
      throw new HuizhenError(ErrorCode.MEDIA_ERROR, `This browser cannot send ${kind} with the codecs this room uses`);
    }
    const transport = await this.#getSendTransport();
    const paused = options.paused === true;
    // Disable before producing so a muted publish never sends a frame.
    if (paused) options.track.enabled = false;
    const appData: ProducerAppData = { source: options.source, paused };
    const producer = await transport.produce({
      track: options.track,
      encodings: options.encodings,
      codecOptions: options.codecOptions,
      // The SDK decides when to stop tracks (it must not stop ones the app passed in).
      stopTracks: false,
      appData,
    });
    if (paused) producer.pause();
    return producer;
  }

  // --- data channels

  /** Whether the receive transport carries data channels (the server has them on). */
  get receivesData(): boolean {
    return this.#sctp.has(this.recvTransport.id);
  }

  /**
   * Opens a DataProducer on the send transport (created on first use). The
   * label is the topic; unreliable means unordered with no retransmissions.
   */
  async produceData(options: { label: string; reliable: boolean }): Promise<DataProducer> {
    this.#assertOpen();
    const transport = await this.#getSendTransport();
    if (!this.#sctp.has(transport.id))
      throw new HuizhenError(ErrorCode.INVALID_STATE, 'This server has data channels turned off');
    return transport.produceData({
      label: options.label,
      ordered: options.reliable,
      ...(options.reliable ? {} : { maxRetransmits: 0 }),
    });
  }

  /** Sets up one of the server's data channels on the receive transport. */
  consumeData(info: DataChannelInfo): Promise<DataConsumer> {
    this.#assertOpen();
    return this.recvTransport.consumeData({
      id: info.dataConsumerId,
      dataProducerId: info.dataProducerId,
      sctpStreamParameters: info.sctpStreamParameters,
      label: info.label,
      protocol: info.protocol,
    });
  }

  /**
   * Restarts ICE on every transport, e.g. after the signaling connection came
   * back: the network (and so the working candidate pair) may have changed.
   * Failures are logged, not thrown; a transport that stays broken restarts
   * again when its state goes 'failed'.
   */
  async restartIce(): Promise<void> {
    const transports: Transport[] = [this.recvTransport];
    const send = await this.#sendTransport?.catch(() => undefined);
    if (send) transports.push(send);
    await Promise.all(transports.map((t) => this.#restartIce(t)));
  }

  // --- TURN
  /**
   * New ICE servers (fresh TURN credentials) for both transports. They apply
   * to the next ICE gathering; a transport that relays through TURN now
   * restarts ICE at once, so its allocation is renewed with credentials that
   * are still valid instead of failing when the old ones expire.
   */
  async updateIceServers(iceServers: RTCIceServer[]): Promise<void> {
    if (this.#closed) return;
    this.#iceServers = iceServers;
    const transports: Transport[] = [this.recvTransport];
    const send = await this.#sendTransport?.catch(() => undefined);
    if (send) transports.push(send);
    await Promise.all(
      transports.map(async (t) => {
        if (t.closed) return;
        try {
          await t.updateIceServers({ iceServers });
          if (this.#options.iceTransportPolicy === 'relay' || (await usesRelay(t))) await this.#restartIce(t);
        } catch (error) {
          this.#log.warn('could not update ICE servers', { transportId: t.id, ...errorFields(error) });
        }
      }),
    );
  }

  /** Closes both transports (and with them every producer and consumer). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#restartTimers.values()) clearTimeout(timer);
    this.#restartTimers.clear();
    this.recvTransport.close();
    this.#sendTransport?.then((t) => t.close()).catch(() => undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new HuizhenError(ErrorCode.INVALID_STATE, 'The media session is closed');
  }

  #getSendTransport(): Promise<Transport> {
    this.#sendTransport ??= this.#signal
      .request('createTransport', { direction: 'send', sctpCapabilities: this.device.sctpCapabilities })
      .then((remote) => {
        if (this.#closed) throw new HuizhenError(ErrorCode.INVALID_STATE, 'The media session is closed');
        this.#sendReady = this.#setUpTransport('send', remote);
        return this.#sendReady;
      });
    // A failed creation must not poison later publishes.
    this.#sendTransport.catch(() => {
      this.#sendTransport = undefined;
    });
    return this.#sendTransport;
  }

  #setUpTransport(direction: TransportDirection, remote: TransportOptions): Transport {
    const init = {
      id: remote.id,
      iceParameters: remote.iceParameters,
      iceCandidates: remote.iceCandidates,
      dtlsParameters: remote.dtlsParameters,
      ...(this.#iceServers ? { iceServers: this.#iceServers } : {}),
      ...(this.#options.iceTransportPolicy ? { iceTransportPolicy: this.#options.iceTransportPolicy } : {}),
      ...(remote.sctpParameters ? { sctpParameters: remote.sctpParameters } : {}),
    };
    const transport =
      direction === 'send' ? this.device.createSendTransport(init) : this.device.createRecvTransport(init);
    const log = this.#log.child({ transportId: transport.id, direction });
    watchIceServerErrors(transport, log, (error) => this.#options.onIceServerError?.(error));
    if (remote.sctpParameters) this.#sctp.add(transport.id);

    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signal
        .request('connectTransport', { transportId: transport.id, dtlsParameters }, SETUP)
        .then(() => callback(), errback);
    });

    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const { source, paused } = appData as Partial<ProducerAppData>;
        if (!isTrackSource(source)) {
          errback(new HuizhenError(ErrorCode.INVALID_REQUEST, 'A published track needs a source'));
          return;
        }
        this.#signal
          .request(
            'produce',
            {
              transportId: transport.id,
              kind,
              source,
              rtpParameters,
              ...(paused ? { paused: true } : {}),
            },
            SETUP,
          )
          .then(({ trackId }) => callback({ id: trackId }), errback);
      });
      // --- data channels
      transport.on('producedata', ({ sctpStreamParameters, label, protocol }, callback, errback) => {
        const { streamId, ordered, maxPacketLifeTime, maxRetransmits } = sctpStreamParameters;
        if (streamId === undefined || label === undefined) {
          errback(new HuizhenError(ErrorCode.INVALID_STATE, 'The data channel got no SCTP stream or label'));
          return;
        }
        this.#signal
          .request(
            'produceData',
            {
              transportId: transport.id,
              sctpStreamParameters: {
                streamId,
                ...(ordered !== undefined ? { ordered } : {}),
                ...(maxPacketLifeTime !== undefined ? { maxPacketLifeTime } : {}),
                ...(maxRetransmits !== undefined ? { maxRetransmits } : {}),
              },
              label,
              ...(protocol ? { protocol } : {}),
            },
            SETUP,
          )
          .then(({ dataProducerId }) => callback({ id: dataProducerId }), errback);
      });
    }

    transport.on('connectionstatechange', (state) => {
      log.debug('transport connection state', { state });
      if (direction === 'send') this.#sendConnected = state === 'connected';
      this.#options.onConnectionStateChange?.(direction, state);
      this.#onConnectionState(transport, state);
    });
    return transport;
  }

  /**
   * 'failed' needs a restart right away; 'disconnected' often heals by itself
   * (a brief Wi-Fi hiccup), so give it a few seconds first.
   */
  #onConnectionState(transport: Transport, state: TransportConnectionState): void {
    clearTimeout(this.#restartTimers.get(transport.id));
    this.#restartTimers.delete(transport.id);
    if (this.#closed) return;
    if (state === 'failed') {
      void this.#restartIce(transport);
    } else if (state === 'disconnected') {
      const delay = this.#options.iceRestartDelayMs ?? 3000;
      this.#restartTimers.set(
        transport.id,
        setTimeout(() => {
          this.#restartTimers.delete(transport.id);
          if (transport.connectionState === 'disconnected') void this.#restartIce(transport);
        }, delay),
      );
    }
  }

  async #restartIce(transport: Transport): Promise<void> {
    if (this.#closed || transport.closed || this.#restarting.has(transport.id)) return;
    this.#restarting.add(transport.id);
    const log = this.#log.child({ transportId: transport.id });
    try {
      log.info('restarting ICE');
      const { iceParameters } = await this.#signal.request('restartIce', { transportId: transport.id });
      if (this.#closed || transport.closed) return;
      await transport.restartIce({ iceParameters });
    } catch (error) {
      log.warn('ICE restart failed', errorFields(error));
    } finally {
      this.#restarting.delete(transport.id);
    }
  }
}

// --- TURN
/** Whether the transport's selected candidate pair goes through a TURN relay. */
async function usesRelay(transport: Transport): Promise<boolean> {
  const stats = await transport.getStats();
  const byId = new Map<string, Record<string, unknown>>();
  stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
  for (const s of byId.values()) {
    if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue;
    const pair = byId.get(s.selectedCandidatePairId);
    const local = pair ? byId.get(pair.localCandidateId as string) : undefined;
    if (local?.candidateType === 'relay') return true;
  }
  return false;
}

/**
 * Reports STUN/TURN failures (RTCPeerConnection `icecandidateerror`): 401 means
 * the TURN server refused the credentials (wrong secret or expired), 701 that it
 * could not be reached. mediasoup-client does not surface these, so this looks
 * at its handler's RTCPeerConnection (a private field, guarded: without it
 * nothing is reported and ICE still fails visibly through the connection state).
 */
function watchIceServerErrors(transport: Transport, log: Logger, report: (error: HuizhenError) => void): void {
  const pc = (transport.handler as unknown as { _pc?: unknown })._pc;
  if (typeof RTCPeerConnection === 'undefined' || !(pc instanceof RTCPeerConnection)) return;
  const seen = new Set<string>();
  pc.addEventListener('icecandidateerror', (event: Event) => {
    const e = event as RTCPeerConnectionIceErrorEvent;
    const key = `${e.url}|${e.errorCode}`;
    if (seen.has(key)) return;
    seen.add(key);
    // 701 (no answer) also fires for sockets that can never reach the server (another
    // address family, say), so it is only logged; a refusal (4xx) is always real.
    if (e.errorCode < 400 || e.errorCode > 499) {
      log.debug('ICE server unreachable from one local address', { url: e.url, errorCode: e.errorCode });
      return;
    }
    log.warn('ICE server refused', { url: e.url, errorCode: e.errorCode, errorText: e.errorText });
    report(
      new HuizhenError(
        ErrorCode.ICE_SERVER_FAILED,
        `The TURN server ${e.url} refused the credentials (${e.errorCode} ${e.errorText}); they may have expired, or the TURN server's secret differs from Huizhen's.`,
      ),
    );
  });
}
