/**
 * Turns SDK and network errors into sentences a clinician or patient can act
 * on. The raw code stays visible in brackets so support can look it up.
 */

const PLAIN = Object.freeze({
  TOKEN_EXPIRED: 'Your join link has expired. Ask for a new one.',
  TOKEN_INVALID: 'Your join link is not valid. Ask for a new one.',
  TOKEN_ROOM_MISMATCH: 'Your join link is for a different consult room.',
  ISSUER_UNKNOWN: 'Your hospital is not connected to this consult service.',
  NOT_ADMITTED: 'Please wait until a clinician lets you into the consult.',
  PERMISSION_DENIED: 'Your role is not allowed to do that in this consult.',
  ROOM_NOT_FOUND: 'This consult room does not exist or has ended.',
  ROOM_FULL: 'This consult room is full.',
  DUPLICATE_IDENTITY: 'You joined this consult from another window or device, so this one was closed.',
  SERVER_SHUTTING_DOWN: 'The consult server is restarting. Please join again in a moment.',
  RATE_LIMITED: 'Too many requests. Please wait a moment and try again.',
  TIMEOUT: 'The consult server took too long to answer.',
  CONNECTION_FAILED: 'Could not reach the consult server. Check your network connection.',
  MEDIA_ERROR: 'The media server had a problem. Please try again.',
  INVALID_REQUEST: 'The request was not accepted by the server.',
  INTERNAL: 'The consult server had an unexpected problem.',
  ADMISSION_DENIED: 'You were not admitted to this consult.',
  REMOVED: 'You were removed from this consult and cannot rejoin it.',
  ROOM_ENDED: 'This consult has ended.',
  ROOM_LOCKED: 'This consult is locked: nobody new may join right now.',
  SESSION_EXPIRED: 'You were away too long to pick up where you left off. Please join again.',
  NOT_JOINED: 'You are not in the consult any more.',
  NOT_FOUND: 'That is no longer there.',
  INVALID_STATE: 'That cannot be done right now.',
  MESSAGE_TOO_LARGE: 'The file is larger than this server accepts.',
  UNSUPPORTED_MEDIA_TYPE: 'This kind of file cannot be shared: use a PDF, PNG, JPEG or DICOM file.',
  CORRUPT_FILE: 'The file is damaged or incomplete.',
  UNSAFE_CONTENT: 'The file contains active content (such as scripts) and was refused.',
  URL_INVALID: 'The download link is not valid for you (expired or someone else’s).',
  // --- evaluation
  ALREADY_EVALUATED: 'You have already rated this consult.',
  EVALUATION_CLOSED: 'The time to rate this consult is over.',
});

/**
 * Codes whose server sentence adds what the plain one cannot know (which
 * issuer, which role, which field), so `detail` shows both.
 */
const WITH_SERVER_DETAIL = new Set([
  'PERMISSION_DENIED',
  'TOKEN_INVALID',
  'INVALID_REQUEST',
  'ISSUER_UNKNOWN',
  'ROOM_LOCKED',
  'RATE_LIMITED',
  'INVALID_STATE',
]);

/** Browser getUserMedia / getDisplayMedia failures, by DOMException name. */
const DEVICE = Object.freeze({
  NotAllowedError: 'Access to the camera, microphone or screen was blocked. Allow it in the browser and try again.',
  NotFoundError: 'No camera or microphone was found.',
  NotReadableError: 'The camera or microphone is in use by another application.',
  OverconstrainedError: 'The camera does not support the requested settings.',
  AbortError: 'The device request was cancelled.',
});

/**
 * @param {unknown} err
 * @param {string} [context] what was being attempted, e.g. "Could not join"
 * @param {{ detail?: boolean }} [options] detail: add the server's own sentence where it says more
 * @returns {string}
 */
export function describeError(err, context, { detail = false } = {}) {
  const prefix = context ? `${context}: ` : '';
  if (err && typeof err === 'object') {
    const code = /** @type {{code?: unknown}} */ (err).code;
    const name = /** @type {{name?: unknown}} */ (err).name;
    const message = /** @type {{message?: unknown}} */ (err).message;
    if (typeof code === 'string' && Object.hasOwn(PLAIN, code)) {
      const extra =
        detail && WITH_SERVER_DETAIL.has(code) && typeof message === 'string' && message ? ` ${message}` : '';
      return `${prefix}${PLAIN[code]}${extra} [${code}]`;
    }
    if (typeof name === 'string' && Object.hasOwn(DEVICE, name)) return `${prefix}${DEVICE[name]}`;
    if (typeof code === 'string' && typeof message === 'string') return `${prefix}${message} [${code}]`;
    if (typeof message === 'string' && message) return `${prefix}${message}`;
  }
  return `${prefix}${String(err)}`;
}
