/**
 * The clinical record of a room, apart from its media: kind, lifecycle
 * (created → waiting → active → ended) with timestamps, who took part, the
 * host, the lock, removed identities and the written opinions. Persisted on
 * every change so it outlives the call and the process.
 */
import {
  ErrorCode,
  type ConsultSummary,
  type Opinion,
  type RoomInfo,
  type RoomKind,
  type RoomState,
} from '@huizhen/protocol';
import { personKey } from '../auth/person.js';
import { HuizhenError } from '../errors.js';
import type { ConsultRecord, ConsultStore } from './ConsultStore.js';
import type { Participant } from './Participant.js';
import { isClinician } from './policy.js';

/** Each version is kept; these bound what one author can make the node store and rewrite. */
const MAX_OPINION_VERSIONS = 100;
const MIN_OPINION_INTERVAL_MS = 1000;

export interface ConsultSettings {
  kind: RoomKind;
  capacity: number;
  host: string | null;
  /** Defaults chosen because nobody with the say opened the room yet; the first doctor may settle them. */
  provisional?: boolean;
}

/** The summary of a consult, live or stored: still running, its duration counts up to now. */
export function summaryOf(record: ConsultRecord): ConsultSummary {
  const { room } = record;
  const durationSec =
    room.startedAt === null ? null : Math.round(((room.endedAt ?? Date.now()) - room.startedAt) / 1000);
  return { room: { ...room }, durationSec, participants: record.ledger.map((e) => ({ ...e })) };
}

const opinionKey = (o: Opinion): string => `${personKey(o.author.issuer, o.author.identity)}\n${o.version}`;

export class Consult {
  readonly #store: ConsultStore;
  #record: ConsultRecord;
  /** Settles when the stored record (if any) has been read; the room is not used before. */
  readonly ready: Promise<void>;
  /** The latest queued write, and the first write failure not yet reported. */
  #lastSave: Promise<void> = Promise.resolve();
  #saveError: unknown;
  /** Issuers of the clinicians in this room: their clinicians may still enter a locked room. */
  readonly issuers = new Set<string>();

  constructor(id: string, settings: ConsultSettings, store: ConsultStore) {
    this.#store = store;
    this.#record = {
      room: {
        id,
        kind: settings.kind,
        state: 'created',
        locked: false,
        host: settings.host,
        capacity: settings.capacity,
        createdAt: Date.now(),
        startedAt: null,
        endedAt: null,
      },
      ledger: [],
      opinions: [],
      banned: [],
      ...(settings.provisional ? { provisional: true } : {}),
    };
    this.ready = this.#load(id);
  }

  async #load(id: string): Promise<void> {
    const existing = await this.#store.load(id);
    if (existing) this.#record = existing;
    // A room recreated after an idle close starts unlocked, as a new sitting.
    this.#record.room.locked = false;
    for (const entry of this.#record.ledger) if (isClinician(entry.role)) this.issuers.add(entry.issuer);
    if (!existing) this.#save();
    await this.saved();
  }

  /** Resolves when every change so far is on disk; rejects with the first write that failed since the last call. */
  async saved(): Promise<void> {
    await this.#lastSave;
    const error = this.#saveError;
    this.#saveError = undefined;
    if (error !== undefined) throw error;
  }

  get info(): RoomInfo {
    return { ...this.#record.room };
  }

  get provisional(): boolean {
    return this.#record.provisional === true;
  }

  /** The first doctor to arrive settles a room that a patient happened to open. */
  settle(kind: RoomKind, capacity: number): void {
    if (!this.#record.provisional) return;
    this.#record.room.kind = kind;
    this.#record.room.capacity = capacity;
    delete this.#record.provisional;
    this.#save();
  }

  get kind(): RoomKind {
    return this.#record.room.kind;
  }

  get ended(): boolean {
    return this.#record.room.state === 'ended';
  }

  get locked(): boolean {
    return this.#record.room.locked;
  }

  /** Bans are per person: the identity as vouched for by its issuer. */
  isBanned(identity: string, issuer: string): boolean {
    return this.#record.banned.includes(personKey(issuer, identity));
  }

  /** Records an admitted participant; the first doctor becomes host if none was named. */
  admitted(p: Participant): void {
    const room = this.#record.room;
    if (room.host === null && p.role === 'doctor') room.host = p.identity;
    if (isClinician(p.role)) this.issuers.add(p.issuer);
    const entry = this.#record.ledger.find((e) => e.identity === p.identity);
    if (entry) entry.lastLeftAt = null;
    else
      this.#record.ledger.push({
        identity: p.identity,
        name: p.name,
        role: p.role,
        issuer: p.issuer,
        firstJoinedAt: Date.now(),
        lastLeftAt: null,
      });
    this.#save();
  }

  left(identity: string): void {
    const entry = this.#record.ledger.find((e) => e.identity === identity);
    if (entry) {
      entry.lastLeftAt = Date.now();
      this.#save();
    }
  }

  /**
   * Moves the lifecycle forward from who is present: someone waiting → waiting;
   * a clinician with at least one other person admitted → active (for good).
   * Returns true when the state changed.
   */
  updateState(admitted: readonly Participant[], waiting: number): boolean {
    const room = this.#record.room;
    if (room.state === 'ended' || room.state === 'active') return false;
    const clinicianIn = admitted.some((p) => isClinician(p.role));
    let next: RoomState = room.state;
    if (clinicianIn && admitted.length >= 2) next = 'active';
    else if (waiting > 0) next = 'waiting';
    if (next === room.state) return false;
    room.state = next;
    if (next === 'active') room.startedAt = Date.now();
    this.#save();
    return true;
  }

  setLocked(locked: boolean): void {
    this.#record.room.locked = locked;
    this.#save();
  }

  /** A room rebuilt on a new home takes up the lock and the bans its durable state holds. */
  restore(state: { locked: boolean; banned: readonly string[] }): void {
    this.#record.room.locked = state.locked;
    for (const key of state.banned) if (!this.#record.banned.includes(key)) this.#record.banned.push(key);
    this.#save();
  }

  ban(identity: string, issuer: string): void {
    const key = personKey(issuer, identity);
    if (!this.#record.banned.includes(key)) this.#record.banned.push(key);
    this.#save();
  }

  end(): ConsultSummary {
    const room = this.#record.room;
    if (room.state !== 'ended') {
      room.state = 'ended';
      room.endedAt = Date.now();
      const now = room.endedAt;
      for (const e of this.#record.ledger) e.lastLeftAt ??= now;
      this.#save();
    }
    return this.summary();
  }

  summary(): ConsultSummary {
    return summaryOf(this.#record);
  }

  /** Authors (personKey) whose next version is being written: one at a time, so versions never repeat. */
  readonly #writingOpinion = new Set<string>();

  /**
   * Each author's opinion is versioned: an edit adds a version, nothing is
   * overwritten. `persist` (the room's durable write) runs before the version
   * is taken in; if it fails, the version is not made.
   */
  async writeOpinion(author: Participant, text: string, persist?: (o: Opinion) => Promise<void>): Promise<Opinion> {
    const key = personKey(author.issuer, author.identity);
    if (this.#writingOpinion.has(key))
      throw new HuizhenError(ErrorCode.RATE_LIMITED, 'Wait a moment before saving another version.');
    const opinion = this.#nextOpinion(author, text);
    this.#writingOpinion.add(key);
    try {
      await persist?.(opinion);
    } finally {
      this.#writingOpinion.delete(key);
    }
    this.#record.opinions.push(opinion);
    this.#save();
    return opinion;
  }

  /**
   * A room rebuilt on a new home takes up the opinions its durable state holds
   * (the consult file with them may be on the old home's disk); versions this
   * node's file already has are kept once.
   */
  restoreOpinions(opinions: readonly Opinion[]): void {
    const have = new Set(this.#record.opinions.map(opinionKey));
    const added = opinions.filter((o) => !have.has(opinionKey(o)));
    if (added.length === 0) return;
    this.#record.opinions = [...this.#record.opinions, ...added.map((o) => ({ ...o, author: { ...o.author } }))].sort(
      (a, b) => a.writtenAt - b.writtenAt || a.version - b.version,
    );
    this.#save();
  }

  #nextOpinion(author: Participant, text: string): Opinion {
    if (this.ended)
      throw new HuizhenError(ErrorCode.ROOM_ENDED, 'The consult has ended; opinions can no longer be changed.');
    const previous = this.#record.opinions.filter(
      (o) => o.author.identity === author.identity && o.author.issuer === author.issuer,
    );
    if (previous.length >= MAX_OPINION_VERSIONS) {
      throw new HuizhenError(ErrorCode.INVALID_STATE, `An opinion keeps at most ${MAX_OPINION_VERSIONS} versions.`);
    }
    const last = previous[previous.length - 1];
    if (last && Date.now() - last.writtenAt < MIN_OPINION_INTERVAL_MS) {
      throw new HuizhenError(ErrorCode.RATE_LIMITED, 'Wait a moment before saving another version.');
    }
    return {
      version: previous.length + 1,
      author: { identity: author.identity, name: author.name, role: author.role, issuer: author.issuer },
      text,
      writtenAt: Date.now(),
    };
  }

  /** Every version, oldest first. */
  opinions(): Opinion[] {
    return this.#record.opinions.map((o) => ({ ...o, author: { ...o.author } }));
  }

  /** The store snapshots the record now and keeps writes in order; callers need not wait. */
  #save(): void {
    this.#lastSave = this.#store.save(this.#record).catch((err: unknown) => {
      this.#saveError ??= err;
    });
  }
}
