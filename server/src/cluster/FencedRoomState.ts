/**
 * A room's durable state as its home writes it in cluster mode: the
 * RoomStateWriter of rooms/ on top of the RoomStateStore, each write carrying
 * the home lease this node holds for the room now. A write this node may no
 * longer make (no lease held, or the store refused the epoch with
 * StaleEpochError) means the room has moved: the room is closed here
 * (`lost`, as on `homeLost`) and the request fails with ROOM_ON_OTHER_NODE,
 * so nobody is told a change happened that the room's real home never saw.
 */
import { ErrorCode, HuizhenError, type Opinion } from '@huizhen/protocol';
import type {
  DurableBooking,
  DurableRoomSnapshot,
  DurableSession,
  DurableShare,
  RoomStateWriter,
} from '../rooms/RoomStateWriter.js';
import { StaleEpochError, type DamagedRoomStateError } from './clusterErrors.js';
import type { HomeLease } from './RoomDirectory.js';
import type { RoomStateStore } from './RoomStateStore.js';

export interface FencedRoomStateOptions {
  room: string;
  store: RoomStateStore;
  /** The lease this node holds for the room now (RoomDirectory.fence), if any. */
  fence: () => HomeLease | undefined;
  /** This node lost the room: close it here. */
  lost: (room: string) => void;
  /** An entry of the stored state was skipped on load (for the log). */
  damaged?: (room: string, error: DamagedRoomStateError) => void;
}

export class FencedRoomState implements RoomStateWriter {
  readonly #o: FencedRoomStateOptions;

  constructor(options: FencedRoomStateOptions) {
    this.#o = options;
  }

  async load(): Promise<DurableRoomSnapshot> {
    const s = await this.#o.store.load(this.#o.room);
    for (const error of s.damaged) this.#o.damaged?.(this.#o.room, error);
    const b = s.booking;
    return {
      admitted: s.admitted,
      banned: s.banned,
      locked: s.locked,
      chat: s.chat,
      booking: b && {
        kind: b.kind,
        capacity: b.capacity,
        host: b.host,
        ...(b.provisional ? { provisional: true } : {}),
        bookedBy: b.bookedBy,
        expiresAt: b.expiresAt,
      },
      sessions: s.sessions,
      share: s.share,
      opinions: s.opinions,
    };
  }

  admit(person: string): Promise<void> {
    return this.#write((lease) => this.#o.store.admit(lease, person));
  }
  ban(person: string): Promise<void> {
    return this.#write((lease) => this.#o.store.ban(lease, person));
  }
  setLocked(locked: boolean): Promise<void> {
    return this.#write((lease) => this.#o.store.setLocked(lease, locked));
  }
  appendChat(message: Parameters<RoomStateWriter['appendChat']>[0]): Promise<void> {
    return this.#write((lease) => this.#o.store.appendChat(lease, message));
  }
  setBooking(booking: DurableBooking): Promise<void> {
    return this.#write((lease) =>
      this.#o.store.setBooking(lease, {
        id: this.#o.room,
        kind: booking.kind,
        capacity: booking.capacity,
        host: booking.host,
        ...(booking.provisional ? { provisional: true } : {}),
        bookedBy: booking.bookedBy,
        expiresAt: booking.expiresAt,
      }),
    );
  }

  // Session and share writes are ordered among themselves: a leave's drop issued in the background
  // must land before the same identity's next session, a share's end before the next share.
  #ordered: Promise<void> = Promise.resolve();
  #inOrder(write: (lease: HomeLease) => Promise<void>): Promise<void> {
    const next = this.#ordered.then(() => this.#write(write));
    this.#ordered = next.catch(() => undefined);
    return next;
  }

  saveSession(session: DurableSession): Promise<void> {
    return this.#inOrder((lease) => this.#o.store.saveSession(lease, session));
  }
  dropSession(identity: string): Promise<void> {
    return this.#inOrder((lease) => this.#o.store.dropSession(lease, identity));
  }
  setShare(share: DurableShare | null): Promise<void> {
    return this.#inOrder((lease) => this.#o.store.setShare(lease, share));
  }
  addOpinion(opinion: Opinion): Promise<void> {
    return this.#write((lease) => this.#o.store.addOpinion(lease, opinion));
  }

  async #write(write: (lease: HomeLease) => Promise<void>): Promise<void> {
    const lease = this.#o.fence();
    try {
      if (!lease) throw new StaleEpochError(this.#o.room, 0);
      await write(lease);
    } catch (err) {
      if (!(err instanceof StaleEpochError)) throw err;
      this.#o.lost(this.#o.room);
      throw new HuizhenError(
        ErrorCode.ROOM_ON_OTHER_NODE,
        `Room '${this.#o.room}' moved to another node of the cluster; please rejoin.`,
        { cause: err },
      );
    }
  }
}
