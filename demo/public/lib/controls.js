/**
 * The call control bar. It only renders state and forwards clicks; what a click
 * does is decided by the caller (app.js), so new controls (chat, records) can
 * be added without touching the call logic.
 */
import { byId } from './dom.js';

/**
 * @param {{ onMic(): Promise<void>, onCam(): Promise<void>, onScreen(): Promise<void>, onLeave(): void }} handlers
 */
export function createControls(handlers) {
  const mic = byId('mic-button');
  const cam = byId('cam-button');
  const screen = byId('screen-button');
  const leave = byId('leave-button');

  /** Disables a button while its action runs so double clicks do not race. */
  const guard = (button, action) => async () => {
    if (button.disabled) return;
    button.disabled = true;
    button.dataset.busy = 'true';
    try {
      await action();
    } finally {
      button.disabled = button.dataset.unavailable === 'true';
      delete button.dataset.busy;
    }
  };
  mic.onclick = guard(mic, handlers.onMic);
  cam.onclick = guard(cam, handlers.onCam);
  screen.onclick = guard(screen, handlers.onScreen);
  leave.onclick = () => handlers.onLeave();

  /** @param {HTMLButtonElement} button */
  const setAvailable = (button, available) => {
    button.dataset.unavailable = String(!available);
    if (!button.dataset.busy) button.disabled = !available;
  };

  // Phones cannot share their screen from a browser; hide rather than fail.
  const canShareScreen = Boolean(
    navigator.mediaDevices && typeof navigator.mediaDevices.getDisplayMedia === 'function',
  );
  screen.hidden = !canShareScreen;

  return {
    /** @param {boolean} enabled  @param {boolean} [available]  @param {string} [unavailableText] */
    setMic(enabled, available = true, unavailableText = 'Mic unavailable') {
      mic.textContent = !available ? unavailableText : enabled ? 'Mute mic' : 'Unmute mic';
      mic.setAttribute('aria-pressed', String(!enabled));
      mic.dataset.enabled = String(enabled);
      setAvailable(mic, available);
    },
    /** @param {boolean} enabled  @param {boolean} [available]  @param {string} [unavailableText] */
    setCam(enabled, available = true, unavailableText = 'Camera unavailable') {
      cam.textContent = !available ? unavailableText : enabled ? 'Turn camera off' : 'Turn camera on';
      cam.setAttribute('aria-pressed', String(!enabled));
      cam.dataset.enabled = String(enabled);
      setAvailable(cam, available);
    },
    /** Shows the screen button only to roles that may share (and browsers that can). @param {boolean} allowed */
    showScreen(allowed) {
      screen.hidden = !allowed || !canShareScreen;
    },
    /** @param {boolean} sharing  @param {boolean} [available] */
    setScreen(sharing, available = true) {
      screen.textContent = sharing ? 'Stop sharing' : 'Share screen';
      screen.setAttribute('aria-pressed', String(sharing));
      screen.dataset.enabled = String(sharing);
      setAvailable(screen, available);
    },
  };
}
