/**
 * Tiny DOM helpers. Every piece of text goes through textContent: names, roles
 * and server messages are never parsed as HTML.
 */

/**
 * Creates an element. `attrs` keys starting with "data-" or "aria-" become
 * attributes; `class` sets className; `text` sets textContent; anything else is
 * assigned as a property (e.g. muted, playsInline, hidden).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {(Node | string)[]} [children]
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = String(value);
    else if (key === 'text') node.textContent = String(value);
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role')
      node.setAttribute(key, String(value));
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

/** @param {string} id */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id} in index.html`);
  return node;
}

/** Shows one element and hides the other (the two top-level views). */
export function swap(show, hide) {
  hide.hidden = true;
  show.hidden = false;
}
