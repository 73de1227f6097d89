/**
 * What a room's home writes through so that another node can take the room
 * over: admissions, bans, the lock, chat history, the booking and the
 * notification sequence. Every write carries the writer's home lease
 * (`HomeLease`, from the RoomDirectory); the Redis store refuses a write
 * whose epoch is not the room's current one with `StaleEpochError`. The
 * in-memory store is the embedded default's: one node, always the home.
 */
import { ROOM_KINDS, chatMessage, num, oneOf, parseWith, str, type ChatMessage } from '@huizhen/protocol';
import * as z from 'zod/mini';
import type { HomeLease } from './RoomDirectory.js';

/** A booking as RoomManager.schedule takes it (ScheduledRoom). */
const bookingRecord = z.object({
  id: str({ min: 1, max: 128 }),
  kind: oneOf(ROOM_KINDS),
  capacity: num({ integer: true, min: 1, max: 10_000 }),
  host: z.nullable(str({ min: 1, max: 256 })),
  provisional: z.optional(z.boolean()),
  bookedBy: str({ min: 1, max: 256 }),
  expiresAt: num({ integer: true, min: 0 }),
});

/** How many chat messages a room keeps (as Chat's history). */
export const CHAT_HISTORY_LIMIT = 500;

export type RoomBooking = z.infer<typeof bookingRecord>;

export interface DurableRoomState {
  /** Identities a clinician admitted from the lobby. */
  admitted: string[];
  /** Identities removed by a host (they may not come back). */
  banned: string[];
  locked: boolean;
  /** Oldest first, at most CHAT_HISTORY_LIMIT. */
  chat: ChatMessage[];
  /** The room's booking (kind, capacity, host), if it was booked ahead. */
  booking: RoomBooking | null;
  /** The last notification sequence number handed out. */
  notificationSeq: number;
}

export interface RoomStateStore {
  /** The room's state as last written (empty state for a room never written). */
  load(room: string): Promise<DurableRoomState>;
  admit(lease: HomeLease, identity: string): Promise<void>;
  revokeAdmission(lease: HomeLease, identity: string): Promise<void>;
  ban(lease: HomeLease, identity: string): Promise<void>;
  setLocked(lease: HomeLease, locked: boolean): Promise<void>;
  appendChat(lease: HomeLease, message: ChatMessage): Promise<void>;
  setBooking(lease: HomeLease, booking: RoomBooking | null): Promise<void>;
  /** Hands out the next notification sequence number (strictly increasing across homes). */
  nextNotificationSeq(lease: HomeLease): Promise<number>;
}

export const emptyRoomState = (): DurableRoomState => ({
  admitted: [],
  banned: [],
  locked: false,
  chat: [],
  booking: null,
  notificationSeq: 0,
});

/** Checks what comes back from storage before a room is rebuilt from it. */
export function parseChat(raw: readonly string[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const line of raw) {
    try {
      out.push(parseWith(chatMessage, JSON.parse(line)) as ChatMessage);
    } catch {
      // A damaged entry is skipped, the rest of the history kept.
    }
  }
  return out;
}

export function parseBooking(raw: string | null | undefined): RoomBooking | null {
  if (raw == null) return null;
  try {
    return parseWith(bookingRecord, JSON.parse(raw));
  } catch {
    return null;
  }
}

/** The embedded default: one node, always the home, nothing survives the process. */
export class MemoryRoomStateStore implements RoomStateStore {
  readonly #rooms = new Map<string, DurableRoomState>();

  #room(id: string): DurableRoomState {
    let state = this.#rooms.get(id);
    if (!state) this.#rooms.set(id, (state = emptyRoomState()));
    return state;
  }

  async load(room: string): Promise<DurableRoomState> {
    const s = this.#room(room);
    return structuredClone(s);
  }
  async admit(lease: HomeLease, identity: string): Promise<void> {
    const s = this.#room(lease.room);
    if (!s.admitted.includes(identity)) s.admitted.push(identity);
  }
  async revokeAdmission(lease: HomeLease, identity: string): Promise<void> {
    const s = this.#room(lease.room);
    s.admitted = s.admitted.filter((i) => i !== identity);
  }
  async ban(lease: HomeLease, identity: string): Promise<void> {
    const s = this.#room(lease.room);
    if (!s.banned.includes(identity)) s.banned.push(identity);
  }
  async setLocked(lease: HomeLease, locked: boolean): Promise<void> {
    this.#room(lease.room).locked = locked;
  }
  async appendChat(lease: HomeLease, message: ChatMessage): Promise<void> {
    const s = this.#room(lease.room);
    s.chat.push(structuredClone(message));
    if (s.chat.length > CHAT_HISTORY_LIMIT) s.chat.shift();
  }
  async setBooking(lease: HomeLease, booking: RoomBooking | null): Promise<void> {
    this.#room(lease.room).booking = booking && structuredClone(booking);
  }
  async nextNotificationSeq(lease: HomeLease): Promise<number> {
    return ++this.#room(lease.room).notificationSeq;
  }
}
