/**
 * The media side of a joined session: the mediasoup Device, the send and
 * receive transports, and keeping them connected (ICE restarts). Signaling for
 * transports goes through the SignalClient; rooms and participants live elsewhere.
 */
import { Device } from 'mediasoup-client';
import type {
  AppData,
  Consumer,
  ConnectionState as TransportConnectionState,
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
import { TRACK_SOURCES, type TrackSource, type TransportOptions } from '@huizhen/protocol';
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
  #sendTransport: Promise<Transport> | undefined;
  #closed = false;

  /**
   * Detects the browser's WebRTC flavour. Done before joining so an unsupported
   * browser fails at once (and a patient does not wait in the lobby for nothing).
   *
   * @throws mediasoup-client's UnsupportedError when the browser cannot do WebRTC.
   */
  static createDevice(options?: DeviceOptions): Promise<Device> {
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
    const remote = await options.signal.request('createTransport', { direction: 'recv' });
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
    this.#sendTransport ??= this.#signal.request('createTransport', { direction: 'send' }).then((remote) => {
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
      ...(this.#options.iceServers ? { iceServers: this.#options.iceServers } : {}),
    };
    const transport =
      direction === 'send' ? this.device.createSendTransport(init) : this.device.createRecvTransport(init);
    const log = this.#log.child({ transportId: transport.id, direction });

    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#signal
        .request('connectTransport', { transportId: transport.id, dtlsParameters })
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
          .request('produce', {
            transportId: transport.id,
            kind,
            source,
            rtpParameters,
            ...(paused ? { paused: true } : {}),
          })
          .then(({ trackId }) => callback({ id: trackId }), errback);
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
