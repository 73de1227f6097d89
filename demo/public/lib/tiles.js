/**
 * The video grid. One tile per participant (camera or avatar) plus one tile per
 * screen share. Remote audio plays through hidden <audio> elements so that a
 * tile can come and go without cutting the sound.
 *
 * Tile state lives in data attributes, which the CSS styles and automated tests
 * read:  data-video / data-audio = "none" | "live" | "muted",  data-speaking.
 */
import { el } from './dom.js';
import { roleLabel } from './roles.js';
import { audioOnlyBadge, qualityBadge, showQuality } from './quality.js';

/**
 * @typedef {{ identity: string, name?: string, role?: string }} Who
 * @typedef {{ kind: 'audio'|'video', source?: string, attach(el?: HTMLMediaElement): HTMLMediaElement, detach(el?: HTMLMediaElement): unknown }} AnyTrack
 */

/** Two initials (or one character for names without spaces, e.g. Chinese names). */
export function initials(name) {
  const words = name
    .replace(/[^\p{L}\p{N}\s]+/gu, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (words.length === 0) return '?';
  const first = Array.from(words[0])[0] ?? '';
  const second = words.length > 1 ? (Array.from(words[words.length - 1])[0] ?? '') : '';
  return (first + second).toUpperCase();
}

/** Screen shares get their own tile; every other video source belongs to the person's tile. */
function tileSource(source) {
  return source === 'screen' ? 'screen' : 'camera';
}

class Tile {
  /**
   * @param {Who} who
   * @param {{ local: boolean, source: 'camera' | 'screen' }} opts
   */
  constructor(who, { local, source }) {
    this.identity = who.identity;
    this.source = source;
    this.local = local;
    /** @type {AnyTrack | null} */
    this.videoTrack = null;

    const name = who.name || who.identity;
    const label = source === 'screen' ? `${name} — screen` : local ? `${name} (you)` : name;

    this.video = el('video', { autoplay: true, playsInline: true, muted: true, 'data-testid': 'tile-video' });
    if (local && source === 'camera') this.video.classList.add('mirrored');
    this.avatar = el('div', { class: 'avatar', 'aria-hidden': 'true', text: initials(name) });
    this.status = el('div', { class: 'tile-status', 'data-testid': 'tile-status', 'aria-live': 'polite' });
    this.micOff = el('span', {
      class: 'mic-off',
      'data-testid': 'mic-muted',
      title: 'Microphone off',
      'aria-label': 'Microphone off',
      role: 'img',
    });
    this.quality = qualityBadge();
    this.audioOnly = audioOnlyBadge();
    this.root = el(
      'article',
      {
        class: 'tile',
        'data-testid': source === 'screen' ? 'screen-tile' : 'tile',
        'data-identity': who.identity,
        'data-source': source,
        'data-local': String(local),
        'data-video': 'none',
        'data-audio': 'none',
        'data-speaking': 'false',
        'data-reconnecting': 'false',
        'aria-label': label,
      },
      [
        this.video,
        this.avatar,
        this.status,
        el('div', { class: 'label' }, [
          el('span', { class: 'name', 'data-testid': 'tile-name', text: label }),
          source === 'camera' && who.role
            ? el('span', {
                class: 'role',
                'data-testid': 'tile-role',
                'data-role': who.role,
                text: roleLabel(who.role),
              })
            : '',
          source === 'camera' ? this.micOff : '',
          source === 'camera' ? this.quality : '',
          source === 'camera' ? this.audioOnly : '',
        ]),
      ],
    );
  }

  /** @param {AnyTrack} track  @param {boolean} muted */
  showVideo(track, muted) {
    if (this.videoTrack && this.videoTrack !== track) this.videoTrack.detach(this.video);
    this.videoTrack = track;
    // attach() also starts playback; if autoplay is refused the SDK reports it and a click retries.
    track.attach(this.video);
    this.root.dataset.video = muted ? 'muted' : 'live';
  }

  /** @param {AnyTrack} track */
  hideVideo(track) {
    if (this.videoTrack !== track) return false;
    track.detach(this.video);
    this.video.srcObject = null;
    this.videoTrack = null;
    this.root.dataset.video = 'none';
    return true;
  }

  destroy() {
    if (this.videoTrack) this.videoTrack.detach(this.video);
    this.video.srcObject = null;
    this.root.remove();
  }
}

export class TileGrid {
  /** @type {Map<string, Tile>} key: `${identity}|${source}` */
  #tiles = new Map();
  /** @type {((who: Who, opts: { local: boolean, source: string }) => Node | null) | null} */
  #decorate = null;
  /** @type {Map<AnyTrack, HTMLAudioElement>} */
  #audio = new Map();
  // --- overlays (e.g. vitals on a patient's tile): identity → key → node, kept for tiles created later
  /** @type {Map<string, Map<string, Node>>} */
  #overlays = new Map();
  #container;
  #audioSink;

  /** @param {HTMLElement} container  @param {HTMLElement} audioSink */
  constructor(container, audioSink) {
    this.#container = container;
    this.#audioSink = audioSink;
  }

  /**
   * Adds controls to tiles (e.g. a host's mute / remove buttons): called for
   * every tile as it is created, and now for those already there.
   * @param {((who: Who, opts: { local: boolean, source: string }) => Node | null) | null} decorate
   */
  setDecorator(decorate) {
    this.#decorate = decorate;
    for (const tile of this.#tiles.values()) this.#applyDecorator(tile);
  }

  /** A remote person's connection dropped (true) or came back (false): their tile stays, dimmed and labelled. */
  setReconnecting(identity, reconnecting) {
    for (const tile of this.#tiles.values()) {
      if (tile.identity !== identity) continue;
      tile.root.dataset.reconnecting = String(reconnecting);
      tile.status.textContent = reconnecting ? 'Reconnecting…' : '';
    }
  }

  /**
   * Connection quality and the network audio-only badge of a person's tile.
   * @param {string} identity  @param {string} quality  @param {boolean} audioOnly
   */
  setLink(identity, quality, audioOnly) {
    const tile = this.#tiles.get(`${identity}|camera`);
    if (!tile) return;
    showQuality(tile.quality, quality);
    tile.audioOnly.hidden = !audioOnly;
    tile.root.dataset.quality = quality;
    tile.root.dataset.audioOnly = String(audioOnly);
  }

  /**
   * Puts `node` on the person's camera tile under `key` (null removes it); applied
   * now if the tile exists, else when it is created.
   * @param {string} identity  @param {string} key  @param {Node | null} node
   */
  setOverlay(identity, key, node) {
    const mine = this.#overlays.get(identity) ?? new Map();
    mine.get(key)?.parentNode?.removeChild(mine.get(key));
    if (node) mine.set(key, node);
    else mine.delete(key);
    if (mine.size > 0) this.#overlays.set(identity, mine);
    else this.#overlays.delete(identity);
    const tile = this.#tiles.get(`${identity}|camera`);
    if (tile && node) tile.root.append(node);
  }

  /** Ensures the person's tile exists (idempotent). @param {Who} who */
  addParticipant(who, local = false) {
    return this.#ensure(who, 'camera', local);
  }

  /** Removes every tile and audio element of the person. */
  removeParticipant(identity) {
    for (const [key, tile] of this.#tiles) {
      if (tile.identity !== identity) continue;
      tile.destroy();
      this.#tiles.delete(key);
    }
    for (const [track, audio] of this.#audio) {
      if (audio.dataset.identity !== identity) continue;
      track.detach(audio);
      audio.remove();
      this.#audio.delete(track);
    }
    this.#relayout();
  }

  /**
   * Shows a track of a person: video in their tile (or a screen tile), audio
   * in a hidden element.
   * @param {Who} who  @param {AnyTrack} track  @param {{ muted?: boolean, local?: boolean }} [opts]
   */
  attach(who, track, { muted = false, local = false } = {}) {
    if (track.kind === 'video') {
      this.#ensure(who, tileSource(track.source), local).showVideo(track, muted);
      return;
    }
    if (local) {
      // Never play our own microphone back; the tile only shows whether it is on.
      this.setAudioState(who.identity, muted ? 'muted' : 'live');
      return;
    }
    let audio = this.#audio.get(track);
    if (!audio) {
      audio = el('audio', {
        autoplay: true,
        'data-testid': 'remote-audio',
        'data-identity': who.identity,
        'data-source': track.source ?? 'microphone',
      });
      this.#audioSink.append(audio);
      this.#audio.set(track, audio);
    }
    track.attach(audio);
    if (track.source !== 'screenAudio') {
      this.#ensure(who, 'camera', local);
      this.setAudioState(who.identity, muted ? 'muted' : 'live');
    }
  }

  /** @param {string} identity  @param {AnyTrack} track */
  detach(identity, track) {
    if (track.kind === 'video') {
      const source = tileSource(track.source);
      const tile = this.#tiles.get(`${identity}|${source}`);
      if (tile && tile.hideVideo(track) && source === 'screen') {
        tile.destroy();
        this.#tiles.delete(`${identity}|${source}`);
        this.#relayout();
      }
      return;
    }
    const audio = this.#audio.get(track);
    if (audio) {
      track.detach(audio);
      audio.srcObject = null;
      audio.remove();
      this.#audio.delete(track);
    }
    if (track.source !== 'screenAudio') this.setAudioState(identity, 'none');
  }

  /** Reflects mute/unmute of a track already shown. @param {string} identity  @param {AnyTrack} track */
  setTrackMuted(identity, track, muted) {
    if (track.kind === 'audio') {
      if (track.source !== 'screenAudio') this.setAudioState(identity, muted ? 'muted' : 'live');
      return;
    }
    const tile = this.#tiles.get(`${identity}|${tileSource(track.source)}`);
    if (tile && tile.videoTrack === track) tile.root.dataset.video = muted ? 'muted' : 'live';
  }

  /** @param {string} identity  @param {'none'|'live'|'muted'} state */
  setAudioState(identity, state) {
    const tile = this.#tiles.get(`${identity}|camera`);
    if (tile) tile.root.dataset.audio = state;
  }

  /** @param {string} identity  @param {'none'|'live'|'muted'} state */
  setVideoState(identity, state) {
    const tile = this.#tiles.get(`${identity}|camera`);
    if (tile) tile.root.dataset.video = state;
  }

  /** Highlights the person currently speaking (null: nobody). @param {string | null} identity */
  setActiveSpeaker(identity) {
    for (const tile of this.#tiles.values()) {
      tile.root.dataset.speaking = String(tile.source === 'camera' && tile.identity === identity);
    }
  }

  /** Retries playback after a user gesture (autoplay policies). */
  resumePlayback() {
    for (const tile of this.#tiles.values())
      if (tile.video.paused && tile.videoTrack) tile.video.play().catch(() => {});
    for (const audio of this.#audio.values()) if (audio.paused) audio.play().catch(() => {});
  }

  clear() {
    this.#overlays.clear();
    for (const tile of this.#tiles.values()) tile.destroy();
    this.#tiles.clear();
    for (const [track, audio] of this.#audio) {
      track.detach(audio);
      audio.remove();
    }
    this.#audio.clear();
    this.#relayout();
  }

  /** @param {Who} who  @param {'camera'|'screen'} source */
  #ensure(who, source, local) {
    const key = `${who.identity}|${source}`;
    let tile = this.#tiles.get(key);
    if (!tile) {
      tile = new Tile(who, { local, source });
      tile.who = who;
      this.#tiles.set(key, tile);
      this.#applyDecorator(tile);
      if (source === 'camera')
        for (const node of this.#overlays.get(who.identity)?.values() ?? []) tile.root.append(node);
      // Screen shares lead the grid: they are what everyone is looking at.
      if (source === 'screen') this.#container.prepend(tile.root);
      else this.#container.append(tile.root);
      this.#relayout();
    }
    return tile;
  }

  #applyDecorator(tile) {
    tile.root.querySelector(':scope > .tile-actions')?.remove();
    const extra = this.#decorate?.(tile.who, { local: tile.local, source: tile.source });
    if (extra) tile.root.append(extra);
  }

  /** The CSS picks a layout from the tile count and whether a screen is shared. */
  #relayout() {
    this.#container.dataset.count = String(this.#tiles.size);
    this.#container.dataset.screen = String([...this.#tiles.values()].some((t) => t.source === 'screen'));
  }
}
