/**
 * The connection behind `<HuizhenRoom>`, kept apart from React: which Room is
 * current, joining it, and leaving it. Leaving waits one macrotask, so that
 * React StrictMode's development double effect (mount, cleanup, mount again
 * within the same task) finds its room still there and reuses it: one join,
 * never a second session that would end the first with `duplicateIdentity`.
 */
import {
  ConnectionError,
  ConnectionErrorReason,
  Room,
  type ConnectOptions,
  type DisconnectReason,
  type HuizhenError,
} from '@huizhen/client-sdk';

/** @internal What a connector tells its owner; read at the moment each thing happens. */
export interface RoomConnectorCallbacks {
  /** The room joined (`connect()` resolved). */
  onConnected?: (room: Room) => void;
  /** Joining failed (not called when it was cancelled by leaving). */
  onError?: (error: Error) => void;
  /** The room's session ended, for whatever reason (`clientInitiated` when this side left). */
  onDisconnected?: (reason: DisconnectReason, error: HuizhenError | undefined) => void;
}

/** @internal Where to connect: the server's http(s) origin, a join token, and the SDK's options. */
export interface RoomTarget {
  serverUrl: string;
  token: string;
  options?: ConnectOptions;
}

/** @internal The StrictMode-safe owner of one `<HuizhenRoom>`'s Room. */
export class RoomConnector {
  #callbacks: RoomConnectorCallbacks = {};
  readonly #listeners = new Set<() => void>();
  #room: Room | undefined;
  #key: string | undefined;
  #releaseTimer: ReturnType<typeof setTimeout> | undefined;

  /** What to tell from now on (the owner's newest callbacks). */
  setCallbacks(callbacks: RoomConnectorCallbacks): void {
    this.#callbacks = callbacks;
  }

  /** The current room, from `acquire` until it is released. */
  get room(): Room | undefined {
    return this.#room;
  }

  /** For `useSyncExternalStore`: calls `listener` whenever `room` changes. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** For `useSyncExternalStore`. */
  readonly getRoom = (): Room | undefined => this.#room;

  /**
   * Makes a room for `target` current and joins it. The same target again
   * (StrictMode's second effect, a release not yet carried out) keeps the room
   * it has; another target leaves the old room first.
   */
  acquire(target: RoomTarget): void {
    const key = JSON.stringify([target.serverUrl, target.token]);
    if (this.#releaseTimer !== undefined) {
      clearTimeout(this.#releaseTimer);
      this.#releaseTimer = undefined;
    }
    if (this.#room && this.#key === key) return;
    this.#end();
    const room = new Room(target.options);
    this.#room = room;
    this.#key = key;
    // A room replaced by another (a new token) ends quietly: its late `disconnected` must not
    // make the app end the session that replaced it. Unmounting still reports it.
    const current = (): boolean => this.#room === room || this.#room === undefined;
    room.on('disconnected', (reason, error) => {
      if (current()) this.#callbacks.onDisconnected?.(reason, error);
    });
    room.connect(target.serverUrl, target.token).then(
      () => {
        if (this.#room === room) this.#callbacks.onConnected?.(room);
      },
      (error: unknown) => {
        if (error instanceof ConnectionError && error.reason === ConnectionErrorReason.Cancelled) return;
        if (this.#room !== room) return;
        this.#callbacks.onError?.(error instanceof Error ? error : new Error(String(error)));
      },
    );
    this.#notify();
  }

  /** Leaves the current room one macrotask from now, unless `acquire` comes first. */
  release(): void {
    if (!this.#room || this.#releaseTimer !== undefined) return;
    this.#releaseTimer = setTimeout(() => {
      this.#releaseTimer = undefined;
      this.#end();
    }, 0);
  }

  #end(): void {
    const room = this.#room;
    if (!room) return;
    this.#room = undefined;
    this.#key = undefined;
    void room.disconnect();
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
