/**
 * A participant's connection quality and network audio-only state, as the
 * server announces them (`connectionQualityChanged`, `audioOnlyChanged`).
 * Held by LocalParticipant and RemoteParticipant alike.
 */
import type { ConnectionQuality, LinkDirection } from '@huizhen/protocol';

/** 'unknown' until the server has measured the participant's link. */
export type ParticipantQuality = ConnectionQuality | 'unknown';

export class LinkState {
  #quality: ParticipantQuality = 'unknown';
  readonly #audioOnly = new Set<LinkDirection>();

  get quality(): ParticipantQuality {
    return this.#quality;
  }

  get audioOnly(): boolean {
    return this.#audioOnly.size > 0;
  }

  /** Which ways video is stopped for the network: 'uplink' (they do not send it), 'downlink' (they do not receive it). */
  get audioOnlyDirections(): LinkDirection[] {
    return [...this.#audioOnly];
  }

  /** Returns whether it changed. */
  setQuality(quality: ConnectionQuality): boolean {
    if (this.#quality === quality) return false;
    this.#quality = quality;
    return true;
  }

  /** Returns whether it changed. */
  setAudioOnly(direction: LinkDirection, audioOnly: boolean): boolean {
    if (this.#audioOnly.has(direction) === audioOnly) return false;
    if (audioOnly) this.#audioOnly.add(direction);
    else this.#audioOnly.delete(direction);
    return true;
  }

  reset(): void {
    this.#quality = 'unknown';
    this.#audioOnly.clear();
  }
}
