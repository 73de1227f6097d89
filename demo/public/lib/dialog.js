/**
 * Modal questions (confirm a step, give a reason) on the native <dialog>
 * element. Every label and value goes through textContent / value: a reason
 * typed by one user and shown to another is never parsed as HTML.
 */
import { el } from './dom.js';

/**
 * @typedef {{ name: string, label: string, type: 'text' | 'textarea' | 'checkbox', value?: string | boolean,
 *             maxLength?: number, placeholder?: string, required?: boolean }} Field
 * @typedef {{ title: string, text?: string, fields?: Field[], confirm?: string, cancel?: string | null,
 *             danger?: boolean, testid?: string, body?: Node }} Question
 */

/**
 * Shows a modal and resolves with the field values when confirmed, or null
 * when cancelled (Cancel, Escape). One dialog at a time: a new question
 * cancels the one still open.
 * @param {Question} q
 * @returns {Promise<Record<string, string | boolean> | null>}
 */
export function ask(q) {
  closeOpen();
  const inputs = new Map();
  const fields = (q.fields ?? []).map((field) => {
    const id = `dialog-${field.name}`;
    let input;
    if (field.type === 'checkbox') {
      input = el('input', {
        type: 'checkbox',
        id,
        checked: Boolean(field.value),
        'data-testid': `dialog-field-${field.name}`,
      });
      inputs.set(field.name, input);
      return el('label', { class: 'dialog-check' }, [input, el('span', { text: field.label })]);
    }
    input = el(field.type === 'textarea' ? 'textarea' : 'input', {
      id,
      value: typeof field.value === 'string' ? field.value : '',
      maxLength: field.maxLength ?? 500,
      placeholder: field.placeholder ?? '',
      required: Boolean(field.required),
      rows: field.type === 'textarea' ? 3 : undefined,
      'data-testid': `dialog-field-${field.name}`,
    });
    inputs.set(field.name, input);
    return el('label', { class: 'dialog-field' }, [el('span', { text: field.label }), input]);
  });
  const confirm = el('button', {
    type: 'submit',
    class: q.danger ? 'danger' : 'primary',
    value: 'confirm',
    text: q.confirm ?? 'OK',
    'data-testid': 'dialog-confirm',
  });
  const cancel =
    q.cancel === null
      ? ''
      : el('button', { type: 'button', text: q.cancel ?? 'Cancel', 'data-testid': 'dialog-cancel' });
  const form = el('form', { method: 'dialog', class: 'dialog-form' }, [
    el('h2', { text: q.title }),
    q.text ? el('p', { class: 'dialog-text', text: q.text }) : '',
    q.body ?? '',
    ...fields,
    el('div', { class: 'dialog-actions' }, [cancel, confirm]),
  ]);
  const dialog = el('dialog', { class: 'dialog', 'data-testid': q.testid ?? 'dialog' }, [form]);
  document.body.append(dialog);

  return new Promise((resolve) => {
    let answered = false;
    const finish = (value) => {
      if (answered) return;
      answered = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener('close', () => finish(null));
    if (cancel) cancel.addEventListener('click', () => finish(null));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      for (const field of q.fields ?? []) {
        const input = inputs.get(field.name);
        if (field.required && field.type !== 'checkbox' && !input.value.trim()) {
          input.focus();
          return;
        }
      }
      /** @type {Record<string, string | boolean>} */
      const values = {};
      for (const [name, input] of inputs) values[name] = input.type === 'checkbox' ? input.checked : input.value.trim();
      finish(values);
    });
    dialog.__finish = finish;
    dialog.showModal();
    const first = [...inputs.values()].find((i) => i.type !== 'checkbox');
    (first ?? confirm).focus();
  });
}

/** Closes any open question as cancelled (e.g. the call ended underneath it). */
export function closeOpen() {
  for (const open of document.querySelectorAll('dialog.dialog')) {
    if (typeof open.__finish === 'function') open.__finish(null);
    else open.remove();
  }
}
