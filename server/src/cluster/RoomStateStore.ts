/**
 * What a room's home writes through so that another node can take the room
 * over: admissions, bans, the lock, chat history, the booking, the
 * notification sequence, the sessions of the people in the room and its
 * lobby, the current record share and the opinions. Every write carries the writer's home lease
 * (`HomeLease`, from the RoomDirectory); the Redis store refuses a write
 * whose epoch is not the room's current one with `StaleEpochError`. The
 * in-memory store is the embedded default's: one node, always the home.
 */
import {
  PERMISSIONS,
  ROLES,
  ROOM_KINDS,
  chatMessage,
  num,
  oneOf,
  opinion as opinionShape,
  parseWith,
  str,
  viewState,
  type ChatMessage,
  type Opinion,
} from '@huizhen/protocol';
import * as z from 'zod/mini';
import type { DurableSession, DurableShare } from '../rooms/RoomStateWriter.js';
import { DamagedRoomStateError } from './clusterErrors.js';
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

/** A session as the home wrote it (RoomStateWriter's DurableSession). */
const sessionRecord = z.object({
  sessionId: str({ min: 1, max: 128 }),
  identity: str({ min: 1, max: 256 }),
  issuer: str({ min: 1, max: 512 }),
  role: oneOf(ROLES),
  name: str({ max: 256 }),
  permissions: z.array(oneOf(PERMISSIONS)),
  joinedAt: num({ integer: true, min: 0 }),
  tokenExpiresAt: num({ integer: true, min: 0 }),
  admission: oneOf(['admitted', 'waiting'] as const),
  waitingSince: z.optional(num({ integer: true, min: 0 })),
});

const shareRecord = z.object({
  recordId: str({ min: 1, max: 128 }),
  presenter: str({ min: 1, max: 256 }),
  view: viewState,
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
  /** One session per identity (admitted or waiting), by identity. */
  sessions: DurableSession[];
  share: DurableShare | null;
  /** Every opinion version, oldest first. */
  opinions: Opinion[];
  /** Entries that did not pass their check: skipped (the rest of the room is rebuilt), reported here. */
  damaged: DamagedRoomStateError[];
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
  /**
   * Hands out the next notification sequence number (strictly increasing across homes).
   * Rooms do not use it: a round trip per notification is too dear; a restored session numbers
   * on above the client's own last seq instead (Participant.resume).
   */
  nextNotificationSeq(lease: HomeLease): Promise<number>;
  /** Replaces the session kept for `session.identity`. */
  saveSession(lease: HomeLease, session: DurableSession): Promise<void>;
  dropSession(lease: HomeLease, identity: string): Promise<void>;
  setShare(lease: HomeLease, share: DurableShare | null): Promise<void>;
  /** Keyed by author (issuer + identity) and version: writing the same version again changes nothing. */
  addOpinion(lease: HomeLease, opinion: Opinion): Promise<void>;
}

export const emptyRoomState = (): DurableRoomState => ({
  admitted: [],
  banned: [],
  locked: false,
  chat: [],
  booking: null,
  notificationSeq: 0,
  sessions: [],
  share: null,
  opinions: [],
  damaged: [],
});

/** The field an opinion version is kept under (issuer and identity cannot hold a newline: personKey). */
export const opinionField = (o: Opinion): string => `${o.author.issuer}\n${o.author.identity}\n${o.version}`;

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

/** Parses one stored JSON entry; anything else is a DamagedRoomStateError naming the part and entry. */
function parseEntry<T>(schema: Parameters<typeof parseWith<T>>[0], part: string, entry: string, raw: string): T {
  try {
    return parseWith(schema, JSON.parse(raw));
  } catch (err) {
    throw new DamagedRoomStateError(part, entry, err);
  }
}

/** Sessions by identity (hash field → JSON); the field must match the identity inside. */
export function parseSessions(raw: Record<string, string>, damaged: DamagedRoomStateError[]): DurableSession[] {
  const out: DurableSession[] = [];
  for (const [identity, json] of Object.entries(raw)) {
    try {
      const s = parseEntry(sessionRecord, 'sessions', identity, json);
      if (s.identity !== identity) throw new DamagedRoomStateError('sessions', identity, 'kept under another identity');
      const { waitingSince, ...rest } = s;
      out.push(waitingSince === undefined ? rest : { ...rest, waitingSince });
    } catch (err) {
      if (!(err instanceof DamagedRoomStateError)) throw err;
      damaged.push(err);
    }
  }
  return out.sort((a, b) => a.joinedAt - b.joinedAt || (a.identity < b.identity ? -1 : 1));
}

export function parseShare(raw: string | null | undefined, damaged: DamagedRoomStateError[]): DurableShare | null {
  if (raw == null) return null;
  try {
    return parseEntry(shareRecord, 'share', 'share', raw);
  } catch (err) {
    if (!(err instanceof DamagedRoomStateError)) throw err;
    damaged.push(err);
    return null;
  }
}

/** Opinion versions by field (opinionField → JSON), oldest first. */
export function parseOpinions(raw: Record<string, string>, damaged: DamagedRoomStateError[]): Opinion[] {
  const out: Opinion[] = [];
  for (const [field, json] of Object.entries(raw)) {
    try {
      const o = parseEntry(opinionShape, 'opinions', field, json) as Opinion;
      if (opinionField(o) !== field) throw new DamagedRoomStateError('opinions', field, 'kept under another author');
      out.push(o);
    } catch (err) {
      if (!(err instanceof DamagedRoomStateError)) throw err;
      damaged.push(err);
    }
  }
  return out.sort((a, b) => a.writtenAt - b.writtenAt || a.version - b.version);
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
  async saveSession(lease: HomeLease, session: DurableSession): Promise<void> {
    const s = this.#room(lease.room);
    s.sessions = [...s.sessions.filter((o) => o.identity !== session.identity), structuredClone(session)];
  }
  async dropSession(lease: HomeLease, identity: string): Promise<void> {
    const s = this.#room(lease.room);
    s.sessions = s.sessions.filter((o) => o.identity !== identity);
  }
  async setShare(lease: HomeLease, share: DurableShare | null): Promise<void> {
    this.#room(lease.room).share = share && structuredClone(share);
  }
  async addOpinion(lease: HomeLease, opinion: Opinion): Promise<void> {
    const s = this.#room(lease.room);
    if (!s.opinions.some((o) => opinionField(o) === opinionField(opinion))) s.opinions.push(structuredClone(opinion));
  }
}
