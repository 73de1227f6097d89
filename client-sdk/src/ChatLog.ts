/**
 * The room's chat as this client knows it: messages in server order (`seq`),
 * each once, whether it came in the join history, a notification, a replay
 * after a reconnect, or the answer to this client's own `sendChat`.
 */
import type { ChatMessage } from '@huizhen/protocol';

export class ChatLog {
  readonly #messages: ChatMessage[] = [];
  readonly #ids = new Set<string>();

  /** Every message, ordered by `seq`. */
  get messages(): readonly ChatMessage[] {
    return this.#messages;
  }

  /** Adds a message unless it is already known; returns whether it was new. */
  add(message: ChatMessage): boolean {
    if (this.#ids.has(message.id)) return false;
    this.#ids.add(message.id);
    // Usually the newest; a replay or a race with our own answer may bring an older one.
    let i = this.#messages.length;
    while (i > 0 && this.#messages[i - 1]!.seq > message.seq) i--;
    this.#messages.splice(i, 0, message);
    return true;
  }

  /** Adds several; returns the new ones in `seq` order. */
  addAll(messages: readonly ChatMessage[]): ChatMessage[] {
    const added = messages.filter((m) => this.add(m));
    return added.sort((a, b) => a.seq - b.seq);
  }

  clear(): void {
    this.#messages.length = 0;
    this.#ids.clear();
  }
}
