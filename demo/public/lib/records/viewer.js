/**
 * The shared-record viewer on the stage. Everyone who may see the record
 * looks at it together: the presenter's page, zoom, pan, rotation and (for
 * DICOM) window/level are mirrored on every screen; a viewer may look around
 * on their own and then follow the presenter again; presenting is handed over
 * on request. Pointers and marks (freehand, arrow, text note) are drawn on an
 * overlay in record coordinates. All of it goes through `room.records`.
 */
import { RoomEvent } from '/sdk/huizhen-client.js';
import { ask } from '../dialog.js';
import { el } from '../dom.js';
import { loadContent } from './content.js';
import { MARK_COLORS, colorFor, drawOverlay, simplify } from './marks.js';

const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8];
/** Pointers that stop moving fade away after this long. */
const POINTER_TTL_MS = 4000;
/** Pan and window/level drags send at most one view change per this many ms. */
const DRAG_SEND_MS = 120;
const TOOLS = [
  { name: 'point', label: 'Point', title: 'Show the others where you point', annotate: false },
  { name: 'pan', label: 'Pan', title: 'Drag the page around', annotate: false },
  { name: 'pen', label: 'Pen', title: 'Draw freehand', annotate: true },
  { name: 'arrow', label: 'Arrow', title: 'Draw an arrow', annotate: true },
  { name: 'text', label: 'Note', title: 'Pin a text note', annotate: true },
];

export class RecordViewer {
  #room;
  #root;
  #hooks;
  #dom;
  /** @type {any} RecordInfo shown now */
  #record = null;
  /** @type {import('./content.js').Content | null} */
  #content = null;
  #error = null;
  /** Bumped whenever what is shown changes; a slower, older draw then throws its result away. */
  #generation = 0;
  #drawing = null;
  /** @type {{ recordId: string, page: number, zoom: number, rotation: number, key: string } | null} what the canvas shows */
  #rendered = null;
  #skipped = [];
  #tool = 'point';
  #color = null;
  /** @type {Map<string, { page: number, x: number, y: number, at: number }>} */
  #pointers = new Map();
  #pointerTimer = 0;
  /** The mark being drawn, or a pan / window drag in progress. */
  #gesture = null;
  #box = { width: 0, height: 0, scale: 1 };
  #offs = [];
  #windowEditUntil = 0;
  #resize;
  #toast = null;

  /**
   * @param {any} room
   * @param {HTMLElement} root  the stage's <section id="viewer">
   * @param {{ report(err: unknown, context: string): void, onChange(state: any): void, log(type: string, fields: object): void }} hooks
   */
  constructor(room, root, hooks) {
    this.#room = room;
    this.#root = root;
    this.#hooks = hooks;
    this.#dom = this.#build();
    this.#resize = new ResizeObserver(() => this.#update());
    this.#resize.observe(this.#dom.viewport);

    const records = room.records;
    this.#on(RoomEvent.RecordShared, (share) => {
      hooks.log('recordShared', { detail: share.record.id, identity: share.presenter });
      void this.#open(share.record);
    });
    this.#on(RoomEvent.RecordShareStopped, (id) => {
      hooks.log('recordShareStopped', { detail: id });
      this.#close();
    });
    this.#on(RoomEvent.RecordDeleted, (id) => {
      if (this.#record?.id === id) this.#close();
    });
    this.#on(RoomEvent.LocalViewChanged, () => this.#update());
    this.#on(RoomEvent.ViewStateChanged, (id, view, by) => {
      hooks.log('viewStateChanged', { detail: `${id}:${view.version}`, identity: by });
      this.#update();
    });
    this.#on(RoomEvent.PresenterChanged, (id, presenter) => {
      hooks.log('presenterChanged', { detail: id, identity: presenter });
      if (presenter === room.localParticipant.identity)
        this.#showToast('You are presenting now: the others see what you see.');
      this.#update();
    });
    this.#on(RoomEvent.PresenterRequested, (_id, from) => this.#askHandOver(from));
    this.#on(RoomEvent.Pointer, (pointer) => {
      this.#pointers.set(pointer.identity, { page: pointer.page, x: pointer.x, y: pointer.y, at: Date.now() });
      this.#drawOverlay();
      clearTimeout(this.#pointerTimer);
      this.#pointerTimer = window.setTimeout(() => this.#drawOverlay(), POINTER_TTL_MS + 50);
    });
    this.#on(RoomEvent.AnnotationAdded, (id, mark) => {
      hooks.log('annotationAdded', { detail: `${id}:${mark.kind}`, identity: mark.author.identity });
      this.#drawOverlay();
      this.#publish();
    });
    this.#on(RoomEvent.AnnotationRemoved, () => {
      this.#drawOverlay();
      this.#publish();
    });
    // Late joiners and those admitted from the lobby find a record already on screen.
    if (records.current) void this.#open(records.current.record);
  }

  dispose() {
    for (const off of this.#offs) off();
    this.#resize.disconnect();
    clearTimeout(this.#pointerTimer);
    this.#close();
    this.#root.replaceChildren();
  }

  #on(event, listener) {
    this.#room.on(event, listener);
    this.#offs.push(() => this.#room.off(event, listener));
  }

  // --- building the viewer -------------------------------------------------------

  #build() {
    const room = this.#room;
    const canAnnotate = room.can('annotate');
    const button = (testid, text, title, onClick, cls = 'small') => {
      const b = el('button', {
        type: 'button',
        class: `viewer-button ${cls}`,
        text,
        title,
        'aria-label': title,
        'data-testid': testid,
      });
      b.addEventListener('click', onClick);
      return b;
    };
    const dom = {};
    dom.title = el('span', { class: 'viewer-name', 'data-testid': 'viewer-name' });
    dom.describe = el('span', { class: 'viewer-describe', 'data-testid': 'viewer-describe' });
    dom.presenter = el('span', { class: 'viewer-presenter', 'data-testid': 'viewer-presenter' });
    dom.follow = button(
      'viewer-follow',
      'Follow presenter',
      'Go back to what the presenter shows',
      () => {
        room.records.followPresenter();
        this.#update();
      },
      'primary small',
    );
    dom.request = button('viewer-request', 'Ask to present', 'Ask the presenter to hand over', async () => {
      try {
        await room.records.requestPresenter();
        this.#showToast('Asked. You present once they hand over.');
      } catch (err) {
        this.#hooks.report(err, 'Could not ask to present');
      }
    });
    dom.takeOver = button('viewer-take-over', 'Present', 'Take over presenting (host)', () =>
      this.#grant(room.localParticipant.identity),
    );
    dom.stop = button(
      'viewer-stop',
      'Stop sharing',
      'Close the record for everyone',
      async () => {
        try {
          await room.records.stopShare();
        } catch (err) {
          this.#hooks.report(err, 'Could not stop sharing');
        }
      },
      'danger-outline small',
    );

    dom.prev = button('viewer-prev', '‹', 'Previous page', () => this.#step(-1));
    dom.page = el('span', { class: 'viewer-readout', 'data-testid': 'viewer-page', 'aria-live': 'polite' });
    dom.next = button('viewer-next', '›', 'Next page', () => this.#step(1));
    dom.zoomOut = button('viewer-zoom-out', '−', 'Zoom out', () => this.#zoomBy(-1));
    dom.zoom = el('span', { class: 'viewer-readout', 'data-testid': 'viewer-zoom' });
    dom.zoomIn = button('viewer-zoom-in', '+', 'Zoom in', () => this.#zoomBy(1));
    dom.fit = button('viewer-fit', 'Fit', 'Fit the page and centre it', () =>
      this.#setView({ zoom: 1, panX: 0, panY: 0 }),
    );
    dom.rotate = button('viewer-rotate', '⟳', 'Rotate 90° clockwise', () => {
      const view = room.records.localView;
      if (view) this.#setView({ rotation: (view.rotation + 90) % 360 });
    });
    dom.windowCenter = el('input', {
      type: 'range',
      'data-testid': 'viewer-window-center',
      'aria-label': 'Window level (centre)',
    });
    dom.windowWidth = el('input', {
      type: 'range',
      'data-testid': 'viewer-window-width',
      'aria-label': 'Window width',
    });
    const sendWindow = throttle((patch) => this.#setView(patch), DRAG_SEND_MS);
    const onWindowInput = () => {
      // While the user moves a slider, echoes of earlier steps must not move it back.
      this.#windowEditUntil = Date.now() + 2 * DRAG_SEND_MS + 300;
      sendWindow({ windowCenter: Number(dom.windowCenter.value), windowWidth: Number(dom.windowWidth.value) });
    };
    dom.windowCenter.addEventListener('input', onWindowInput);
    dom.windowWidth.addEventListener('input', onWindowInput);
    dom.windowReset = button('viewer-window-reset', '↺', 'Back to the image’s own window and level', () =>
      this.#setView(this.#defaultWindow()),
    );
    dom.windowGroup = el(
      'div',
      { class: 'viewer-group viewer-window', hidden: true, title: 'Window / level (DICOM)' },
      [
        el('label', { class: 'viewer-slider', title: 'Level (window centre)' }, [
          el('span', { text: 'L' }),
          dom.windowCenter,
        ]),
        el('label', { class: 'viewer-slider', title: 'Window width' }, [el('span', { text: 'W' }), dom.windowWidth]),
        dom.windowReset,
      ],
    );

    dom.tools = new Map();
    const toolButtons = TOOLS.filter((t) => canAnnotate || !t.annotate).map((t) => {
      const b = button(`viewer-tool-${t.name}`, t.label, t.title, () => this.#setTool(t.name));
      b.setAttribute('aria-pressed', String(t.name === this.#tool));
      dom.tools.set(t.name, b);
      return b;
    });
    dom.swatches = el(
      'div',
      { class: 'viewer-swatches', role: 'group', 'aria-label': 'Colour', hidden: !canAnnotate },
      MARK_COLORS.map((c) => {
        const swatch = el('button', {
          type: 'button',
          class: 'swatch',
          title: `Colour ${c}`,
          'aria-label': `Colour ${c}`,
          'data-color': c,
        });
        swatch.style.background = c;
        swatch.addEventListener('click', () => {
          this.#color = c;
          for (const s of dom.swatches.children) s.setAttribute('aria-pressed', String(s.dataset.color === c));
        });
        return swatch;
      }),
    );
    dom.undo = button('viewer-undo', 'Undo', 'Remove your last mark', async () => {
      try {
        await room.records.undo();
      } catch (err) {
        this.#hooks.report(err, 'Could not undo');
      }
    });
    dom.undo.hidden = !canAnnotate;

    dom.canvas = el('canvas', { class: 'viewer-content', 'data-testid': 'viewer-canvas' });
    dom.overlay = el('canvas', { class: 'viewer-overlay', 'data-testid': 'viewer-overlay' });
    dom.box = el('div', { class: 'viewer-box', 'data-testid': 'viewer-box' }, [dom.canvas, dom.overlay]);
    dom.message = el('div', { class: 'viewer-message', 'data-testid': 'viewer-message', role: 'status' });
    dom.viewport = el(
      'div',
      { class: 'viewer-viewport', 'data-testid': 'viewer-viewport', tabIndex: 0, 'data-tool': this.#tool },
      [dom.box, dom.message],
    );
    dom.notice = el('p', { class: 'viewer-notice', 'data-testid': 'viewer-notice', hidden: true });
    dom.toast = el('div', { class: 'viewer-toast', 'data-testid': 'viewer-toast', role: 'status', hidden: true });

    this.#root.replaceChildren(
      el('header', { class: 'viewer-bar' }, [
        el('div', { class: 'viewer-heading' }, [dom.title, dom.describe]),
        el('div', { class: 'viewer-group viewer-who' }, [
          dom.presenter,
          dom.follow,
          dom.request,
          dom.takeOver,
          dom.stop,
        ]),
      ]),
      el('div', { class: 'viewer-bar viewer-tools', role: 'toolbar', 'aria-label': 'Record tools' }, [
        el('div', { class: 'viewer-group' }, [dom.prev, dom.page, dom.next]),
        el('div', { class: 'viewer-group' }, [dom.zoomOut, dom.zoom, dom.zoomIn, dom.fit, dom.rotate]),
        dom.windowGroup,
        el('div', { class: 'viewer-group' }, [...toolButtons, dom.swatches, dom.undo]),
      ]),
      dom.notice,
      dom.viewport,
      dom.toast,
    );
    this.#listenToInput(dom);
    return dom;
  }

  #listenToInput(dom) {
    const viewport = dom.viewport;
    viewport.addEventListener('pointerdown', (event) => this.#pointerDown(event));
    viewport.addEventListener('pointermove', (event) => this.#pointerMove(event));
    viewport.addEventListener('pointerup', (event) => this.#pointerUp(event));
    viewport.addEventListener('pointercancel', () => {
      this.#gesture = null;
      this.#drawOverlay();
    });
    viewport.addEventListener('keydown', (event) => {
      const keys = {
        ArrowRight: () => this.#step(1),
        PageDown: () => this.#step(1),
        ArrowLeft: () => this.#step(-1),
        PageUp: () => this.#step(-1),
        '+': () => this.#zoomBy(1),
        '=': () => this.#zoomBy(1),
        '-': () => this.#zoomBy(-1),
      };
      const action = keys[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    });
    viewport.addEventListener(
      'wheel',
      (event) => {
        if (!event.ctrlKey) return;
        event.preventDefault();
        this.#zoomBy(event.deltaY < 0 ? 1 : -1);
      },
      { passive: false },
    );
  }

  // --- opening and closing ----------------------------------------------------------

  async #open(record) {
    if (this.#record?.id === record.id && (this.#content || this.#error)) {
      this.#update();
      return;
    }
    this.#close();
    this.#record = record;
    this.#root.hidden = false;
    this.#dom.title.textContent = record.name;
    this.#dom.title.title = record.name;
    this.#dom.describe.textContent = '';
    this.#message('Opening the record…');
    this.#update();
    const generation = ++this.#generation;
    try {
      const content = await loadContent(this.#room, record);
      if (generation !== this.#generation || this.#record?.id !== record.id) {
        content.close();
        return;
      }
      this.#content = content;
      this.#dom.describe.textContent = content.describe;
      this.#message(null);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#error = err instanceof Error ? err.message : String(err);
      this.#message(`This record cannot be shown here: ${this.#error}`);
      this.#hooks.log('recordError', { detail: this.#error });
    }
    this.#update();
  }

  #close() {
    this.#generation++;
    this.#content?.close();
    this.#content = null;
    this.#record = null;
    this.#error = null;
    this.#rendered = null;
    this.#skipped = [];
    this.#gesture = null;
    this.#pointers.clear();
    this.#root.hidden = true;
    this.#hooks.onChange(null);
  }

  #message(text) {
    this.#dom.message.textContent = text ?? '';
    this.#dom.message.hidden = !text;
  }

  // --- the view ----------------------------------------------------------------------

  /** The view in effect here: the presenter's while following, this viewer's own otherwise. */
  #view() {
    return this.#room.records.localView;
  }

  #pageCount() {
    return this.#content?.pageCount ?? 1;
  }

  async #setView(patch) {
    const clean = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null));
    try {
      await this.#room.records.setLocalView(clean);
    } catch (err) {
      this.#hooks.report(err, 'Could not change the view');
    }
  }

  #step(delta) {
    const view = this.#view();
    if (!view) return;
    const page = Math.min(this.#pageCount(), Math.max(1, view.page + delta));
    if (page !== view.page) void this.#setView({ page });
  }

  #zoomBy(direction) {
    const view = this.#view();
    if (!view) return;
    const next =
      direction > 0
        ? ZOOM_STEPS.find((z) => z > view.zoom + 1e-6)
        : [...ZOOM_STEPS].reverse().find((z) => z < view.zoom - 1e-6);
    if (next) void this.#setView({ zoom: next });
  }

  #defaultWindow() {
    const w = this.#content?.window;
    return w ? { windowCenter: round(w.center), windowWidth: round(Math.max(1, w.width)) } : {};
  }

  #setTool(name) {
    this.#tool = name;
    this.#dom.viewport.dataset.tool = name;
    for (const [tool, b] of this.#dom.tools) b.setAttribute('aria-pressed', String(tool === name));
  }

  async #grant(identity) {
    try {
      await this.#room.records.grantPresenter(identity);
    } catch (err) {
      this.#hooks.report(err, 'Could not hand over presenting');
    }
  }

  async #askHandOver(from) {
    this.#hooks.log('presenterRequested', { identity: from.identity });
    const answer = await ask({
      title: `${from.name} asks to present`,
      text: 'They will move the pages and zoom for everyone. You can ask for it back.',
      confirm: 'Hand over',
      cancel: 'Not now',
      testid: 'handover-dialog',
    });
    if (answer) await this.#grant(from.identity);
  }

  #showToast(text) {
    const toast = this.#dom.toast;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(this.#toast);
    this.#toast = window.setTimeout(() => {
      toast.hidden = true;
    }, 4000);
  }

  /** Re-lays out the page, redraws what changed, refreshes the toolbar and the test hook. */
  #update() {
    const share = this.#room.records.current;
    const view = this.#view();
    if (!share || !view || !this.#record) {
      this.#publish();
      return;
    }
    this.#renderToolbar(share, view);
    if (!this.#content) {
      this.#publish();
      return;
    }
    const page = Math.min(this.#pageCount(), Math.max(1, view.page));
    const natural = this.#content.size(page);
    const rotated = view.rotation % 180 === 0 ? natural : { width: natural.height, height: natural.width };
    const viewport = this.#dom.viewport;
    const vw = Math.max(1, viewport.clientWidth - 16);
    const vh = Math.max(1, viewport.clientHeight - 16);
    const fitScale = Math.min(vw / rotated.width, vh / rotated.height);
    const scale = fitScale * view.zoom;
    const width = natural.width * scale;
    const height = natural.height * scale;
    const box = this.#dom.box;
    Object.assign(box.style, {
      width: `${width}px`,
      height: `${height}px`,
      left: `${viewport.clientWidth / 2 - width / 2 + view.panX * rotated.width * scale}px`,
      top: `${viewport.clientHeight / 2 - height / 2 + view.panY * rotated.height * scale}px`,
      transform: `rotate(${view.rotation}deg)`,
    });
    box.dataset.page = String(page);
    box.dataset.zoom = String(view.zoom);
    box.dataset.rotation = String(view.rotation);
    this.#box = { width, height, scale };
    const dpr = window.devicePixelRatio || 1;
    const key = `${this.#record.id}|${page}|${Math.round(scale * dpr * 1000)}|${view.windowCenter}|${view.windowWidth}`;
    if (this.#rendered?.key !== key && this.#drawing?.key !== key) void this.#draw(key, page, scale * dpr, view);
    else if (this.#rendered) this.#rendered.rotation = view.rotation;
    this.#drawOverlay();
    this.#publish();
  }

  async #draw(key, page, pxScale, view) {
    const generation = ++this.#generation;
    const content = this.#content;
    const drawing = { key };
    this.#drawing = drawing;
    try {
      const result = await content.draw(
        this.#dom.canvas,
        page,
        pxScale,
        view,
        () => generation !== this.#generation || this.#content !== content,
      );
      if (!result || generation !== this.#generation) return;
      this.#skipped = result.skipped;
      this.#rendered = { recordId: this.#record.id, page, zoom: view.zoom, rotation: view.rotation, key };
      const canvas = this.#dom.canvas;
      canvas.dataset.page = String(page);
      canvas.dataset.zoom = String(view.zoom);
      const notice = this.#dom.notice;
      notice.hidden = result.skipped.length === 0;
      notice.textContent = result.skipped.length
        ? `Not shown on this page: ${result.skipped.join(', ')}. Download the file to see everything.`
        : '';
      this.#hooks.log('recordRendered', { detail: `${this.#record.id}:${page}:${view.zoom}` });
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#message(`This page cannot be drawn: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      if (this.#drawing === drawing) this.#drawing = null;
      this.#publish();
    }
    // The view may have moved on while this page was drawing.
    if (generation === this.#generation) this.#update();
  }

  #renderToolbar(share, view) {
    const dom = this.#dom;
    const room = this.#room;
    const me = room.localParticipant.identity;
    const presenting = share.presenter === me;
    const presenter = room.getParticipant(share.presenter);
    const following = room.records.follow;
    dom.presenter.textContent = presenting
      ? 'You are presenting'
      : `Presented by ${presenter?.name ?? share.presenter}`;
    dom.presenter.dataset.presenting = String(presenting);
    dom.follow.hidden = presenting || following;
    dom.request.hidden = presenting;
    dom.takeOver.hidden = presenting || !room.can('end');
    dom.stop.hidden = !(presenting || room.can('end'));
    const count = this.#pageCount();
    dom.page.textContent = `Page ${view.page} / ${count}`;
    dom.page.dataset.page = String(view.page);
    dom.page.dataset.count = String(count);
    dom.prev.disabled = view.page <= 1;
    dom.next.disabled = view.page >= count;
    dom.zoom.textContent = `${Math.round(view.zoom * 100)}%`;
    dom.zoom.dataset.zoom = String(view.zoom);
    dom.zoomOut.disabled = view.zoom <= ZOOM_STEPS[0] + 1e-6;
    dom.zoomIn.disabled = view.zoom >= ZOOM_STEPS[ZOOM_STEPS.length - 1] - 1e-6;
    const win = this.#content?.window;
    dom.windowGroup.hidden = !win;
    if (win && Date.now() > this.#windowEditUntil) {
      const span = Math.max(1, win.max - win.min);
      Object.assign(dom.windowCenter, {
        min: String(round(win.min - span / 2)),
        max: String(round(win.max + span / 2)),
        step: 'any',
      });
      Object.assign(dom.windowWidth, { min: '1', max: String(round(span * 2)), step: 'any' });
      dom.windowCenter.value = String(view.windowCenter ?? win.center);
      dom.windowWidth.value = String(view.windowWidth ?? win.width);
    }
    if (win) {
      const c = Math.round(view.windowCenter ?? win.center);
      const w = Math.round(view.windowWidth ?? win.width);
      dom.windowGroup.title = `Window ${w}, level ${c}`;
    }
    this.#root.dataset.presenting = String(presenting);
    this.#root.dataset.following = String(following);
  }

  // --- pointer and marks ----------------------------------------------------------------

  /** Client coordinates → record coordinates (0..1 of the unrotated page). */
  #toRecord(event) {
    const rect = this.#dom.box.getBoundingClientRect();
    const view = this.#view();
    if (!view || !this.#box.width) return null;
    const dx = event.clientX - (rect.left + rect.width / 2);
    const dy = event.clientY - (rect.top + rect.height / 2);
    const r = (-view.rotation * Math.PI) / 180;
    const ux = dx * Math.cos(r) - dy * Math.sin(r);
    const uy = dx * Math.sin(r) + dy * Math.cos(r);
    return { x: ux / this.#box.width + 0.5, y: uy / this.#box.height + 0.5 };
  }

  #pointerDown(event) {
    if (!this.#content || event.button !== 0) return;
    const p = this.#toRecord(event);
    const view = this.#view();
    if (!p || !view) return;
    const inside = p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1;
    const color = this.#color ?? colorFor(this.#room.localParticipant.identity);
    switch (this.#tool) {
      case 'pan':
        this.#gesture = {
          kind: 'pan',
          startX: event.clientX,
          startY: event.clientY,
          panX: view.panX,
          panY: view.panY,
          send: throttle((patch) => this.#setView(patch), DRAG_SEND_MS),
        };
        break;
      case 'pen':
        if (inside) this.#gesture = { kind: 'stroke', page: view.page, points: [clamp(p)], color };
        break;
      case 'arrow':
        if (inside) this.#gesture = { kind: 'arrow', page: view.page, points: [clamp(p), clamp(p)], color };
        break;
      case 'text':
        if (inside) void this.#addNote(view.page, clamp(p), color);
        return;
      default:
        return;
    }
    if (this.#gesture) {
      this.#dom.viewport.setPointerCapture(event.pointerId);
      event.preventDefault();
    }
  }

  #pointerMove(event) {
    const g = this.#gesture;
    const view = this.#view();
    if (!view) return;
    if (!g) {
      if (this.#tool !== 'point' || !this.#room.can('annotate') || !this.#content) return;
      const p = this.#toRecord(event);
      // The SDK sends at most one pointer update per 50 ms, always ending with the latest.
      if (p && p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1) this.#room.records.pointer(view.page, p.x, p.y);
      return;
    }
    if (g.kind === 'pan') {
      const rotated = view.rotation % 180 === 0 ? this.#box : { width: this.#box.height, height: this.#box.width };
      const panX = clampPan(g.panX + (event.clientX - g.startX) / rotated.width);
      const panY = clampPan(g.panY + (event.clientY - g.startY) / rotated.height);
      g.latest = { panX, panY };
      g.send(g.latest);
      return;
    }
    const p = this.#toRecord(event);
    if (!p) return;
    if (g.kind === 'stroke') g.points.push(clamp(p));
    else g.points[1] = clamp(p);
    this.#drawOverlay();
  }

  async #pointerUp(event) {
    const g = this.#gesture;
    this.#gesture = null;
    if (!g) return;
    this.#dom.viewport.releasePointerCapture?.(event.pointerId);
    if (g.kind === 'pan') {
      if (g.latest) await this.#setView(g.latest);
      return;
    }
    const [a, b] = g.points;
    if (g.kind === 'arrow' && Math.hypot(b.x - a.x, b.y - a.y) < 0.01) {
      this.#drawOverlay();
      return;
    }
    // Keep the draft on screen until the server's copy arrives.
    this.#gesture = { ...g, pending: true };
    try {
      await this.#room.records.annotate({
        kind: g.kind,
        page: g.page,
        points: g.kind === 'stroke' ? simplify(g.points) : g.points,
        color: g.color,
      });
    } catch (err) {
      this.#hooks.report(err, 'Could not add the mark');
    } finally {
      if (this.#gesture?.pending) this.#gesture = null;
      this.#drawOverlay();
    }
  }

  async #addNote(page, point, color) {
    const answer = await ask({
      title: 'Add a note to the record',
      fields: [
        {
          name: 'text',
          label: 'Note (everyone who sees the record sees it)',
          type: 'textarea',
          maxLength: 1000,
          required: true,
        },
      ],
      confirm: 'Add note',
      testid: 'note-dialog',
    });
    if (!answer) return;
    try {
      await this.#room.records.annotate({ kind: 'text', page, points: [point], text: String(answer.text), color });
    } catch (err) {
      this.#hooks.report(err, 'Could not add the note');
    }
  }

  #drawOverlay() {
    const view = this.#view();
    const share = this.#room.records.current;
    const overlay = this.#dom.overlay;
    if (!view || !share || !this.#content) return;
    const dpr = window.devicePixelRatio || 1;
    const { width, height } = this.#box;
    // The overlay needs crisp lines, not the page's full resolution.
    const density = Math.min(dpr, 4096 / Math.max(width, height, 1));
    const w = Math.max(1, Math.round(width * density));
    const h = Math.max(1, Math.round(height * density));
    if (overlay.width !== w || overlay.height !== h) {
      overlay.width = w;
      overlay.height = h;
    }
    const page = view.page;
    const now = Date.now();
    const pointers = [];
    for (const [identity, p] of this.#pointers) {
      if (now - p.at > POINTER_TTL_MS) {
        this.#pointers.delete(identity);
        continue;
      }
      if (p.page !== page) continue;
      const who = this.#room.getParticipant(identity);
      pointers.push({ identity, name: who?.name ?? identity, x: p.x, y: p.y, color: colorFor(identity) });
    }
    const marks = share.marks.filter((m) => m.page === page);
    const g = this.#gesture;
    const draft = g && (g.kind === 'stroke' || g.kind === 'arrow') && g.page === page ? g : null;
    drawOverlay(overlay, { width, height, dpr: density, marks, draft, pointers, rotation: view.rotation });
    overlay.dataset.marks = String(marks.length);
  }

  /** The test hook's view of the viewer (also what the status of the page is). */
  #publish() {
    const share = this.#room.records.current;
    const view = this.#view();
    if (!this.#record || !share || !view) {
      this.#hooks.onChange(null);
      return;
    }
    const me = this.#room.localParticipant.identity;
    this.#hooks.onChange({
      recordId: this.#record.id,
      name: this.#record.name,
      type: this.#record.type,
      presenter: share.presenter,
      presenting: share.presenter === me,
      following: this.#room.records.follow,
      view: { ...view },
      pageCount: this.#pageCount(),
      rendered: this.#rendered
        ? {
            recordId: this.#rendered.recordId,
            page: this.#rendered.page,
            zoom: this.#rendered.zoom,
            rotation: this.#rendered.rotation,
          }
        : null,
      marksOnPage: share.marks.filter((m) => m.page === view.page).length,
      marks: share.marks.length,
      skipped: this.#skipped,
      error: this.#error,
    });
  }
}

function clamp(p) {
  return { x: Math.min(1, Math.max(0, p.x)), y: Math.min(1, Math.max(0, p.y)) };
}

function clampPan(v) {
  return Math.min(10, Math.max(-10, v));
}

function round(v) {
  return Math.round(v * 100) / 100;
}

/** Calls `fn` at most every `ms`, always with the latest arguments in the end. */
function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  let pending = null;
  return (...args) => {
    pending = args;
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn(...pending);
      pending = null;
      return;
    }
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      last = Date.now();
      if (pending) fn(...pending);
      pending = null;
    }, wait);
  };
}
