/**
 * Watches the elements a remote video track is attached to and reports the
 * size it is actually shown at, so the server can forward the smallest
 * simulcast layer that still looks sharp (a thumbnail does not need 720p,
 * which matters on a patient's weak mobile link).
 */

export interface ObservedSize {
  width: number;
  height: number;
}

/** The subset of `ResizeObserver` used here. */
export interface ResizeObserverLike {
  observe(target: Element): void;
  unobserve(target: Element): void;
  disconnect(): void;
}

export interface ResizeEntryLike {
  readonly target: Element;
  readonly contentRect: { readonly width: number; readonly height: number };
}

export type ResizeObserverFactory = (callback: (entries: readonly ResizeEntryLike[]) => void) => ResizeObserverLike;

export interface VideoSizeReporterOptions {
  /** Quiet period before a change is reported; 200 ms by default (resizes come in bursts). */
  debounceMs?: number;
  /** Defaults to the global `ResizeObserver`; tests pass a fake. */
  createObserver?: ResizeObserverFactory;
}

/** Matches the protocol's bound on setConsumerVideoSize. */
const MAX_DIMENSION = 16384;

function defaultObserverFactory(): ResizeObserverFactory | undefined {
  const Ctor = (
    globalThis as { ResizeObserver?: new (cb: (entries: readonly ResizeEntryLike[]) => void) => ResizeObserverLike }
  ).ResizeObserver;
  return Ctor ? (callback) => new Ctor(callback) : undefined;
}

function clamp(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 0;
  return Math.min(MAX_DIMENSION, Math.round(value));
}

/**
 * Reports (debounced, only on change) the size of the largest observed element
 * in CSS pixels; 0x0 once no element is observed or all are hidden.
 */
export class VideoSizeReporter {
  readonly #report: (size: ObservedSize) => void;
  readonly #debounceMs: number;
  readonly #createObserver: ResizeObserverFactory | undefined;
  readonly #sizes = new Map<Element, ObservedSize>();
  #observer: ResizeObserverLike | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastReported: ObservedSize | undefined;
  #disposed = false;

  constructor(report: (size: ObservedSize) => void, options: VideoSizeReporterOptions = {}) {
    this.#report = report;
    this.#debounceMs = options.debounceMs ?? 200;
    this.#createObserver = options.createObserver ?? defaultObserverFactory();
  }

  observe(element: Element): void {
    if (this.#disposed || this.#sizes.has(element)) return;
    this.#sizes.set(element, { width: 0, height: 0 });
    if (this.#createObserver) {
      this.#observer ??= this.#createObserver((entries) => this.#onResize(entries));
      // The observer delivers the element's current size right after observe().
      this.#observer.observe(element);
    } else {
      // No ResizeObserver: report the size at attach time, once.
      const html = element as Partial<HTMLElement>;
      this.#sizes.set(element, { width: clamp(html.clientWidth ?? 0), height: clamp(html.clientHeight ?? 0) });
      this.#schedule();
    }
  }

  unobserve(element: Element): void {
    if (!this.#sizes.delete(element)) return;
    this.#observer?.unobserve(element);
    this.#schedule();
  }

  /** The size that would be reported now. */
  get currentSize(): ObservedSize {
    let best: ObservedSize = { width: 0, height: 0 };
    for (const size of this.#sizes.values()) {
      if (size.width * size.height > best.width * best.height) best = size;
    }
    return best;
  }

  /** Stops observing without reporting anything more. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#observer?.disconnect();
    this.#observer = undefined;
    this.#sizes.clear();
  }

  #onResize(entries: readonly ResizeEntryLike[]): void {
    for (const entry of entries) {
      if (!this.#sizes.has(entry.target)) continue;
      this.#sizes.set(entry.target, { width: clamp(entry.contentRect.width), height: clamp(entry.contentRect.height) });
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#disposed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#flush(), this.#debounceMs);
  }

  #flush(): void {
    if (this.#disposed) return;
    const size = this.currentSize;
    const last = this.#lastReported;
    if (last && last.width === size.width && last.height === size.height) return;
    this.#lastReported = size;
    this.#report(size);
  }
}
