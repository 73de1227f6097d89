/**
 * Huizhen demo: join form → consult call. Built only on the public SDK bundle.
 *
 * Test hook: once joined, window.huizhen = { room, state } (see lib/call.js for
 * the shape of state). Elements carry data-testid attributes.
 */
import { connect } from '/sdk/huizhen-client.js';
import { Call, createCallState } from './lib/call.js';
import { createControls } from './lib/controls.js';
import { byId, swap } from './lib/dom.js';
import { describeError } from './lib/errors.js';
import { prefillFromUrl, readJoinForm, setJoinBusy, showJoinMessage } from './lib/join-form.js';
import { showConnectionState, showError } from './lib/status.js';
import { TileGrid } from './lib/tiles.js';
import { fetchDevToken } from './lib/token.js';

const views = { join: byId('join-view'), call: byId('call-view') };
const tiles = new TileGrid(byId('tiles'), byId('audio-sink'));

/** @type {Call | null} */
let call = null;

const controls = createControls({
  onMic: () => call?.toggleMic() ?? Promise.resolve(),
  onCam: () => call?.toggleCam() ?? Promise.resolve(),
  onScreen: () => call?.toggleScreen() ?? Promise.resolve(),
  onLeave: () => call?.leave(),
});

/** @param {import('./lib/join-form.js').JoinRequest} request */
async function join(request) {
  const state = createCallState();
  state.room = request.room;
  setJoinBusy(true);
  showJoinMessage(null);
  showError(null);
  showConnectionState('joining', `Room ${request.room}.`);
  let room;
  try {
    const token = await fetchDevToken(request);
    showConnectionState('connecting');
    room = await connect(location.origin, token);
  } catch (err) {
    setJoinBusy(false);
    showConnectionState('idle');
    showJoinMessage(describeError(err, 'Could not join'));
    byId('join-button').focus();
    return;
  }

  call = new Call(room, { tiles, controls, state, roomName: request.room, onEnded: endCall });
  window.huizhen = { room, state };
  const roomName = byId('room-name');
  roomName.textContent = `Room ${request.room}`;
  roomName.hidden = false;
  document.body.dataset.role = state.role || request.role;
  swap(views.call, views.join);
  setJoinBusy(false);
  await call.start();
}

/** Back to the join form, keeping what the user typed so rejoining is one click. */
function endCall(reason, { byUser }) {
  call = null;
  tiles.clear();
  byId('room-name').hidden = true;
  delete document.body.dataset.role;
  swap(views.join, views.call);
  showConnectionState(byUser ? 'idle' : 'disconnected');
  showError(null);
  showJoinMessage(reason, byUser ? 'info' : 'error');
}

function main() {
  prefillFromUrl();
  byId('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (call) return;
    const result = readJoinForm();
    if (!result.ok) {
      showJoinMessage(result.error);
      return;
    }
    void join(result.value);
  });
  // Browsers may block autoplay until the first interaction; any click resumes media.
  document.addEventListener('click', () => call?.resumeMedia(), { capture: true });
  // Closing the tab leaves at once instead of waiting for the server to time us out.
  window.addEventListener('pagehide', () => call?.leave());
  showConnectionState('idle');
}

main();
