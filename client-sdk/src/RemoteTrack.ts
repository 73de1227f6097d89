/** A track another participant publishes and this client receives: its consumer, layers and video size hints. */
import type { Consumer } from 'mediasoup-client/types';
import { errorFields, type Logger } from './logger.js';
import type { TrackSource } from '@huizhen/protocol';
import type { SignalClient } from './SignalClient.js';
import { Track, type VideoLayers } from './Track.js';
import { VideoSizeReporter, type VideoSizeReporterOptions } from './videoSize.js';

/** A track published by another participant and received by this client. */
export class RemoteTrack extends Track {
  readonly #trackId: string;
  readonly #consumer: Consumer;
  readonly #signal: SignalClient;
  readonly #log: Logger;
  readonly #sizeOptions: VideoSizeReporterOptions | undefined;
  /** The identity of the participant who publishes it. */
  readonly participantIdentity: string;
  #muted: boolean;
  #enabled: boolean;
  #resumed: boolean;
  #layers: VideoLayers | undefined;
  #sizeReporter: VideoSizeReporter | undefined;

  /** @internal Created by Room when the server offers a track. */
  constructor(options: {
    consumer: Consumer;
    trackId: string;
    source: TrackSource;
    participantIdentity: string;
    muted: boolean;
    signal: SignalClient;
    logger: Logger;
    /** Whether the consumer is already resumed on the server. */
    resumed: boolean;
    videoSize?: VideoSizeReporterOptions;
  }) {
    super(options.consumer.kind, options.source);
    this.#consumer = options.consumer;
    this.#trackId = options.trackId;
    this.participantIdentity = options.participantIdentity;
    this.#muted = options.muted;
    this.#signal = options.signal;
    this.#log = options.logger;
    this.#resumed = options.resumed;
    this.#enabled = options.resumed;
    this.#sizeOptions = options.videoSize;
  }

  get trackId(): string {
    return this.#trackId;
  }

  /** The server's id for this client's subscription to the track. */
  get consumerId(): string {
    return this.#consumer.id;
  }

  get mediaStreamTrack(): MediaStreamTrack {
    return this.#consumer.track;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get isLocal(): boolean {
    return false;
  }

  /** Whether this client asks the server to forward the track's media. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The simulcast layers being received (video), once the server has said. */
  get layers(): VideoLayers | undefined {
    return this.#layers;
  }

  /**
   * Starts or stops receiving this track's media, e.g. for a tile scrolled out
   * of view, or to start a track when the room was joined with `autoSubscribe: false`.
   */
  async setEnabled(enabled: boolean): Promise<void> {
    if (this.isEnded || enabled === this.#enabled) return;
    this.#enabled = enabled;
    try {
      if (enabled && !this.#resumed) {
        await this.#signal.request('resumeConsumer', { consumerId: this.consumerId });
        this.#resumed = true;
      } else {
        await this.#signal.request('setConsumerPaused', { consumerId: this.consumerId, paused: !enabled });
      }
    } catch (error) {
      this.#enabled = !enabled;
      throw error;
    }
    if (enabled) this.#consumer.resume();
    else this.#consumer.pause();
  }

  protected override onAttached(element: HTMLMediaElement): void {
    if (this.kind !== 'video') return;
    this.#sizeReporter ??= new VideoSizeReporter(
      (size) => this.#sendVideoSize(size.width, size.height),
      this.#sizeOptions,
    );
    this.#sizeReporter.observe(element);
  }

  protected override onDetached(element: HTMLMediaElement): void {
    this.#sizeReporter?.unobserve(element);
  }

  /** @internal */
  _setMuted(muted: boolean): boolean {
    if (this.#muted === muted) return false;
    this.#muted = muted;
    this.emit(muted ? 'muted' : 'unmuted');
    return true;
  }

  /** @internal */
  _setLayers(layers: VideoLayers): void {
    this.#layers = layers;
    this.emit('layersChanged', layers);
  }

  /** @internal Closes the local consumer, detaches everywhere, emits `ended`. */
  _end(): void {
    this.#sizeReporter?.dispose();
    this.#sizeReporter = undefined;
    if (!this.#consumer.closed) this.#consumer.close();
    this.markEnded();
  }

  #sendVideoSize(width: number, height: number): void {
    if (this.isEnded) return;
    this.#signal.request('setConsumerVideoSize', { consumerId: this.consumerId, width, height }).then(
      () => this.#log.debug('video size sent', { trackId: this.trackId, width, height }),
      (error: unknown) => this.#log.warn('could not send video size', { trackId: this.trackId, ...errorFields(error) }),
    );
  }
}
