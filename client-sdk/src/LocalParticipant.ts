/**
 * This client's own participant: publishing camera, microphone and screen,
 * muting, and unpublishing.
 *
 * Slightly over 400 lines on purpose: each publish path keeps its own documented public method.
 */
import type { Producer, ProducerCodecOptions, RtpEncodingParameters } from 'mediasoup-client/types';
import { ConnectionError, ErrorCode, HuizhenError, isHuizhenError } from './errors.js';
import type { LocalParticipantEventCallbacks } from './events.js';
import { errorFields, type Logger } from './logger.js';
import type { MediaSession } from './MediaSession.js';
import type { ParticipantInfo, Role, TrackInfo, TrackSource } from '@huizhen/protocol';
import type { SignalClient } from './SignalClient.js';
import { LocalTrack, type PublishSettings } from './tracks.js';
import { TypedEmitter, type ConnectionQuality, type LinkDirection } from '@huizhen/protocol';
import { LinkState, type ParticipantQuality } from './LinkState.js';
import {
  AUDIO_SOURCES,
  audioCodecOptions,
  microphoneBitrate,
  CAMERA_SIMULCAST_ENCODINGS,
  DEFAULT_CAMERA_RESOLUTION,
  VIDEO_CODEC_OPTIONS,
  firstTrack,
  mediaDevices,
  type AcquiredTrack,
  type CameraOptions,
  type MicrophoneOptions,
  type PublishTrackOptions,
  type ScreenShareOptions,
} from './publishOptions.js';

export {
  CAMERA_SIMULCAST_ENCODINGS,
  DEFAULT_CAMERA_RESOLUTION,
  type CameraOptions,
  type MicrophoneOptions,
  type PublishTrackOptions,
  type ScreenShareOptions,
  type VideoResolution,
} from './publishOptions.js';

export interface LocalParticipantHost {
  /** The live session; throws NOT_JOINED when the room is not connected (CONNECTION_FAILED while reconnecting). */
  session(): { media: MediaSession; signal: SignalClient };
  /** Whether the room is reconnecting (mutes then wait for the connection). */
  isReconnecting(): boolean;
  logger(): Logger;
  onTrackPublished(track: LocalTrack): void;
  onTrackUnpublished(track: LocalTrack): void;
}

/** This client's own participant in a room (`room.localParticipant`): identity, published tracks, and publishing the camera, microphone and screen. */
// Not `implements LocalTrackHost`: those members are internal, stripped from the published types,
// and a published class cannot claim an interface its declaration no longer satisfies.
export class LocalParticipant extends TypedEmitter<LocalParticipantEventCallbacks> {
  readonly #host: LocalParticipantHost;
  readonly #tracks = new Map<string, LocalTrack>();
  readonly #publishing = new Map<TrackSource, Promise<LocalTrack>>();
  #identity = '';
  #name = '';
  #role: Role = 'observer';
  #joinedAt = 0;
  #isSpeaking = false;
  readonly #link = new LinkState();

  /** @internal Created by Room. */
  constructor(host: LocalParticipantHost) {
    super();
    this.#host = host;
  }

  /** Stable id of this participant within the room (from the token). Empty until connected. */
  get identity(): string {
    return this.#identity;
  }

  /** Display name from the join token (empty until connected). */
  get name(): string {
    return this.#name;
  }

  /** Role from the join token (doctor, specialist, nurse, patient, ...). */
  get role(): Role {
    return this.#role;
  }

  /** When this participant joined (ms since the epoch, server clock). */
  get joinedAt(): number {
    return this.#joinedAt;
  }

  /** Published tracks by track id. */
  get tracks(): ReadonlyMap<string, LocalTrack> {
    return this.#tracks;
  }

  /** Whether this participant is the room's active speaker. */
  get isSpeaking(): boolean {
    return this.#isSpeaking;
  }

  // --- connection quality

  /** How well this client's link carries media, as the server measures it ('unknown' until measured). */
  get connectionQuality(): ParticipantQuality {
    return this.#link.quality;
  }

  /** True while video is stopped either way because this client's network cannot carry it. */
  get audioOnly(): boolean {
    return this.#link.audioOnly;
  }

  /** 'uplink': the camera is held back (`track.pausedForNetwork`); 'downlink': no video is received. */
  get audioOnlyDirections(): LinkDirection[] {
    return this.#link.audioOnlyDirections;
  }

  /** @internal Returns whether it changed. */
  _setConnectionQuality(quality: ConnectionQuality): boolean {
    if (!this.#link.setQuality(quality)) return false;
    this.emit('connectionQualityChanged', quality);
    return true;
  }

  /**
   * @internal The server says video does (not) fit this way. For the uplink
   * the camera's sending is paused or resumed (the microphone is never
   * touched). Returns whether the announced state changed.
   */
  _setAudioOnly(direction: LinkDirection, audioOnly: boolean): boolean {
    if (direction === 'uplink') {
      for (const track of this.#tracks.values()) if (track.source === 'camera') track._setNetworkPaused(audioOnly);
    }
    if (!this.#link.setAudioOnly(direction, audioOnly)) return false;
    this.emit('audioOnlyChanged', audioOnly, direction);
    return true;
  }

  /** The published track of `source`, if any. */
  getTrack(source: TrackSource): LocalTrack | undefined {
    for (const track of this.#tracks.values()) if (track.source === source) return track;
    return undefined;
  }

  /**
   * Opens the camera (1280x720 at 30 fps unless told otherwise) and publishes it
   * with three simulcast layers. Camera permission errors are the browser's
   * DOMException (`NotAllowedError`, `NotFoundError`, ...), passed through as is.
   */
  publishCamera(options: CameraOptions = {}): Promise<LocalTrack> {
    const simulcast = options.simulcast ?? true;
    return this.#publish(
      'camera',
      async () => {
        if (options.track) return { track: options.track, owned: false };
        const res = { ...DEFAULT_CAMERA_RESOLUTION, ...options.resolution };
        const stream = await mediaDevices().getUserMedia({
          audio: false,
          video: {
            width: { ideal: res.width },
            height: { ideal: res.height },
            frameRate: { ideal: res.frameRate },
            ...(options.deviceId ? { deviceId: { exact: options.deviceId } } : {}),
            ...(options.facingMode ? { facingMode: { ideal: options.facingMode } } : {}),
          },
        });
        return { track: firstTrack(stream, 'video'), owned: true };
      },
      {
        encodings: simulcast ? CAMERA_SIMULCAST_ENCODINGS.map((e) => ({ ...e })) : undefined,
        codecOptions: VIDEO_CODEC_OPTIONS,
        muted: options.muted,
      },
    );
  }

  /** Opens the microphone (echo cancellation, noise suppression, gain control on) and publishes it as Opus with DTX and FEC. */
  publishMicrophone(options: MicrophoneOptions = {}): Promise<LocalTrack> {
    return this.#publish(
      'microphone',
      async () => {
        if (options.track) return { track: options.track, owned: false };
        const stream = await mediaDevices().getUserMedia({
          video: false,
          audio: {
            echoCancellation: options.echoCancellation ?? true,
            noiseSuppression: options.noiseSuppression ?? true,
            autoGainControl: options.autoGainControl ?? true,
            ...(options.deviceId ? { deviceId: { exact: options.deviceId } } : {}),
          },
        });
        return { track: firstTrack(stream, 'audio'), owned: true };
      },
      { codecOptions: audioCodecOptions(microphoneBitrate(options.maxBitrate)), muted: options.muted },
    );
  }

  /**
   * Asks the user for a screen, window or tab and publishes it. When the user
   * ends the share from the browser's own UI, the track is unpublished and
   * `localTrackUnpublished` fires.
   */
  publishScreen(options: ScreenShareOptions = {}): Promise<LocalTrack> {
    return this.#publish(
      'screen',
      async () => {
        if (options.track) return { track: options.track, owned: false };
        const stream = await mediaDevices().getDisplayMedia({
          video: { frameRate: { ideal: options.frameRate ?? 15 } },
          audio: false,
        });
        const track = firstTrack(stream, 'video');
        track.contentHint = options.contentHint ?? 'detail';
        return { track, owned: true };
      },
      {
        encodings: [{ maxBitrate: options.maxBitrate ?? 1_500_000 }],
        codecOptions: VIDEO_CODEC_OPTIONS,
        muted: options.muted,
      },
    );
  }

  /** Publishes any track under a source of your choice (e.g. 'screenAudio'). The SDK will not stop it. */
  publishTrack(track: MediaStreamTrack, options: PublishTrackOptions): Promise<LocalTrack> {
    const expected = AUDIO_SOURCES.has(options.source) ? 'audio' : 'video';
    if (track.kind !== expected) {
      return Promise.reject(
        new HuizhenError(
          ErrorCode.INVALID_REQUEST,
          `A '${options.source}' track must be ${expected}, not ${track.kind}`,
        ),
      );
    }
    return this.#publish(options.source, async () => ({ track, owned: false }), options);
  }

  /**
   * Turns the microphone on or off. The first enable publishes it; later calls
   * mute or unmute (the server and the other participants are told). Resolves
   * with the microphone track, if there is one.
   */
  setMicrophoneEnabled(enabled: boolean, options?: MicrophoneOptions): Promise<LocalTrack | undefined> {
    return this.#setEnabled('microphone', enabled, () => this.publishMicrophone(options));
  }

  /** Turns the camera on or off; see `setMicrophoneEnabled`. */
  setCameraEnabled(enabled: boolean, options?: CameraOptions): Promise<LocalTrack | undefined> {
    return this.#setEnabled('camera', enabled, () => this.publishCamera(options));
  }

  /** Starts a screen share, or stops (unpublishes) the current one. */
  async setScreenShareEnabled(enabled: boolean, options?: ScreenShareOptions): Promise<LocalTrack | undefined> {
    await this.#publishing.get('screen')?.catch(() => undefined);
    const current = this.getTrack('screen');
    if (enabled) return current ?? this.publishScreen(options);
    if (current) await current.unpublish();
    return undefined;
  }

  /** Stops publishing `track`. */
  async unpublishTrack(track: LocalTrack): Promise<void> {
    await this.unpublish(track);
  }

  /** @internal LocalTrackHost: tells the server about a mute change. */
  async setPaused(track: LocalTrack, paused: boolean): Promise<void> {
    // Muting must work at once, connection or not; the Room syncs it once reconnected.
    if (paused && this.#host.isReconnecting()) return;
    const { signal } = this.#host.session();
    await signal.request('setProducerPaused', { producerId: track.trackId, paused });
  }

  /** @internal LocalTrackHost: local cleanup happens at once; the server is told after. */
  async unpublish(track: LocalTrack): Promise<void> {
    if (this.#tracks.get(track.trackId) !== track) return;
    this.#removeTrack(track);
    let signal: SignalClient;
    try {
      signal = this.#host.session().signal;
    } catch {
      return; // Not connected: nothing left on a server to close.
    }
    try {
      await signal.request('closeProducer', { producerId: track.trackId });
    } catch (error) {
      // Already gone on the server, or the connection is gone (and the producer with it).
      if (isHuizhenError(error, ErrorCode.NOT_FOUND) || error instanceof ConnectionError) return;
      throw error;
    }
  }

  /** @internal */
  _setInfo(info: ParticipantInfo): void {
    this.#identity = info.identity;
    this.#name = info.name;
    this.#role = info.role;
    this.#joinedAt = info.joinedAt;
  }

  /** @internal */
  _setSpeaking(speaking: boolean): void {
    if (this.#isSpeaking === speaking) return;
    this.#isSpeaking = speaking;
    this.emit('isSpeakingChanged', speaking);
  }

  /** @internal Ends every track locally (the room disconnected). */
  _unpublishAll(): void {
    for (const track of [...this.#tracks.values()]) this.#removeTrack(track);
  }

  /**
   * @internal After a resumed reconnect: makes the server's tracks match ours.
   * Tracks unpublished or muted while away are closed or paused there; tracks
   * the server lost are published again.
   */
  async _syncAfterResume(media: MediaSession, signal: SignalClient, onServer: readonly TrackInfo[]): Promise<void> {
    const log = this.#host.logger();
    const serverTracks = new Map(onServer.map((t) => [t.trackId, t]));
    for (const info of onServer) {
      if (this.#tracks.has(info.trackId)) continue;
      await signal
        .request('closeProducer', { producerId: info.trackId })
        .catch((error: unknown) => log.debug('closing a stale track failed', errorFields(error)));
    }
    for (const track of [...this.#tracks.values()]) {
      const info = serverTracks.get(track.trackId);
      if (!info) {
        await this.#republish(media, track);
        continue;
      }
      if (info.muted === track.muted) continue;
      try {
        await signal.request('setProducerPaused', { producerId: track.trackId, paused: track.muted });
      } catch (error) {
        log.warn('could not sync mute state', { trackId: track.trackId, ...errorFields(error) });
        // Refused to unmute (a host muted it meanwhile): muted it stays, here too.
        if (!track.muted) track._forceMuted();
      }
    }
  }

  /** @internal After a fresh rejoin: publishes every track again on the new session. */
  async _republishAll(media: MediaSession): Promise<void> {
    for (const track of [...this.#tracks.values()]) await this.#republish(media, track);
  }

  async #republish(media: MediaSession, track: LocalTrack): Promise<void> {
    const log = this.#host.logger();
    const oldId = track.trackId;
    try {
      const { encodings, codecOptions } = track.publishSettings;
      const producer = await media.produce({
        track: track.mediaStreamTrack,
        source: track.source,
        encodings: encodings?.map((e) => ({ ...e })),
        codecOptions,
        paused: track.muted,
      });
      this.#watchEnded(producer, track);
      track._replaceProducer(producer);
      this.#tracks.delete(oldId);
      this.#tracks.set(track.trackId, track);
      log.info('published again', { source: track.source, trackId: track.trackId, previous: oldId });
    } catch (error) {
      log.warn('could not publish again; unpublishing', { source: track.source, ...errorFields(error) });
      if (this.#tracks.get(oldId) === track) this.#removeTrack(track);
    }
  }

  async #setEnabled(
    source: TrackSource,
    enabled: boolean,
    publish: () => Promise<LocalTrack>,
  ): Promise<LocalTrack | undefined> {
    // A publish of this source may be under way (a double click); act on its result.
    await this.#publishing.get(source)?.catch(() => undefined);
    const track = this.getTrack(source);
    if (enabled) {
      if (!track) return publish();
      await track.unmute();
      return track;
    }
    if (track) await track.mute();
    return track;
  }

  #publish(
    source: TrackSource,
    acquire: () => Promise<AcquiredTrack>,
    options: { encodings?: RtpEncodingParameters[]; codecOptions?: ProducerCodecOptions; muted?: boolean },
  ): Promise<LocalTrack> {
    let media: MediaSession;
    try {
      ({ media } = this.#host.session());
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.getTrack(source) || this.#publishing.has(source)) {
      return Promise.reject(
        new HuizhenError(ErrorCode.INVALID_STATE, `A ${source} track is already published; unpublish it first`),
      );
    }
    const log = this.#host.logger();
    const run = async (): Promise<LocalTrack> => {
      const { track, owned } = await acquire();
      try {
        const producer = await media.produce({ track, source, ...options, paused: options.muted === true });
        if (media.closed) {
          producer.close();
          throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room disconnected while publishing');
        }
        const settings: PublishSettings = {
          ...(options.encodings ? { encodings: options.encodings } : {}),
          ...(options.codecOptions ? { codecOptions: options.codecOptions } : {}),
        };
        const local = new LocalTrack({
          producer,
          mediaStreamTrack: track,
          source,
          host: this,
          ownsMediaTrack: owned,
          settings,
        });
        this.#watchEnded(producer, local);
        this.#tracks.set(local.trackId, local);
        if (source === 'camera' && this.#link.audioOnlyDirections.includes('uplink')) local._setNetworkPaused(true);
        log.debug('published', { trackId: local.trackId, source });
        this.emit('localTrackPublished', local);
        this.#host.onTrackPublished(local);
        return local;
      } catch (error) {
        if (owned) track.stop();
        throw error;
      }
    };
    const pending = run();
    this.#publishing.set(source, pending);
    const clear = (): void => {
      if (this.#publishing.get(source) === pending) this.#publishing.delete(source);
    };
    pending.then(clear, clear);
    return pending;
  }

  /** The device went away, or the user pressed the browser's "Stop sharing". */
  #watchEnded(producer: Producer, local: LocalTrack): void {
    const log = this.#host.logger();
    producer.on('trackended', () => {
      if (local.producer !== producer) return;
      log.info('local track ended', { trackId: local.trackId, source: local.source });
      this.unpublish(local).catch((error: unknown) => log.warn('unpublish after track end failed', errorFields(error)));
    });
  }

  #removeTrack(track: LocalTrack): void {
    this.#tracks.delete(track.trackId);
    track._end();
    this.emit('localTrackUnpublished', track);
    this.#host.onTrackUnpublished(track);
  }
}
