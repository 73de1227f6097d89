/**
 * Connection quality on every tile: four bars and a word (excellent, good,
 * poor, lost), and an "Audio only (weak network)" badge while video is
 * stopped for the network — shown apart from a mute, which is a person's choice.
 * State for tests: state.quality[identity] = { quality, audioOnly, directions }.
 */
import { el } from './dom.js';

const WORDS = { excellent: 'Excellent', good: 'Good', poor: 'Poor', lost: 'Lost', unknown: '' };
const BARS = { excellent: 4, good: 3, poor: 1, lost: 0, unknown: 0 };

/** The quality element placed in a tile's label. */
export function qualityBadge() {
  const bars = el('span', { class: 'q-bars', 'aria-hidden': 'true' }, [
    el('i', {}),
    el('i', {}),
    el('i', {}),
    el('i', {}),
  ]);
  const word = el('span', { class: 'q-word', 'data-testid': 'tile-quality-word' });
  return el('span', { class: 'quality', 'data-testid': 'tile-quality', 'data-quality': 'unknown', hidden: true }, [
    bars,
    word,
  ]);
}

/** The badge shown while video is stopped for the network. */
export function audioOnlyBadge() {
  return el('span', {
    class: 'audio-only',
    'data-testid': 'tile-audio-only',
    hidden: true,
    text: 'Audio only (weak network)',
  });
}

/** @param {HTMLElement} badge  @param {string} quality */
export function showQuality(badge, quality) {
  badge.dataset.quality = quality;
  badge.dataset.bars = String(BARS[quality] ?? 0);
  badge.hidden = quality === 'unknown';
  const word = badge.querySelector('.q-word');
  if (word) word.textContent = WORDS[quality] ?? quality;
  badge.title = quality === 'unknown' ? '' : `Connection: ${WORDS[quality] ?? quality}`;
}

/**
 * Wires the SDK's quality events to the tiles and the test state.
 * @param {any} room  @param {import('./tiles.js').TileGrid} tiles
 * @param {{ quality: Record<string, any> }} state  @param {(type: string, fields: object) => void} log
 */
export function watchQuality(room, tiles, state, log) {
  const update = (p) => {
    state.quality[p.identity] = {
      quality: p.connectionQuality,
      audioOnly: p.audioOnly,
      directions: [...p.audioOnlyDirections],
    };
    tiles.setLink(p.identity, p.connectionQuality, p.audioOnly);
  };
  room.on('connectionQualityChanged', (quality, p) => {
    log('connectionQualityChanged', { identity: p.identity, detail: quality });
    update(p);
  });
  room.on('audioOnlyChanged', (p, audioOnly, direction) => {
    log('audioOnlyChanged', { identity: p.identity, detail: `${direction}:${audioOnly}` });
    update(p);
  });
}
