/**
 * Host controls: per remote tile (mute their microphone, optionally letting
 * them unmute; remove them) and for the room (lock / unlock, end the consult).
 * Shown only for what the server grants this participant (`room.can`); the
 * server checks every request again.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { ask } from './dialog.js';
import { byId, el } from './dom.js';

export class HostControls {
  #room;
  #report;
  #onEnding;
  #lock = byId('lock-button');
  #end = byId('end-button');
  #off = () => {};

  /**
   * @param {any} room
   * @param {{ report(err: unknown, context: string): void, onEnding(ending: Promise<any>): void }} hooks
   */
  constructor(room, { report, onEnding }) {
    this.#room = room;
    this.#report = report;
    this.#onEnding = onEnding;
  }

  /** Shows the room controls this participant may use. */
  start() {
    const room = this.#room;
    this.#lock.hidden = !room.can('lock');
    this.#end.hidden = !room.can('end');
    this.#renderLock(room.info?.locked ?? false);
    this.#lock.onclick = () => void this.#toggleLock();
    this.#end.onclick = () => void this.#endConsult();
    const onUpdated = (info) => this.#renderLock(info.locked);
    room.on(RoomEvent.RoomUpdated, onUpdated);
    this.#off = () => room.off(RoomEvent.RoomUpdated, onUpdated);
  }

  dispose() {
    this.#off();
    this.#lock.hidden = true;
    this.#end.hidden = true;
    this.#lock.onclick = null;
    this.#end.onclick = null;
  }

  /**
   * The buttons for a remote participant's tile, or null when this
   * participant may not act on others.
   * @param {{ identity: string, name?: string }} who
   */
  tileActions(who) {
    const room = this.#room;
    const buttons = [];
    const name = who.name || who.identity;
    if (room.can('muteOthers')) {
      const mute = el('button', {
        type: 'button',
        class: 'tile-action',
        text: 'Mute',
        title: `Mute ${name}'s microphone`,
        'data-testid': 'tile-mute',
      });
      mute.addEventListener('click', () => void this.#mute(who, name));
      buttons.push(mute);
    }
    if (room.can('remove')) {
      const remove = el('button', {
        type: 'button',
        class: 'tile-action danger',
        text: 'Remove',
        title: `Remove ${name} from the consult`,
        'data-testid': 'tile-remove',
      });
      remove.addEventListener('click', () => void this.#remove(who, name));
      buttons.push(remove);
    }
    return buttons.length ? el('div', { class: 'tile-actions', 'data-testid': 'tile-actions' }, buttons) : null;
  }

  async #mute(who, name) {
    const answer = await ask({
      title: `Mute ${name}?`,
      text: 'Their microphone is turned off for everyone.',
      fields: [{ name: 'allowUnmute', label: 'Let them turn it back on themselves', type: 'checkbox', value: false }],
      confirm: 'Mute microphone',
      testid: 'mute-dialog',
    });
    if (!answer) return;
    try {
      await this.#room.muteParticipant(who.identity, 'microphone', { allowUnmute: Boolean(answer.allowUnmute) });
    } catch (err) {
      this.#report(err, `Could not mute ${name}`);
    }
  }

  async #remove(who, name) {
    const answer = await ask({
      title: `Remove ${name} from the consult?`,
      text: 'They are disconnected at once and cannot rejoin this consult, not even with a new link.',
      fields: [{ name: 'reason', label: 'Reason shown to them (optional)', type: 'text', maxLength: 500 }],
      confirm: 'Remove',
      danger: true,
      testid: 'remove-dialog',
    });
    if (!answer) return;
    try {
      await this.#room.removeParticipant(who.identity, answer.reason ? String(answer.reason) : undefined);
    } catch (err) {
      this.#report(err, `Could not remove ${name}`);
    }
  }

  async #toggleLock() {
    const locked = this.#room.info?.locked ?? false;
    this.#lock.disabled = true;
    try {
      const info = locked ? await this.#room.unlock() : await this.#room.lock();
      this.#renderLock(info.locked);
    } catch (err) {
      this.#report(err, locked ? 'Could not unlock the room' : 'Could not lock the room');
    } finally {
      this.#lock.disabled = false;
    }
  }

  async #endConsult() {
    const answer = await ask({
      title: 'End the consult for everyone?',
      text: 'Everyone is disconnected and nobody can join again. Opinions and records stay with the consult.',
      confirm: 'End consult',
      danger: true,
      testid: 'end-dialog',
    });
    if (!answer) return;
    this.#end.disabled = true;
    const ending = this.#room.end();
    this.#onEnding(ending);
    try {
      await ending;
    } catch (err) {
      this.#report(err, 'Could not end the consult');
      this.#end.disabled = false;
    }
  }

  #renderLock(locked) {
    this.#lock.textContent = locked ? 'Unlock room' : 'Lock room';
    this.#lock.setAttribute('aria-pressed', String(locked));
    this.#lock.dataset.locked = String(locked);
    this.#lock.title = locked
      ? 'Locked: only clinicians of this consult’s hospitals may join'
      : 'Stop new people from joining';
  }
}
