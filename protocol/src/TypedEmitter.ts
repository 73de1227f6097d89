/**
 * A small, browser-safe event emitter whose event names and listener
 * signatures are checked by the compiler.
 *
 * `Events` maps each event name to its listener signature, e.g.
 * `{ trackSubscribed: (track: RemoteTrack, participant: RemoteParticipant) => void }`.
 */

/** The constraint every event map satisfies: each entry is a listener function. */
// `any[]`, not `unknown[]`: listener parameters are contravariant, and only `any` admits every signature.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventListeners<Events> = { [E in keyof Events]: (...args: any[]) => void };

/** Called when a listener throws; the emitter keeps calling the other listeners. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

/** Options of `TypedEmitter`. */
export interface TypedEmitterOptions {
  /**
   * What to do with an exception thrown by a listener. By default it is
   * reported like an uncaught error (`reportError` in browsers), so an
   * application bug in one handler neither disappears silently nor breaks the
   * SDK's own bookkeeping that runs after the emit.
   */
  onListenerError?: ListenerErrorHandler;
}

interface Registration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see EventListeners
  listener: (...args: any[]) => void;
  once: boolean;
}

function reportUncaught(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') {
    report(error);
  } else {
    setTimeout(() => {
      throw error;
    });
  }
}

/** An event emitter whose event names and listener signatures are checked by the compiler; `Events` maps each name to its listener. */
export class TypedEmitter<Events extends EventListeners<Events>> {
  readonly #listeners = new Map<keyof Events, Registration[]>();
  readonly #onListenerError: ListenerErrorHandler;

  constructor(options: TypedEmitterOptions = {}) {
    this.#onListenerError = options.onListenerError ?? ((error) => reportUncaught(error));
  }

  /** Calls `listener` every time `event` is emitted. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.#add(event, listener, false);
  }

  /** Calls `listener` the next time `event` is emitted, then forgets it. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.#add(event, listener, true);
  }

  /** Removes one registration of `listener` for `event`. */
  off<E extends keyof Events>(event: E, listener: Events[E]): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((r) => r.listener === listener);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Removes every listener of `event`, or of all events when none is given. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /**
   * Calls the listeners of `event` in registration order with `args`.
   * Returns whether there was at least one listener.
   */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    // Iterate over a snapshot so listeners may add or remove listeners safely.
    for (const registration of [...list]) {
      if (registration.once) this.off(event, registration.listener as Events[E]);
      try {
        registration.listener(...args);
      } catch (error) {
        this.#onListenerError(error, String(event));
      }
    }
    return true;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see EventListeners
  #add(event: keyof Events, listener: (...args: any[]) => void, once: boolean): this {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    let list = this.#listeners.get(event);
    if (!list) {
      list = [];
      this.#listeners.set(event, list);
    }
    list.push({ listener, once });
    return this;
  }
}
