/**
 * The side panel of the call: tabs (people, chat, records, opinion) beside
 * the stage on larger screens, a sheet over the stage on phones. Each feature
 * gets a section to render into; the panel only switches between them and
 * shows unread counts on the tabs.
 */
import { byId, el } from './dom.js';

const PHONE = window.matchMedia('(max-width: 640px)');

export class SidePanel {
  #root;
  #tabs;
  /** @type {Map<string, { tab: HTMLButtonElement, badge: HTMLElement, section: HTMLElement, onShow?: () => void }>} */
  #panels = new Map();
  /** @type {string | null} */
  #active = null;

  /** @param {HTMLElement} root  the <aside> */
  constructor(root) {
    this.#root = root;
    this.#tabs = byId('side-tabs');
  }

  /**
   * Adds a tab and returns the section its feature renders into.
   * @param {string} name  @param {string} label  @param {{ onShow?: () => void }} [opts]
   */
  add(name, label, { onShow } = {}) {
    const badge = el('span', { class: 'badge', 'data-testid': `tab-${name}-badge`, hidden: true });
    const tab = el(
      'button',
      {
        type: 'button',
        role: 'tab',
        class: 'side-tab',
        id: `tab-${name}`,
        'data-testid': `tab-${name}`,
        'aria-selected': 'false',
        'aria-controls': `panel-${name}`,
      },
      [el('span', { text: label }), badge],
    );
    const section = el('section', {
      id: `panel-${name}`,
      class: 'side-section',
      role: 'tabpanel',
      'aria-labelledby': `tab-${name}`,
      'data-testid': `panel-${name}`,
      hidden: true,
    });
    tab.addEventListener('click', () => {
      // On a phone the active tab folds the sheet away again.
      if (PHONE.matches && this.#active === name && this.#root.dataset.open === 'true') this.close();
      else this.show(name);
    });
    this.#tabs.append(tab);
    this.#root.append(section);
    this.#panels.set(name, { tab, badge, section, onShow });
    this.#root.hidden = false;
    return section;
  }

  /** Phones show the panel as a sheet that folds away; larger screens keep it open beside the stage. */
  static get foldable() {
    return PHONE.matches;
  }

  /** @param {string} name  @param {{ open?: boolean }} [opts] open: false selects the tab but leaves a folded sheet folded */
  show(name, { open = true } = {}) {
    const panel = this.#panels.get(name);
    if (!panel) return;
    this.#active = name;
    for (const [key, p] of this.#panels) {
      const on = key === name;
      p.section.hidden = !on;
      p.tab.setAttribute('aria-selected', String(on));
    }
    if (open || !PHONE.matches) this.#root.dataset.open = 'true';
    this.#root.dataset.active = name;
    if (this.isVisible(name)) {
      this.setBadge(name, 0);
      panel.onShow?.();
    }
  }

  /** Folds the sheet (phones); on larger screens the panel stays open. */
  close() {
    this.#root.dataset.open = 'false';
  }

  /** Whether a panel is on screen now (its unread counts then stay at zero). @param {string} name */
  isVisible(name) {
    if (this.#active !== name) return false;
    return !PHONE.matches || this.#root.dataset.open === 'true';
  }

  /** @param {string} name  @param {number} count  0 hides the badge */
  setBadge(name, count) {
    const panel = this.#panels.get(name);
    if (!panel) return;
    panel.badge.textContent = count > 99 ? '99+' : String(count);
    panel.badge.hidden = count <= 0;
    panel.badge.dataset.count = String(count);
  }

  /** Adds one to a tab's count unless the panel is on screen. @param {string} name */
  bump(name) {
    if (this.isVisible(name)) return;
    const panel = this.#panels.get(name);
    if (panel) this.setBadge(name, Number(panel.badge.dataset.count ?? 0) + 1);
  }

  get active() {
    return this.#active;
  }

  /** Removes every tab and section (the call ended). */
  clear() {
    for (const p of this.#panels.values()) {
      p.tab.remove();
      p.section.remove();
    }
    this.#panels.clear();
    this.#active = null;
    this.#root.hidden = true;
    this.#root.dataset.open = 'false';
    delete this.#root.dataset.active;
  }
}
