/**
 * The consult opinion (会诊意见): a clinician's written conclusion, kept with
 * the consult after the call and versioned on every edit. Clinicians who may
 * write get an editor; every clinician sees the history of every author.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { el } from './dom.js';
import { roleLabel } from './roles.js';
import { formatClock, formatDateTime } from './time.js';

const MAX_OPINION_LENGTH = 20000;

export class OpinionPanel {
  #room;
  #hooks;
  #history;
  #editor;
  #save;
  #status;
  /** @type {Map<string, any>} `${identity}#${version}` → opinion */
  #opinions = new Map();
  #off;
  #dirty = false;

  /**
   * @param {any} room
   * @param {HTMLElement} container
   * @param {{ onChange(opinions: any[]): void, report(err: unknown, context: string): void }} hooks
   */
  constructor(room, container, hooks) {
    this.#room = room;
    this.#hooks = hooks;
    this.#history = el('div', { class: 'opinion-history', 'data-testid': 'opinion-history' });
    const parts = [];
    if (room.can('writeOpinion')) {
      this.#editor = el('textarea', {
        class: 'opinion-editor',
        rows: 7,
        maxLength: MAX_OPINION_LENGTH,
        placeholder: 'Findings, assessment and recommendations for the referring doctor.',
        'data-testid': 'opinion-editor',
        id: 'opinion-editor',
      });
      this.#save = el('button', {
        type: 'submit',
        class: 'primary small',
        text: 'Save opinion',
        'data-testid': 'opinion-save',
      });
      this.#status = el('span', { class: 'hint', 'data-testid': 'opinion-status' });
      const form = el('form', { class: 'opinion-form' }, [
        el('label', { class: 'opinion-label', htmlFor: 'opinion-editor', text: 'Your opinion (会诊意见)' }),
        this.#editor,
        el('div', { class: 'opinion-row' }, [this.#status, this.#save]),
      ]);
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        void this.#submit();
      });
      this.#editor.addEventListener('input', () => {
        this.#dirty = true;
      });
      parts.push(form);
    } else {
      parts.push(el('p', { class: 'hint', text: 'Opinions written by the specialists and doctors of this consult.' }));
    }
    parts.push(el('h3', { text: 'Versions' }), this.#history);
    container.append(...parts);

    const onUpdated = (opinion) => this.#add(opinion);
    room.on(RoomEvent.OpinionUpdated, onUpdated);
    this.#off = () => room.off(RoomEvent.OpinionUpdated, onUpdated);
    void this.refresh();
  }

  /** Loads every version from the server (at start and after a reconnect). */
  async refresh() {
    try {
      const opinions = await this.#room.getOpinions();
      for (const opinion of opinions) this.#add(opinion, false);
      this.#render();
    } catch (err) {
      this.#hooks.report(err, 'Could not load the opinions');
    }
  }

  dispose() {
    this.#off();
  }

  async #submit() {
    const text = this.#editor.value.trim();
    if (!text) {
      this.#editor.focus();
      return;
    }
    this.#save.disabled = true;
    try {
      const opinion = await this.#room.setOpinion(text);
      this.#dirty = false;
      this.#add(opinion);
      this.#status.textContent = `Saved as version ${opinion.version} at ${formatClock(opinion.writtenAt)}.`;
    } catch (err) {
      this.#hooks.report(err, 'Opinion not saved');
    } finally {
      this.#save.disabled = false;
    }
  }

  #add(opinion, render = true) {
    this.#opinions.set(`${opinion.author.identity}#${opinion.version}`, opinion);
    const mine = opinion.author.identity === this.#room.localParticipant.identity;
    // Start the editor from our own latest version, unless we are in the middle of typing.
    if (mine && this.#editor && !this.#dirty && this.#latestOf(opinion.author.identity) === opinion) {
      this.#editor.value = opinion.text;
      this.#save.textContent = 'Save new version';
    }
    if (render) this.#render();
  }

  #latestOf(identity) {
    let latest = null;
    for (const o of this.#opinions.values())
      if (o.author.identity === identity && (!latest || o.version > latest.version)) latest = o;
    return latest;
  }

  #render() {
    /** @type {Map<string, any[]>} */
    const byAuthor = new Map();
    for (const o of this.#opinions.values()) {
      const list = byAuthor.get(o.author.identity) ?? [];
      list.push(o);
      byAuthor.set(o.author.identity, list);
    }
    const groups = [...byAuthor.values()]
      .map((list) => list.sort((a, b) => b.version - a.version))
      .sort((a, b) => b[0].writtenAt - a[0].writtenAt);
    this.#history.replaceChildren(
      ...(groups.length === 0 ? [el('p', { class: 'hint', text: 'No opinion written yet.' })] : []),
      ...groups.map((versions) => {
        const author = versions[0].author;
        return el(
          'article',
          { class: 'opinion-author', 'data-testid': 'opinion-author', 'data-identity': author.identity },
          [
            el('header', {}, [
              el('span', { class: 'name', text: author.name }),
              el('span', { class: 'role-chip', 'data-role': author.role, text: roleLabel(author.role) }),
              el('span', { class: 'issuer', title: 'Signed in by', text: author.issuer }),
            ]),
            ...versions.map((o, i) =>
              el(
                'details',
                {
                  class: 'opinion-version',
                  'data-testid': 'opinion-version',
                  'data-version': String(o.version),
                  open: i === 0,
                },
                [
                  el('summary', {}, [
                    el('span', { text: `Version ${o.version}` }),
                    el('time', { dateTime: new Date(o.writtenAt).toISOString(), text: formatDateTime(o.writtenAt) }),
                    i === 0 ? el('span', { class: 'latest', text: 'latest' }) : '',
                  ]),
                  el('p', { class: 'opinion-text', 'data-testid': 'opinion-text', text: o.text }),
                ],
              ),
            ),
          ],
        );
      }),
    );
    this.#hooks.onChange(
      [...this.#opinions.values()].map((o) => ({ identity: o.author.identity, version: o.version, text: o.text })),
    );
  }
}
