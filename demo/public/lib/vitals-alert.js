/**
 * The alert banner over the stage: one line per raised vitals alert (from the
 * server's `vitalsAlert`), naming the patient and what crossed which
 * threshold; it goes away when the server clears the alert or a clinician
 * dismisses it. Announced to screen readers (role="alert").
 */
import { el } from './dom.js';
import { formatClock } from './time.js';

/** @param {any} alert */
const keyOf = (alert) => `${alert.identity}|${alert.type}|${alert.component ?? ''}|${alert.direction}`;

export class VitalsAlertBanner {
  /** @type {Map<string, HTMLElement>} */
  #lines = new Map();

  /** @param {HTMLElement} stage  the banner goes on top of it */
  constructor(stage) {
    this.root = el('div', { class: 'vitals-alerts', 'data-testid': 'vitals-alerts', role: 'alert', hidden: true });
    stage.prepend(this.root);
  }

  /** @param {any} alert  @param {string} name  the patient's display name */
  show(alert, name) {
    const key = keyOf(alert);
    this.#lines.get(key)?.remove();
    this.#lines.delete(key);
    if (alert.state === 'raised') {
      const dismiss = el('button', {
        type: 'button',
        class: 'small',
        text: 'Dismiss',
        'data-testid': 'vitals-alert-dismiss',
        'aria-label': `Dismiss alert for ${name}`,
      });
      const line = el(
        'p',
        {
          class: 'vitals-alert',
          'data-testid': 'vitals-alert',
          'data-identity': alert.identity,
          'data-type': alert.type,
        },
        [
          el('strong', { text: name }),
          el('span', { text: ` ${alert.message}` }),
          el('time', { class: 'muted', text: ` · ${formatClock(alert.at)}` }),
          dismiss,
        ],
      );
      dismiss.addEventListener('click', () => {
        line.remove();
        this.#lines.delete(key);
        this.root.hidden = this.#lines.size === 0;
      });
      this.#lines.set(key, line);
      this.root.append(line);
    }
    this.root.hidden = this.#lines.size === 0;
  }

  dispose() {
    this.root.remove();
    this.#lines.clear();
  }
}
