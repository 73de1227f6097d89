/**
 * What every track has, published or received: kind, source, mute state,
 * and showing it in `<video>` / `<audio>` elements.
 */
import type { TrackEventCallbacks } from './events.js';
import type { MediaKind, TrackSource } from '@huizhen/protocol';
import { TypedEmitter } from '@huizhen/protocol';

export type { MediaKind, TrackSource };

/** The simulcast layers currently forwarded for a remote video track. */
export interface VideoLayers {
  /** The spatial (resolution) layer, 0 = lowest; null before the server said. */
  spatialLayer: number | null;
  /** The temporal (frame rate) layer, 0 = lowest; null before the server said. */
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
