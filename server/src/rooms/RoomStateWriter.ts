/**
 * Where a room's home writes its durable workflow state (admissions, bans,
 * the lock, chat, the booking, the sessions of the people in the room and
 * the lobby, the current record share and the opinions) so that another
 * node can take the room over.
 * The rooms layer sees only this interface: the embedded default's writer
 * (`LocalRoomState`) writes nothing, because the room's own parts (Lobby,
 * Consult, Chat) already are its in-memory store; cluster mode's writer
 * (cluster/FencedRoomState.ts) writes to Redis with the room's home lease.
 *
 * Durability: a request that changes durable state is answered only after
 * its write resolved (the room awaits every write before it tells anyone),
 * so a chat message or an admission acknowledged to a client survives a
 * kill -9 of the home. A write that fails rejects with a HuizhenError
 * (ROOM_ON_OTHER_NODE when this node lost the room, which the writer then
 * closes here; CLUSTER_UNAVAILABLE when Redis is away) and the change is
 * not made.
 */
import type { ChatMessage, Opinion, Permission, Role, ViewState } from '@huizhen/protocol';
import type { ConsultSettings } from './Consult.js';

/** A booking's settings as the durable state keeps them. */
export type DurableBooking = ConsultSettings & { bookedBy: string; expiresAt: number };

/**
 * One person's session as the durable state keeps it, so that a new home can
 * let them resume it. Never the token: they prove themselves again with a
 * fresh one when they resume.
 */
export interface DurableSession {
  sessionId: string;
  identity: string;
  issuer: string;
  role: Role;
  name: string;
  permissions: Permission[];
  joinedAt: number;
  /** Seconds since the epoch, as the token's `exp`. */
  tokenExpiresAt: number;
  admission: 'admitted' | 'waiting';
  /** In the lobby since (ms since the epoch); only for `waiting`. */
  waitingSince?: number;
}

/** The record being shared and how everyone is shown it. */
export interface DurableShare {
  recordId: string;
  presenter: string;
  view: ViewState;
}

/** What a room is rebuilt from when it opens on a node (empty for a room never written). */
export interface DurableRoomSnapshot {
  /** People (personKey: issuer + identity) admitted from the lobby. */
  admitted: string[];
  /** People (personKey) a host removed for good. */
  banned: string[];
  locked: boolean;
  /** Oldest first. */
  chat: ChatMessage[];
  booking: DurableBooking | null;
  /** The people in the room or the lobby when the state was last written, one session per identity. */
  sessions: DurableSession[];
  share: DurableShare | null;
  /** Every opinion version, oldest first. */
  opinions: Opinion[];
}

export interface RoomStateWriter {
  load(): Promise<DurableRoomSnapshot>;
  admit(person: string): Promise<void>;
  ban(person: string): Promise<void>;
  setLocked(locked: boolean): Promise<void>;
  appendChat(message: ChatMessage): Promise<void>;
  setBooking(booking: DurableBooking): Promise<void>;
  /** Written when someone joins, waits or is admitted (it replaces their identity's earlier session). */
  saveSession(session: DurableSession): Promise<void>;
  /** The identity left (or was removed, or their grace ran out). */
  dropSession(identity: string): Promise<void>;
  setShare(share: DurableShare | null): Promise<void>;
  addOpinion(opinion: Opinion): Promise<void>;
}

/** The embedded default: one node, the room's parts hold everything; nothing to write. */
export class LocalRoomState implements RoomStateWriter {
  async load(): Promise<DurableRoomSnapshot> {
    return {
      admitted: [],
      banned: [],
      locked: false,
      chat: [],
      booking: null,
      sessions: [],
      share: null,
      opinions: [],
    };
  }
  async admit(): Promise<void> {}
  async ban(): Promise<void> {}
  async setLocked(): Promise<void> {}
  async appendChat(): Promise<void> {}
  async setBooking(): Promise<void> {}
  async saveSession(): Promise<void> {}
  async dropSession(): Promise<void> {}
  async setShare(): Promise<void> {}
  async addOpinion(): Promise<void> {}
}
