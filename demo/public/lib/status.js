/**
 * The status line at the bottom of the page: the connection state in plain
 * words, and the latest error until something newer replaces it.
 */
import { byId } from './dom.js';

const STATE_TEXT = Object.freeze({
  idle: 'Not connected.',
  joining: 'Joining the consult…',
  connecting: 'Connecting to the consult…',
  connected: 'Connected.',
  reconnecting: 'Connection lost. Reconnecting…',
  disconnected: 'Disconnected.',
});

/**
 * @param {keyof typeof STATE_TEXT} state
 * @param {string} [detail] e.g. the room name, appended to the state sentence
 */
export function showConnectionState(state, detail) {
  const text = STATE_TEXT[state] ?? String(state);
  byId('status-dot').dataset.state = state;
  byId('status-text').textContent = detail ? `${text} ${detail}` : text;
  document.body.dataset.connection = state;
}

/** @param {string | null} message */
export function showError(message) {
  const node = byId('status-error');
  node.textContent = message ?? '';
  node.hidden = !message;
}
