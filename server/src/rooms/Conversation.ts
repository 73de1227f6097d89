/**
 * What people write in a room: chat (ordered, stamped and rate-limited by
 * Chat) and the clinicians' versioned opinions on the consult (会诊意见).
 */
import type { ChatMessage, Opinion, Role } from '@huizhen/protocol';
import { actorOf } from '../audit/AuditLog.js';
import { permissionDenied } from '../errors.js';
import { Chat } from './Chat.js';
import type { Participant } from './Participant.js';
import { isClinician } from './policy.js';
import type { RoomContext } from './RoomContext.js';

export class Conversation {
  readonly #room: RoomContext;
  readonly #chat = new Chat();

  constructor(room: RoomContext) {
    this.#room = room;
  }

  chatHistoryFor(role: Role): ChatMessage[] {
    return this.#chat.historyFor(role);
  }

  restoreChat(history: readonly ChatMessage[]): void {
    this.#chat.restore(history);
  }

  /** Answered (and shown to others) only once the message is durable (RoomStateWriter). */
  async sendChat(p: Participant, text: string, to: 'everyone' | 'clinicians'): Promise<ChatMessage> {
    if (to === 'clinicians' && !isClinician(p.role)) throw permissionDenied('send clinicians-only messages');
    const message = this.#chat.post(p.ref(), text, to);
    await this.#room.durable.appendChat(message);
    for (const other of this.#room.others(p))
      if (Chat.visibleTo(message, other.role)) other.notify('chat', { message });
    return message;
  }

  /** Answered (and shown to others) only once the version is durable (RoomStateWriter). */
  async setOpinion(p: Participant, text: string): Promise<Opinion> {
    const opinion = await this.#room.consult.writeOpinion(p, text, (o) => this.#room.durable.addOpinion(o));
    this.#room.audit.append({
      event: 'opinion_written',
      room: this.#room.id,
      actor: actorOf(p),
      details: { version: opinion.version, length: text.length },
    });
    for (const other of this.#room.others(p)) if (isClinician(other.role)) other.notify('opinionUpdated', { opinion });
    return opinion;
  }

  /** Opinions are for the clinical team only. */
  opinions(p: Participant): Opinion[] {
    if (!isClinician(p.role)) throw permissionDenied('read consult opinions');
    return this.#room.consult.opinions();
  }
}
