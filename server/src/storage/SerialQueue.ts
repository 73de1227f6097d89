/**
 * Runs async tasks one after another per key, so a later write to the same
 * file can never land before an earlier one, and `idle()` tells when every
 * task issued so far has settled (a closing room waits for its last write).
 */
export class SerialQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Queues `task` behind the tasks already queued for `key`; its own result or error is returned. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // Forget the key once nothing newer was queued behind this task.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves when the tasks queued so far for `key` (or for every key) have settled. */
  async idle(key?: string): Promise<void> {
    if (key !== undefined) await this.#tails.get(key);
    else await Promise.all(this.#tails.values());
  }
}
