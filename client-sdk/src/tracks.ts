/**
 * Tracks: one published (LocalTrack) or received (RemoteTrack) audio or video
 * stream, with helpers to show it in `<video>` / `<audio>` elements.
 */
import type { Consumer, Producer, ProducerCodecOptions, RtpEncodingParameters } from 'mediasoup-client/types';
import { ErrorCode, HuizhenError } from './errors.js';
import { errorFields, type Logger } from './logger.js';
import type { TrackEventCallbacks } from './events.js';
import type { MediaKind, PersonRef, TrackSource } from '@huizhen/protocol';
import type { SignalClient } from './SignalClient.js';
import { TypedEmitter } from '@huizhen/protocol';
import { VideoSizeReporter, type VideoSizeReporterOptions } from './videoSize.js';

export type { MediaKind, TrackSource };

/** The simulcast layers currently forwarded for a remote video track. */
export interface VideoLayers {
  spatialLayer: number | null;
  temporalLayer: number | null;
}

/** Puts `track` into the element's stream, replacing any track of the same kind. */
function setElementTrack(element: HTMLMediaElement, track: MediaStreamTrack): void {
  const current = element.srcObject;
  const others =
    current instanceof MediaStream ? current.getTracks().filter((t) => t.kind !== track.kind && t !== track) : [];
  if (
    current instanceof MediaStream &&
    current.getTracks().length === others.length + 1 &&
    current.getTracks().includes(track)
  ) {
    return;
  }
  // A fresh stream rather than mutating the old one: Safari does not always
  // pick up tracks added to a stream that is already playing.
  element.srcObject = new MediaStream([...others, track]);
}

function removeElementTrack(element: HTMLMediaElement, track: MediaStreamTrack): void {
  const current = element.srcObject;
  if (!(current instanceof MediaStream)) return;
  const remaining = current.getTracks().filter((t) => t !== track);
  if (remaining.length === current.getTracks().length) return;
  element.srcObject = remaining.length > 0 ? new MediaStream(remaining) : null;
}

/** What the two kinds of track have in common. */
export abstract class Track extends TypedEmitter<TrackEventCallbacks> {
  /** 'audio' or 'video'. */
  readonly kind: MediaKind;
  /** What the track shows: camera, microphone, screen or screenAudio. */
  readonly source: TrackSource;
  readonly #elements: HTMLMediaElement[] = [];
  #ended = false;

  protected constructor(kind: MediaKind, source: TrackSource) {
    super();
    this.kind = kind;
    this.source = source;
  }

  /** The server's id for this track (its producer id); the same on every client. */
  abstract get trackId(): string;
  /** The underlying browser track. */
  abstract get mediaStreamTrack(): MediaStreamTrack;
  /** Whether the publisher has muted the track. */
  abstract get muted(): boolean;
  /** Whether a local track is published by this client. */
  abstract get isLocal(): boolean;

  /** Elements this track is attached to. */
  get attachedElements(): readonly HTMLMediaElement[] {
    return [...this.#elements];
  }

  /** True once the track is unpublished, unsubscribed or its source ended. */
  get isEnded(): boolean {
    return this.#ended;
  }

  /**
   * Shows or plays the track in `element`, or in a new `<video autoplay
   * playsinline>` / `<audio autoplay>` element when none is given (append it to
   * the page yourself). An element may hold one audio and one video track.
   */
  attach(element?: HTMLMediaElement): HTMLMediaElement {
    const el = element ?? this.#createElement();
    el.autoplay = true;
    if (this.kind === 'video') {
      (el as HTMLVideoElement).playsInline = true;
      // Older iOS Safari only honours the attribute.
      el.setAttribute('playsinline', '');
    }
    // Never play a participant's own microphone back to them; muted video also autoplays everywhere.
    if (this.isLocal) el.muted = true;
    setElementTrack(el, this.mediaStreamTrack);
    if (!this.#elements.includes(el)) {
      this.#elements.push(el);
      this.onAttached(el);
    }
    this.#play(el);
    return el;
  }

  /** Stops showing the track in `element`, or in every element; returns the elements detached. */
  detach(element?: HTMLMediaElement): HTMLMediaElement[] {
    const targets = element ? this.#elements.filter((e) => e === element) : [...this.#elements];
    for (const el of targets) {
      this.#elements.splice(this.#elements.indexOf(el), 1);
      removeElementTrack(el, this.mediaStreamTrack);
      this.onDetached(el);
    }
    return targets;
  }

  /** Tries again to play every attached element; call from a user gesture after `playbackBlocked`. */
  async play(): Promise<void> {
    await Promise.all(this.#elements.map((el) => el.play().catch(() => undefined)));
  }

  protected onAttached(_element: HTMLMediaElement): void {}
  protected onDetached(_element: HTMLMediaElement): void {}

  /** Marks the track finished, detaches it everywhere and emits `ended`. Idempotent. */
  protected markEnded(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    this.detach();
    this.emit('ended');
    return true;
  }

  #createElement(): HTMLMediaElement {
    return document.createElement(this.kind === 'video' ? 'video' : 'audio');
  }

  #play(el: HTMLMediaElement): void {
    const result = el.play?.();
    if (!result || typeof result.catch !== 'function') return;
    result.catch((error: unknown) => {
      // AbortError only means a newer source replaced this one; nothing to report.
      if ((error as { name?: unknown })?.name === 'NotAllowedError' && this.#elements.includes(el)) {
        this.emit('playbackBlocked', el);
      }
    });
  }
}

/** How a LocalTrack reaches the server; implemented by LocalParticipant. */
export interface LocalTrackHost {
  setPaused(track: LocalTrack, paused: boolean): Promise<void>;
  unpublish(track: LocalTrack): Promise<void>;
}

/** A host's mute on one of this client's tracks. */
export interface HostMute {
  /** Who muted it. */
  by: PersonRef;
  /** Whether this client may unmute it itself. */
  allowUnmute: boolean;
}

/** How a track was published, kept so it can be published again after a fresh rejoin. */
export interface PublishSettings {
  encodings?: RtpEncodingParameters[];
  codecOptions?: ProducerCodecOptions;
}

/** A track this client publishes. */
export class LocalTrack extends Track {
  #producer: Producer;
  readonly #mediaStreamTrack: MediaStreamTrack;
  readonly #host: LocalTrackHost;
  readonly #ownsMediaTrack: boolean;
  readonly #settings: PublishSettings;
  /** Our own state: the producer may be gone for a while (reconnecting) and replaced. */
  #muted: boolean;
  #hostMute: HostMute | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** @internal Created by LocalParticipant when publishing. */
  constructor(options: {
    producer: Producer;
    mediaStreamTrack: MediaStreamTrack;
    source: TrackSource;
    host: LocalTrackHost;
    /** Whether the SDK captured the track (and so stops it when unpublished). */
    ownsMediaTrack: boolean;
    settings?: PublishSettings;
  }) {
    super(options.producer.kind, options.source);
    this.#producer = options.producer;
    this.#mediaStreamTrack = options.mediaStreamTrack;
    this.#host = options.host;
    this.#ownsMediaTrack = options.ownsMediaTrack;
    this.#settings = options.settings ?? {};
    this.#muted = options.producer.paused;
  }

  /** The server's id for the track. It changes only if a reconnect had to join afresh (`reconnected` with `resumed: false`). */
  get trackId(): string {
    return this.#producer.id;
  }

  get mediaStreamTrack(): MediaStreamTrack {
    return this.#mediaStreamTrack;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get isLocal(): boolean {
    return true;
  }

  /** Set while a host has this track muted; `unmute()` is refused unless `allowUnmute`. */
  get mutedByHost(): Readonly<HostMute> | undefined {
    return this.#hostMute;
  }

  /** @internal */
  get producer(): Producer {
    return this.#producer;
  }

  /** @internal */
  get publishSettings(): PublishSettings {
    return this.#settings;
  }

  /**
   * Stops sending (others see the track as muted). Media stops locally at once,
   * before the server is told, so nothing leaks while the request is in flight.
   * While the room is reconnecting the mute is local at once and reaches the
   * server when the connection is back.
   */
  mute(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#muted || this.isEnded) return;
      this.#pauseLocally();
      this.emit('muted');
      await this.#host.setPaused(this, true);
    });
  }

  /**
   * Starts sending again. If the server refuses, the track stays muted.
   *
   * @throws HuizhenError PERMISSION_DENIED when a host muted the track without
   *   allowing an unmute; CONNECTION_FAILED while reconnecting.
   */
  unmute(): Promise<void> {
    return this.#serialize(async () => {
      if (!this.#muted || this.isEnded) return;
      if (this.#hostMute && !this.#hostMute.allowUnmute) {
        throw new HuizhenError(
          ErrorCode.PERMISSION_DENIED,
          `${this.#hostMute.by.name} muted your ${this.source}; only they can let you unmute it`,
        );
      }
      await this.#host.setPaused(this, false);
      this.#hostMute = undefined;
      this.#muted = false;
      if (!this.#producer.closed) this.#producer.resume();
      else this.#mediaStreamTrack.enabled = true;
      this.emit('unmuted');
    });
  }

  /** @internal A host paused the track on the server; stop sending locally too. */
  _mutedByHost(mute: HostMute): void {
    if (this.isEnded) return;
    this.#hostMute = { ...mute };
    if (this.#muted) return;
    this.#pauseLocally();
    this.emit('muted');
  }

  /** @internal The server refused an unmute it had agreed to: back to muted. */
  _forceMuted(): void {
    if (this.#muted || this.isEnded) return;
    this.#pauseLocally();
    this.emit('muted');
  }

  /** @internal Published again (after a fresh rejoin): the new producer takes over. */
  _replaceProducer(producer: Producer): void {
    if (!this.#producer.closed) this.#producer.close();
    this.#producer = producer;
    // Mute state and a host's mute carry over to the new producer: the person did not unmute.
    if (this.#muted && !producer.paused) producer.pause();
  }

  /** Stops publishing the track (and stops the camera/microphone if the SDK opened it). */
  unpublish(): Promise<void> {
    return this.#host.unpublish(this);
  }

  /** @internal Closes the producer, releases the device if owned, emits `ended`. */
  _end(): void {
    if (!this.#producer.closed) this.#producer.close();
    if (this.#ownsMediaTrack) this.#mediaStreamTrack.stop();
    this.markEnded();
  }

  #pauseLocally(): void {
    this.#muted = true;
    // A closed producer (mid-reconnect) cannot pause; disabling the track stops media just the same.
    if (!this.#producer.closed) this.#producer.pause();
    this.#mediaStreamTrack.enabled = false;
  }

  #serialize(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

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
