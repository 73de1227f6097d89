/**
 * The records panel: upload a file (PDF, PNG, JPEG or DICOM) for everyone or
 * for clinicians only, list the records this participant may see, and share
 * one on the stage. The server checks the bytes, the size and who may see
 * what; the panel shows what it answers.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { el } from '../dom.js';
import { formatBytes, formatClock } from '../time.js';

const TYPE_LABELS = Object.freeze({
  'application/pdf': 'PDF',
  'image/png': 'Image',
  'image/jpeg': 'Image',
  'application/dicom': 'DICOM',
});

export class RecordsPanel {
  #room;
  #hooks;
  #list;
  #empty;
  #status;
  /** @type {Map<string, any>} */
  #records = new Map();
  #offs = [];

  /**
   * @param {any} room
   * @param {HTMLElement} container
   * @param {{ report(err: unknown, context: string): void, onChange(records: any[]): void, onNew(): void }} hooks
   */
  constructor(room, container, hooks) {
    this.#room = room;
    this.#hooks = hooks;
    this.#list = el('ul', { class: 'records-list', 'data-testid': 'records-list' });
    this.#empty = el('p', { class: 'hint', text: 'No records in this consult yet.' });
    this.#status = el('p', { class: 'hint', 'data-testid': 'record-status', role: 'status' });
    const parts = [];
    if (room.can('shareRecords')) parts.push(this.#uploadForm());
    parts.push(el('h3', { text: 'In this consult' }), this.#empty, this.#list);
    container.append(...parts);

    this.#on(RoomEvent.RecordAdded, (record) => {
      const isNew = !this.#records.has(record.id);
      this.#records.set(record.id, record);
      this.#render();
      if (isNew && record.uploadedBy.identity !== room.localParticipant.identity) hooks.onNew();
    });
    this.#on(RoomEvent.RecordDeleted, (id) => {
      this.#records.delete(id);
      this.#render();
    });
    this.#on(RoomEvent.RecordShared, () => this.#render());
    this.#on(RoomEvent.RecordShareStopped, () => this.#render());
    void this.refresh();
  }

  /** The list from the server (at start and after a reconnect). */
  async refresh() {
    try {
      const records = await this.#room.records.list();
      this.#records = new Map(records.map((r) => [r.id, r]));
      this.#render();
    } catch (err) {
      this.#hooks.report(err, 'Could not load the records');
    }
  }

  dispose() {
    for (const off of this.#offs) off();
  }

  #on(event, listener) {
    this.#room.on(event, listener);
    this.#offs.push(() => this.#room.off(event, listener));
  }

  #uploadForm() {
    const file = el('input', {
      type: 'file',
      id: 'record-file',
      accept: '.pdf,.png,.jpg,.jpeg,.dcm,application/pdf,image/png,image/jpeg,application/dicom',
      'data-testid': 'record-file',
    });
    const visibility = el('select', { id: 'record-visibility', 'data-testid': 'record-visibility' }, [
      el('option', { value: 'everyone', text: 'Everyone in the consult' }),
      el('option', { value: 'clinicians', text: 'Clinicians only' }),
    ]);
    const upload = el('button', {
      type: 'submit',
      class: 'primary small',
      text: 'Upload',
      'data-testid': 'record-upload',
    });
    const form = el('form', { class: 'record-upload' }, [
      el('label', { class: 'field' }, [el('span', { text: 'File (PDF, PNG, JPEG or DICOM)' }), file]),
      el('label', { class: 'field' }, [el('span', { text: 'Who may see it' }), visibility]),
      el('div', { class: 'record-upload-row' }, [this.#status, upload]),
    ]);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) {
        this.#say('Choose a file first.');
        file.focus();
        return;
      }
      upload.disabled = true;
      this.#say(`Uploading ${chosen.name}…`);
      try {
        const record = await this.#room.records.upload(chosen, { visibility: visibility.value });
        this.#records.set(record.id, record);
        this.#render();
        this.#say(`${record.name} is in the consult.`);
        form.reset();
      } catch (err) {
        this.#say('');
        this.#hooks.report(err, `Could not upload ${chosen.name}`);
      } finally {
        upload.disabled = false;
      }
    });
    return form;
  }

  #say(text) {
    this.#status.textContent = text;
  }

  #render() {
    const shared = this.#room.records.current?.record.id;
    const records = [...this.#records.values()].sort((a, b) => b.uploadedAt - a.uploadedAt);
    this.#empty.hidden = records.length > 0;
    this.#list.replaceChildren(...records.map((record) => this.#item(record, record.id === shared)));
    this.#hooks.onChange(records.map((r) => ({ id: r.id, name: r.name, type: r.type, visibility: r.visibility })));
  }

  #item(record, isShared) {
    const canShare = this.#room.can('shareRecords');
    const share = el('button', {
      type: 'button',
      class: isShared ? 'small' : 'primary small',
      text: isShared ? 'On screen' : 'Share',
      disabled: isShared,
      'data-testid': 'record-share',
    });
    share.addEventListener('click', async () => {
      share.disabled = true;
      try {
        await this.#room.records.share(record.id);
      } catch (err) {
        this.#hooks.report(err, `Could not share ${record.name}`);
        share.disabled = false;
      }
    });
    return el(
      'li',
      {
        class: 'record-item',
        'data-testid': 'record-item',
        'data-record-id': record.id,
        'data-visibility': record.visibility,
        'data-shared': String(isShared),
      },
      [
        el('div', { class: 'record-main' }, [
          el('span', { class: 'record-type', 'data-type': record.type, text: TYPE_LABELS[record.type] ?? record.type }),
          el('span', { class: 'record-name', 'data-testid': 'record-name', text: record.name, title: record.name }),
        ]),
        el('div', { class: 'record-meta' }, [
          el('span', {
            text: `${formatBytes(record.size)} · ${record.uploadedBy.name} · ${formatClock(record.uploadedAt)}`,
          }),
          record.visibility === 'clinicians' ? el('span', { class: 'chip-private', text: 'Clinicians only' }) : '',
        ]),
        canShare ? share : isShared ? el('span', { class: 'hint', text: 'On screen' }) : '',
      ],
    );
  }
}
