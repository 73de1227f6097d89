/**
 * Recording the consult with everyone's consent (room.recording).
 *
 * - The REC indicator in the top bar, for everyone admitted: a red dot and
 *   "Recording", or "Paused — waiting for consent from …" / "Recording
 *   requested — waiting for consent from …", naming who has not agreed.
 * - The consent prompt (Agree / Decline) for everyone asked: shown when this
 *   participant is among those who have not agreed (`consentRequested`), once
 *   per recording; closed without an answer, or after declining, the
 *   indicator's "Answer" button opens it again.
 * - "Withdraw consent" while this participant's consent counts; "Record" and
 *   "Stop recording" for those with the `record` permission on a server that
 *   can record. The server checks every request again.
 *
 * Test hook: state.recording = { state, missingConsent, prompt, error }.
 * Names and server text go through textContent only.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { byId, el } from './dom.js';

export function createRecordingState() {
  return {
    /** 'off' | 'awaiting-consent' | 'recording' | 'paused' */
    state: 'off',
    /** @type {string[]} identities present who have not agreed */
    missingConsent: [],
    /** Whether the consent prompt is open. */
    prompt: false,
    /** @type {string | null} */
    error: null,
  };
}

/**
 * Sets up the recording UI for an admitted participant; dispose() on leaving.
 * @param {any} room
 * @param {{ state: ReturnType<typeof createRecordingState>, report(err: unknown, context: string): void }} deps
 */
export function startRecording(room, deps) {
  return new RecordingUi(room, deps);
}

class RecordingUi {
  #room;
  #deps;
  #indicator = byId('rec-indicator');
  #label = byId('rec-label');
  #answer = byId('rec-answer');
  #request = byId('rec-request');
  #stop = byId('rec-stop');
  #withdraw = byId('rec-withdraw');
  /** @type {HTMLDialogElement | null} */
  #dialog = null;
  /** Recordings this participant was prompted for already (no prompting twice). */
  #prompted = new Set();
  #busy = false;
  #off = [];

  constructor(room, deps) {
    this.#room = room;
    this.#deps = deps;
    this.#request.onclick = () => void this.#run('Could not start recording', () => room.recording.request());
    this.#stop.onclick = () => void this.#run('Could not stop recording', () => room.recording.stop());
    this.#withdraw.onclick = () => void this.#run('Could not withdraw consent', () => room.recording.consent(false));
    this.#answer.onclick = () => this.#openPrompt();
    const render = () => this.#render();
    for (const event of [
      RoomEvent.RecordingStateChanged,
      RoomEvent.ParticipantJoined,
      RoomEvent.ParticipantLeft,
      RoomEvent.Reconnected,
    ]) {
      room.on(event, render);
      this.#off.push(() => room.off(event, render));
    }
    this.#render();
  }

  dispose() {
    for (const off of this.#off) off();
    this.#off = [];
    this.#closePrompt();
    this.#indicator.hidden = true;
    for (const button of [this.#request, this.#stop, this.#withdraw, this.#answer]) {
      button.hidden = true;
      button.onclick = null;
    }
  }

  /** The display name of a participant, or "you". @param {string} identity */
  #nameOf(identity) {
    if (identity === this.#room.localParticipant.identity) return 'you';
    const p = this.#room.getParticipant(identity);
    return p?.name || identity;
  }

  #render() {
    const recording = this.#room.recording;
    const status = recording.state;
    const s = this.#deps.state;
    s.state = status.state;
    s.missingConsent = [...status.missingConsent];

    const waitingFor = status.missingConsent.map((id) => this.#nameOf(id)).join(', ');
    const text =
      status.state === 'recording'
        ? 'Recording'
        : status.state === 'paused'
          ? `Paused — waiting for consent from ${waitingFor}`
          : status.state === 'awaiting-consent'
            ? `Recording requested — waiting for consent from ${waitingFor}`
            : '';
    this.#indicator.hidden = status.state === 'off';
    this.#indicator.dataset.state = status.state;
    this.#label.textContent = text;

    const mayRecord = this.#room.can('record') && recording.available;
    this.#request.hidden = !(mayRecord && status.state === 'off');
    this.#stop.hidden = !(mayRecord && status.state !== 'off');
    this.#withdraw.hidden = !recording.consented;
    this.#answer.hidden = !recording.consentRequested || this.#dialog !== null;
    for (const button of [this.#request, this.#stop, this.#withdraw, this.#answer]) button.disabled = this.#busy;

    if (!recording.consentRequested) this.#closePrompt();
    else if (status.recordingId && !this.#prompted.has(status.recordingId)) this.#openPrompt();
  }

  #openPrompt() {
    const recording = this.#room.recording;
    const status = recording.state;
    if (this.#dialog || !recording.consentRequested) return;
    if (status.recordingId) this.#prompted.add(status.recordingId);
    const by = status.requestedBy ? this.#nameOf(status.requestedBy) : 'A clinician';
    const agree = el('button', { type: 'button', class: 'primary', text: 'Agree', 'data-testid': 'rec-agree' });
    const decline = el('button', { type: 'button', text: 'Decline', 'data-testid': 'rec-decline' });
    const dialog = el(
      'dialog',
      { class: 'rec-consent', 'data-testid': 'rec-consent', 'aria-labelledby': 'rec-title' },
      [
        el('div', { class: 'dialog-form' }, [
          el('h2', { id: 'rec-title', text: 'Record this consult?' }),
          el('p', {
            class: 'dialog-text',
            text:
              `${by === 'you' ? 'You' : by} asked to record this consult. It is recorded only while everyone ` +
              'present agrees, and you can withdraw at any time. Nothing is recorded until you agree.',
          }),
          el('div', { class: 'dialog-actions' }, [decline, agree]),
        ]),
      ],
    );
    const answer = (value) => {
      this.#closePrompt();
      void this.#run(value ? 'Could not agree to recording' : 'Could not decline recording', () =>
        this.#room.recording.consent(value),
      );
    };
    agree.addEventListener('click', () => answer(true));
    decline.addEventListener('click', () => answer(false));
    // Closed without an answer (Escape): the indicator's "Answer" button opens it again.
    dialog.addEventListener('close', () => this.#closePrompt());
    document.body.append(dialog);
    this.#dialog = dialog;
    this.#deps.state.prompt = true;
    dialog.showModal();
    agree.focus();
    this.#render();
  }

  #closePrompt() {
    const dialog = this.#dialog;
    if (!dialog) return;
    this.#dialog = null;
    this.#deps.state.prompt = false;
    if (dialog.open) dialog.close();
    dialog.remove();
    this.#answer.hidden = !this.#room.recording.consentRequested;
  }

  /** @param {string} context  @param {() => Promise<unknown>} action */
  async #run(context, action) {
    this.#busy = true;
    this.#deps.state.error = null;
    this.#render();
    try {
      await action();
    } catch (err) {
      this.#deps.state.error = err?.code ?? String(err);
      this.#deps.report(err, context);
    } finally {
      this.#busy = false;
      this.#render();
    }
  }
}
