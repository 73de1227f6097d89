/**
 * The waiting room as clinicians who may admit see it: who waits (name,
 * role, since when), live, with Admit and Deny (with a reason). Rendered into
 * the People panel; everything comes from `room.waitingRoom` and the
 * `waitingRoomChanged` event.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { ask } from './dialog.js';
import { el } from './dom.js';
import { roleLabel } from './roles.js';
import { formatClock, formatSince } from './time.js';

/** Reasons a clinician picks from most often; the field stays free text. */
const DEFAULT_DENY_REASON = 'This consult is for another patient. Please check your appointment time.';

export class Lobby {
  #room;
  #list;
  #count;
  #empty;
  #onChange;
  #report;
  #timer;
  #off;

  /**
   * @param {any} room
   * @param {HTMLElement} container
   * @param {{ onChange(waiting: any[]): void, report(err: unknown, context: string): void }} hooks
   */
  constructor(room, container, { onChange, report }) {
    this.#room = room;
    this.#onChange = onChange;
    this.#report = report;
    this.#count = el('span', { class: 'count', 'data-testid': 'waiting-count', text: '0' });
    this.#list = el('ul', { class: 'waiting-list', 'data-testid': 'waiting-list' });
    this.#empty = el('p', { class: 'hint', text: 'Nobody is waiting.' });
    container.append(
      el('section', { class: 'lobby', 'aria-label': 'Waiting room' }, [
        el('h2', {}, [el('span', { text: 'Waiting room ' }), this.#count]),
        this.#empty,
        this.#list,
      ]),
    );
    const onChanged = (waiting) => this.#render(waiting);
    room.on(RoomEvent.WaitingRoomChanged, onChanged);
    this.#off = () => room.off(RoomEvent.WaitingRoomChanged, onChanged);
    this.#render(room.waitingRoom);
    // "waiting 3 min" keeps counting while nobody arrives or leaves.
    this.#timer = setInterval(() => this.#refreshTimes(), 30_000);
  }

  dispose() {
    clearInterval(this.#timer);
    this.#off();
  }

  /** @param {readonly { identity: string, name: string, role: string, since: number }[]} waiting */
  #render(waiting) {
    const entries = [...waiting].sort((a, b) => a.since - b.since);
    this.#count.textContent = String(entries.length);
    this.#empty.hidden = entries.length > 0;
    this.#list.replaceChildren(...entries.map((entry) => this.#entry(entry)));
    this.#onChange(entries);
  }

  #entry(entry) {
    const since = el('span', { class: 'since', 'data-testid': 'waiting-since', 'data-since': String(entry.since) });
    setSince(since, entry.since);
    const admit = el('button', {
      type: 'button',
      class: 'primary small',
      text: 'Admit',
      'data-testid': 'admit-button',
    });
    const deny = el('button', { type: 'button', class: 'small', text: 'Deny', 'data-testid': 'deny-button' });
    const li = el('li', { class: 'waiting-entry', 'data-testid': 'waiting-entry', 'data-identity': entry.identity }, [
      el('div', { class: 'who' }, [
        el('span', { class: 'name', 'data-testid': 'waiting-name', text: entry.name || entry.identity }),
        el('span', {
          class: 'role-chip',
          'data-testid': 'waiting-role',
          'data-role': entry.role,
          text: roleLabel(entry.role),
        }),
      ]),
      since,
      el('div', { class: 'actions' }, [deny, admit]),
    ]);
    admit.addEventListener('click', async () => {
      admit.disabled = deny.disabled = true;
      try {
        await this.#room.admit(entry.identity);
      } catch (err) {
        this.#report(err, `Could not admit ${entry.name}`);
        admit.disabled = deny.disabled = false;
      }
    });
    deny.addEventListener('click', async () => {
      const answer = await ask({
        title: `Turn away ${entry.name}?`,
        text: 'They leave the waiting room and see your reason.',
        fields: [
          {
            name: 'reason',
            label: 'Reason shown to them',
            type: 'textarea',
            value: DEFAULT_DENY_REASON,
            maxLength: 500,
            required: true,
          },
        ],
        confirm: 'Deny entry',
        danger: true,
        testid: 'deny-dialog',
      });
      if (!answer) return;
      admit.disabled = deny.disabled = true;
      try {
        await this.#room.deny(entry.identity, String(answer.reason));
      } catch (err) {
        this.#report(err, `Could not turn ${entry.name} away`);
        admit.disabled = deny.disabled = false;
      }
    });
    return li;
  }

  #refreshTimes() {
    for (const node of this.#list.querySelectorAll('[data-since]')) setSince(node, Number(node.dataset.since));
  }
}

function setSince(node, since) {
  node.textContent = `waiting since ${formatClock(since)} (${formatSince(since)})`;
  node.title = new Date(since).toLocaleString();
}
