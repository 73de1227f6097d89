/**
 * Orders server notifications around joins and reconnects: one at a time, in
 * arrival order; none before the caller of connect() has had a turn to add
 * listeners; none while reconnecting (they wait until the resumed state is in
 * place); and none of an earlier server session once a fresh one began.
 */
export class NotificationGate {
  /** Notifications are handled one at a time, in arrival order. */
  #queue: Promise<void> = Promise.resolve();
  readonly #ready: Promise<void>;
  #markReady!: () => void;
  /** Closed while reconnecting. */
  #gate: Promise<void> = Promise.resolve();
  #openGate: (() => void) | undefined;
  /** Counts server sessions; work queued for an earlier one is skipped. */
  #epoch = 0;

  constructor() {
    this.#ready = new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
  }

  /** The current server session's number; compare with `isCurrent` after an await. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Lets queued notifications run (once joined, or once the session is over and they are to be skipped). */
  markReady(): void {
    this.#markReady();
  }

  /** Holds notifications back until `open()`. */
  close(): void {
    if (this.#openGate) return;
    this.#gate = new Promise<void>((resolve) => {
      this.#openGate = resolve;
    });
  }

  open(): void {
    const open = this.#openGate;
    this.#openGate = undefined;
    open?.();
  }

  /** Resolves at once, or when a reconnect in progress has put its state in place. */
  whenOpen(): Promise<void> {
    return this.#gate;
  }

  /** A fresh server session began: what is queued from the old one no longer applies. */
  newEpoch(): void {
    this.#epoch++;
  }

  /**
   * Queues `handle`; it runs after what came before, once ready and the gate
   * is open, unless `skip()` then says the session is over or `epoch` moved on.
   */
  enqueue(handle: () => Promise<void> | void, skip: () => boolean, onError: (error: unknown) => void): void {
    const epoch = this.#epoch;
    this.#queue = this.#queue
      .then(() => this.#ready)
      // Read at each step: a reconnect that started meanwhile holds the rest back.
      .then(() => this.#gate)
      .then(async () => {
        if (!skip() && epoch === this.#epoch) await handle();
      })
      .catch(onError);
  }
}
