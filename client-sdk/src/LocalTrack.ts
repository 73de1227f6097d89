/** A track this client publishes, with its producer, mute (own or by a host) and republishing settings. */
import type { Producer, ProducerCodecOptions, RtpEncodingParameters } from 'mediasoup-client/types';
import { ErrorCode, HuizhenError } from './errors.js';
import type { PersonRef, TrackSource } from '@huizhen/protocol';
import { Track } from './Track.js';

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
  /** Paused because the uplink cannot carry it (the server said so); not a mute. */
  #networkPaused = false;
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

  /**
   * True while the SDK holds this video back because the network cannot carry
   * it (`audioOnlyChanged` with direction 'uplink'). Not a mute: `muted` stays
   * as the user left it, and video comes back by itself when the link recovers.
   */
  get pausedForNetwork(): boolean {
    return this.#networkPaused;
  }

  /** @internal The uplink cannot carry video (true) or can again (false). Returns whether it changed. */
  _setNetworkPaused(paused: boolean): boolean {
    if (this.#networkPaused === paused || this.isEnded) return false;
    this.#networkPaused = paused;
    if (this.#producer.closed) return true;
    // Only the sending stops; the user's mute state is theirs.
    if (paused) this.#producer.pause();
    else if (!this.#muted) this.#producer.resume();
    return true;
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
      if (!this.#producer.closed && !this.#networkPaused) this.#producer.resume();
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
    if ((this.#muted || this.#networkPaused) && !producer.paused) producer.pause();
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
