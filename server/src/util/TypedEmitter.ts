/** An EventEmitter whose event names and argument lists are checked by TypeScript. */
import { EventEmitter } from 'node:events';

/** Event name → listener arguments. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

export class TypedEmitter<E extends EventMap<E>> {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Rooms can have many listeners of one event (one per participant).
    this.#emitter.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.#emitter.emit(event, ...args);
  }

  removeAllListeners(): this {
    this.#emitter.removeAllListeners();
    return this;
  }
}
