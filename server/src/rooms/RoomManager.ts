/**
 * All rooms of this process. Creation is serialized per room id so two people
 * joining at the same moment land in the same room; a room left empty is
 * closed after a grace period so a quick rejoin finds it still there.
 */
import type { WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import { Room, type RoomMediaOptions } from './Room.js';

export interface RoomManagerOptions {
  pool: WorkerPool;
  logger: Logger;
  maxParticipants: number;
  emptyRoomCloseMs: number;
  media: RoomMediaOptions;
}

export class RoomManager {
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #emptyTimers = new Map<string, NodeJS.Timeout>();
  readonly #options: RoomManagerOptions;
  #closed = false;

  constructor(options: RoomManagerOptions) {
    this.#options = options;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  async getOrCreate(id: string): Promise<Room> {
    if (this.#closed) throw new Error('room manager is closed');
    const existing = this.#rooms.get(id);
    if (existing && !existing.closed) {
      this.#cancelEmptyTimer(id);
      return existing;
    }
    const pending = this.#creating.get(id);
    if (pending) return pending;
    const creation = this.#create(id).finally(() => this.#creating.delete(id));
    this.#creating.set(id, creation);
    return creation;
  }

  async #create(id: string): Promise<Room> {
    const room = await Room.create({
      id,
      pool: this.#options.pool,
      logger: this.#options.logger,
      maxParticipants: this.#options.maxParticipants,
      media: this.#options.media,
    });
    this.#rooms.set(id, room);
    room.on('participantLeft', () => {
      if (room.participants.size === 0) this.#scheduleEmptyClose(room);
    });
    room.on('participantJoined', () => this.#cancelEmptyTimer(id));
    room.once('closed', () => {
      this.#cancelEmptyTimer(id);
      if (this.#rooms.get(id) === room) this.#rooms.delete(id);
    });
    this.#options.logger.info('room created', { room: id, worker: room.worker.index });
    // A room nobody manages to join must not linger either.
    this.#scheduleEmptyClose(room);
    return room;
  }

  #scheduleEmptyClose(room: Room): void {
    this.#cancelEmptyTimer(room.id);
    const timer = setTimeout(() => {
      this.#emptyTimers.delete(room.id);
      if (room.participants.size === 0) room.close('empty');
    }, this.#options.emptyRoomCloseMs);
    timer.unref();
    this.#emptyTimers.set(room.id, timer);
  }

  #cancelEmptyTimer(id: string): void {
    const t = this.#emptyTimers.get(id);
    if (t) clearTimeout(t);
    this.#emptyTimers.delete(id);
  }

  counts(): { rooms: number; participants: number; producers: number; consumers: number } {
    const total = { rooms: this.#rooms.size, participants: 0, producers: 0, consumers: 0 };
    for (const room of this.#rooms.values()) {
      const c = room.counts();
      total.participants += c.participants;
      total.producers += c.producers;
      total.consumers += c.consumers;
    }
    return total;
  }

  closeAll(reason: string, code?: Parameters<Room['close']>[1]): void {
    this.#closed = true;
    for (const room of [...this.#rooms.values()]) room.close(reason, code);
    for (const t of this.#emptyTimers.values()) clearTimeout(t);
    this.#emptyTimers.clear();
  }
}
