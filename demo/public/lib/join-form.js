/**
 * The join form: who the user is and which consult room they enter.
 * Defaults come from the page URL (?room=&role=&name=) so a doctor can send a
 * patient a prefilled link. A link may instead carry a join token issued
 * elsewhere (#token=...), e.g. by a hospital's own identity system.
 */
import { byId } from './dom.js';
import { CLINICIAN_ROLES, ROLES } from '/sdk/huizhen-client.js';
import { mountPreflight } from './preflight.js';
import { fetchDevToken } from './token.js';

const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const KINDS = ['consult', 'clinic', 'rounds'];

/**
 * @typedef {{ name: string, role: string, room: string, identity: string, kind?: string }} JoinRequest
 * @typedef {{ camera: boolean, mic: boolean }} MediaPrefs  what to start once in the room
 */

/** Fills the form from the URL query; unknown roles are ignored. */
export function prefillFromUrl(search = location.search) {
  const query = new URLSearchParams(search);
  const name = query.get('name');
  const role = query.get('role');
  const room = query.get('room');
  const kind = query.get('kind');
  if (name) byId('join-name').value = name.slice(0, 64);
  if (role && ROLES.includes(role)) byId('join-role').value = role;
  if (kind && KINDS.includes(kind)) byId('join-kind').value = kind;
  byId('join-room').value = room && ROOM_PATTERN.test(room) ? room : 'consult-1';
  if (query.get('camera') === 'off') byId('join-camera').checked = false;
  if (query.get('mic') === 'off') byId('join-mic').checked = false;
  showKindForRole();
  byId('join-role').addEventListener('change', showKindForRole);
}

/** Only a clinician's token opens a room, so only they choose its type. */
function showKindForRole() {
  byId('join-kind-field').hidden = !CLINICIAN_ROLES.includes(byId('join-role').value);
}

/** @returns {MediaPrefs} */
export function readMediaPrefs() {
  return { camera: byId('join-camera').checked, mic: byId('join-mic').checked };
}

/**
 * Reads a join token from the link's fragment, which browsers never send to a
 * server, then removes it from the address bar so it does not linger in the
 * history or on screen.
 * @returns {string | null}
 */
export function takeTokenFromUrl() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return token;
}

/** The token says who and where: hide the fields that would pretend otherwise. */
export function useLinkToken() {
  byId('join-fields').hidden = true;
  byId('join-link-note').hidden = false;
}

/**
 * An identity must be unique per person in a room and safe as an id. Names may
 * be in any script, so we keep only ASCII letters/digits and add a random
 * suffix; the display name travels separately.
 * @param {string} name
 * @param {string} role
 */
export function makeIdentity(name, role) {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24);
  const suffix = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).padStart(6, '0').slice(-6);
  return `${slug || role}-${suffix}`;
}

/**
 * Reads and checks the form. Returns the request, or an error sentence.
 * @returns {{ ok: true, value: JoinRequest } | { ok: false, error: string }}
 */
export function readJoinForm() {
  const name = byId('join-name').value.trim();
  const role = byId('join-role').value;
  const room = byId('join-room').value.trim();
  if (!name) return { ok: false, error: 'Please enter your name.' };
  if (!ROLES.includes(role)) return { ok: false, error: 'Please choose a role.' };
  if (!ROOM_PATTERN.test(room)) {
    return { ok: false, error: 'The room name may use only letters, digits, "-" and "_" (up to 64).' };
  }
  const kind = CLINICIAN_ROLES.includes(role) ? byId('join-kind').value : undefined;
  return { ok: true, value: { name, role, room, identity: makeIdentity(name, role), ...(kind ? { kind } : {}) } };
}

/**
 * A sentence under the form: why joining failed, or why the last call ended.
 * @param {string | null} message  @param {'error' | 'info'} [kind]
 */
export function showJoinMessage(message, kind = 'error') {
  const node = byId('join-error');
  node.textContent = message ?? '';
  node.dataset.kind = kind;
  node.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  node.hidden = !message;
}

/** @param {boolean} busy */
export function setJoinBusy(busy) {
  const button = byId('join-button');
  button.disabled = busy;
  button.textContent = busy ? 'Joining…' : 'Join';
  for (const id of ['join-name', 'join-role', 'join-room', 'join-kind', 'join-camera', 'join-mic'])
    byId(id).disabled = busy;
}

// --- pre-call check
/**
 * Offers the camera, microphone and connection check to patients (and their
 * family) before they enter the waiting room. With a link token the check
 * uses it; otherwise a demo token for who the form says.
 * @param {string | null} linkToken
 */
export function offerPreflight(linkToken) {
  const offer = mountPreflight(byId('preflight-offer'), {
    getToken: async () => {
      if (linkToken) return linkToken;
      const form = readJoinForm();
      if (!form.ok) throw new Error(form.error);
      return fetchDevToken(form.value);
    },
    shouldOffer: () => Boolean(linkToken) || !CLINICIAN_ROLES.includes(byId('join-role').value),
  });
  byId('join-role').addEventListener('change', offer.refresh);
}
