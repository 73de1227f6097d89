/**
 * Room chat: the server orders messages, stamps them, keeps a bounded
 * history, and limits how fast one person can post.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, type ChatMessage, type PersonRef, type Role } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';
import { RateLimiter } from '../util/RateLimiter.js';
import { isClinician } from './policy.js';

const HISTORY_LIMIT = 500;

export class Chat {
  readonly #history: ChatMessage[] = [];
  readonly #limiters = new Map<string, RateLimiter>();
  #seq = 0;

  /** A room rebuilt on a new home serves the history it wrote there; numbering goes on above it. */
  restore(history: readonly ChatMessage[]): void {
    this.#history.splice(0, this.#history.length, ...history.slice(-HISTORY_LIMIT));
    for (const m of history) this.#seq = Math.max(this.#seq, m.seq);
  }

  post(from: PersonRef, text: string, to: 'everyone' | 'clinicians'): ChatMessage {
    const trimmed = text.trim();
    if (!trimmed) throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'A chat message cannot be empty.');
    let limiter = this.#limiters.get(from.identity);
    if (!limiter) {
      limiter = new RateLimiter(2, 8);
      this.#limiters.set(from.identity, limiter);
    }
    if (!limiter.take()) throw new HuizhenError(ErrorCode.RATE_LIMITED, 'You are sending messages too quickly.');
    const message: ChatMessage = { id: randomUUID(), seq: ++this.#seq, from, text: trimmed, to, sentAt: Date.now() };
    this.#history.push(message);
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    return message;
  }

  static visibleTo(message: ChatMessage, role: Role): boolean {
    return message.to === 'everyone' || isClinician(role);
  }

  historyFor(role: Role): ChatMessage[] {
    return this.#history.filter((m) => Chat.visibleTo(m, role));
  }
}
