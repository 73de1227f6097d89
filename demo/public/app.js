/**
 * Huizhen demo: join form → consult call. Built only on the public SDK bundle.
 *
 * Test hook: once joined, window.huizhen = { room, state } (see lib/call.js for
 * the shape of state). Elements carry data-testid attributes.
 */
import { connect } from '/sdk/huizhen-client.js';
import { Call, createCallState } from './lib/call.js';
import { createControls } from './lib/controls.js';
import { byId } from './lib/dom.js';
import { describeError } from './lib/errors.js';
import {
  prefillFromUrl,
  readJoinForm,
  readMediaPrefs,
  setJoinBusy,
  showJoinMessage,
  takeTokenFromUrl,
  useLinkToken,
  offerPreflight,
} from './lib/join-form.js';
import { SidePanel } from './lib/panels.js';
import { showConnectionState, showError } from './lib/status.js';
import { renderSummary } from './lib/summary.js';
// --- evaluation
import { renderEvaluationForm } from './lib/evaluation.js';
import { TileGrid } from './lib/tiles.js';
import { fetchDevToken } from './lib/token.js';

const views = {
  join: byId('join-view'),
  call: byId('call-view'),
  summary: byId('summary-view'),
  // --- evaluation
  evaluation: byId('evaluation-view'),
};
const tiles = new TileGrid(byId('tiles'), byId('audio-sink'));
const side = new SidePanel(byId('side'));

/** Shows one of the top-level views. @param {keyof typeof views} name */
function showView(name) {
  for (const [key, view] of Object.entries(views)) view.hidden = key !== name;
}

/** @type {Call | null} */
let call = null;

const controls = createControls({
  onMic: () => call?.toggleMic() ?? Promise.resolve(),
  onCam: () => call?.toggleCam() ?? Promise.resolve(),
  onScreen: () => call?.toggleScreen() ?? Promise.resolve(),
  onLeave: () => call?.leave(),
});

/** A token from the link (#token=...), kept so Join works again after leaving. */
const linkToken = takeTokenFromUrl();

/** @param {{ token: string } | import('./lib/join-form.js').JoinRequest} request */
async function join(request) {
  const state = createCallState();
  setJoinBusy(true);
  showJoinMessage(null);
  showError(null);
  showConnectionState('joining', 'room' in request ? `Room ${request.room}.` : undefined);
  let room;
  try {
    const token = 'token' in request ? request.token : await fetchDevToken(request);
    showConnectionState('connecting');
    room = await connect(location.origin, token, {
      // Dev tokens can be renewed by asking again; a link token cannot, so it lives as long as it was issued for.
      ...('token' in request ? {} : { tokenProvider: () => fetchDevToken(request) }),
      // --- TURN: ?relay=1 sends all media through the TURN server (strict networks, and tests of the relay path)
      ...(new URLSearchParams(location.search).get('relay') === '1' ? { iceTransportPolicy: 'relay' } : {}),
    });
  } catch (err) {
    setJoinBusy(false);
    showConnectionState('idle');
    showJoinMessage(describeError(err, 'Could not join', { detail: true }));
    byId('join-button').focus();
    return;
  }

  call = new Call(room, {
    tiles,
    controls,
    side,
    state,
    roomName: room.name,
    prefs: readMediaPrefs(),
    onEnded: endCall,
  });
  window.huizhen = { room, state };
  const roomName = byId('room-name');
  roomName.textContent = `Room ${room.name}`;
  roomName.hidden = false;
  document.body.dataset.role = state.role;
  showView('call');
  setJoinBusy(false);
  await call.start();
}

/**
 * Back to the join form, keeping what the user typed so rejoining is one
 * click; or, for the clinician who ended the consult, to its summary first.
 */
function endCall(reason, { byUser, summary, evaluate }) {
  call = null;
  tiles.clear();
  byId('room-name').hidden = true;
  delete document.body.dataset.role;
  showConnectionState(byUser ? 'idle' : 'disconnected');
  showError(null);
  showJoinMessage(reason, byUser || summary ? 'info' : 'error');
  if (summary) {
    byId('summary-body').replaceChildren(renderSummary(summary));
    showView('summary');
    byId('summary-close').focus();
    return;
  }
  // --- evaluation: a patient or family member whose consult ended is asked to rate it.
  if (evaluate) {
    byId('evaluation-reason').textContent = reason;
    byId('evaluation-body').replaceChildren(renderEvaluationForm(evaluate, { onClose: () => showView('join') }));
    showView('evaluation');
    return;
  }
  showView('join');
}

function main() {
  prefillFromUrl();
  if (linkToken) useLinkToken();
  offerPreflight(linkToken);
  byId('summary-close').addEventListener('click', () => showView('join'));
  byId('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (call) return;
    if (linkToken) {
      void join({ token: linkToken });
      return;
    }
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
