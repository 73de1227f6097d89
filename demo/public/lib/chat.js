/**
 * The consult chat: messages in the server's order (seq), each with the
 * sender's name, role and time; clinicians may write notes only clinicians
 * see. Text is only ever set with textContent: a message is never markup.
 * History comes from `room.chatHistory` (at join, on admission and after a
 * reconnect); new messages from the `chat` event.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { el } from './dom.js';
import { isClinician, roleLabel } from './roles.js';
import { formatClock } from './time.js';

const MAX_CHAT_LENGTH = 2000;

export class ChatPanel {
  #room;
  #list;
  #form;
  #input;
  #clinicians;
  #send;
  #hooks;
  /** @type {Map<string, HTMLElement>} message id → element */
  #rendered = new Map();
  #off;

  /**
   * @param {any} room
   * @param {HTMLElement} container
   * @param {{ onMessage(message: any, rendered: any[]): void, report(err: unknown, context: string): void }} hooks
   */
  constructor(room, container, hooks) {
    this.#room = room;
    this.#hooks = hooks;
    const me = room.localParticipant;
    const canChat = room.can('chat');
    this.#list = el('ol', { class: 'chat-list', 'data-testid': 'chat-list', 'aria-live': 'polite' });
    this.#input = el('textarea', {
      class: 'chat-input',
      rows: 2,
      maxLength: MAX_CHAT_LENGTH,
      placeholder: canChat ? 'Write a message' : 'Your role reads the chat only',
      disabled: !canChat,
      'data-testid': 'chat-input',
      'aria-label': 'Message',
    });
    this.#clinicians = el('input', { type: 'checkbox', 'data-testid': 'chat-clinicians-only' });
    const cliniciansToggle = el('label', { class: 'check small', hidden: !isClinician(me.role) || !canChat }, [
      this.#clinicians,
      el('span', { text: 'Clinicians only' }),
    ]);
    this.#send = el('button', {
      type: 'submit',
      class: 'primary small',
      text: 'Send',
      disabled: !canChat,
      'data-testid': 'chat-send',
    });
    this.#form = el('form', { class: 'chat-form', 'data-testid': 'chat-form' }, [
      this.#input,
      el('div', { class: 'chat-form-row' }, [cliniciansToggle, this.#send]),
    ]);
    container.append(this.#list, this.#form);

    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.#submit();
    });
    // Enter sends, Shift+Enter starts a new line (as in every messenger).
    this.#input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.#submit();
      }
    });
    const onChat = (message) => this.#add(message, true);
    room.on(RoomEvent.Chat, onChat);
    this.#off = () => room.off(RoomEvent.Chat, onChat);
    this.syncHistory();
  }

  /** Renders whatever of `room.chatHistory` is not on screen yet (join, admission, reconnect). */
  syncHistory() {
    for (const message of this.#room.chatHistory) this.#add(message, false);
  }

  /** The messages as shown, in order, for the test hook. */
  snapshot() {
    return [...this.#list.children].map((li) => ({
      seq: Number(li.dataset.seq),
      from: li.dataset.identity,
      to: li.dataset.to,
      text: li.querySelector('.chat-text')?.textContent ?? '',
    }));
  }

  dispose() {
    this.#off();
  }

  async #submit() {
    const text = this.#input.value.trim();
    if (!text || this.#send.disabled) return;
    this.#send.disabled = true;
    try {
      const message = await this.#room.sendChat(text, { to: this.#clinicians.checked ? 'clinicians' : 'everyone' });
      this.#add(message, false);
      this.#input.value = '';
    } catch (err) {
      this.#hooks.report(err, 'Message not sent');
    } finally {
      this.#send.disabled = false;
      this.#input.focus();
    }
  }

  /** Inserts a message at its place in server order; a message already shown is skipped. */
  #add(message, notify) {
    if (this.#rendered.has(message.id)) return;
    const mine = message.from.identity === this.#room.localParticipant.identity;
    const li = el(
      'li',
      {
        class: 'chat-message',
        'data-testid': 'chat-message',
        'data-seq': String(message.seq),
        'data-identity': message.from.identity,
        'data-to': message.to,
        'data-mine': String(mine),
      },
      [
        el('div', { class: 'chat-meta' }, [
          el('span', {
            class: 'chat-from',
            'data-testid': 'chat-from',
            text: mine ? `${message.from.name} (you)` : message.from.name,
          }),
          el('span', { class: 'role-chip', 'data-role': message.from.role, text: roleLabel(message.from.role) }),
          message.to === 'clinicians'
            ? el('span', { class: 'chat-private', 'data-testid': 'chat-private', text: 'Clinicians only' })
            : '',
          el('time', {
            class: 'chat-time',
            dateTime: new Date(message.sentAt).toISOString(),
            text: formatClock(message.sentAt),
          }),
        ]),
        el('p', { class: 'chat-text', 'data-testid': 'chat-text', text: message.text }),
      ],
    );
    let before = null;
    for (const node of this.#list.children) {
      if (Number(node.dataset.seq) > message.seq) {
        before = node;
        break;
      }
    }
    const atBottom = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < 40;
    this.#list.insertBefore(li, before);
    this.#rendered.set(message.id, li);
    if (atBottom || mine) this.#list.scrollTop = this.#list.scrollHeight;
    if (notify) this.#hooks.onMessage(message, this.snapshot());
    else this.#hooks.onMessage(null, this.snapshot());
  }
}
