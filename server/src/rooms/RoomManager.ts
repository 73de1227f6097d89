/**
 * All rooms of this process. Creation is serialized per room id so two people
 * joining at the same moment land in the same room; a room left empty is
 * closed after a grace period so a quick rejoin finds it still there.
 */
import { ErrorCode, type RoomInfo } from '@huizhen/protocol';
import type { AuditSink } from '../audit/AuditLog.js';
import { HuizhenError } from '../errors.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { Logger } from '../observability/logger.js';
import type { ConsultSettings } from './Consult.js';
import type { ConsultStore } from './ConsultStore.js';
import type { DataRelaySettings } from './data/DataRelay.js';
import type { RoomPlacement } from './RoomPlacement.js';
import type { DurableRoomSnapshot, RoomStateWriter } from './RoomStateWriter.js';
import {
  Room,
  type RoomMediaOptions,
  type RoomRecordingSettings,
  type RoomRecordsSettings,
  type RoomVitalsSettings,
} from './Room.js';

export interface RoomManagerOptions {
  pool: WorkerPool;
  logger: Logger;
  maxParticipants: number;
  emptyRoomCloseMs: number;
  reconnectGraceMs: number;
  clockToleranceSec: number;
  media: RoomMediaOptions;
  store: ConsultStore;
  audit: AuditSink;
  records: RoomRecordsSettings;
  // --- data channels
  data: DataRelaySettings;
  vitals: RoomVitalsSettings;
  // --- recording: absent, rooms cannot record
  recording?: RoomRecordingSettings | undefined;
}

/** A room booked ahead (e.g. by an appointment system) before anyone joins. */
export interface ScheduledRoom extends ConsultSettings {
  id: string;
  bookedBy: string;
  /** Forgotten after this time (ms since the epoch) if nobody came. */
  expiresAt: number;
}

export class RoomManager {
  readonly #rooms = new Map<string, Room>();
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #emptyTimers = new Map<string, NodeJS.Timeout>();
  readonly #scheduled = new Map<string, ScheduledRoom>();
  /** Rooms closed but still writing their last changes: reopening one waits for them. */
  readonly #closing = new Map<string, Promise<void>>();
  readonly #options: RoomManagerOptions;
  // --- cluster: absent in the embedded default (every room opens here)
  #placement: RoomPlacement | undefined;
  #closed = false;

  constructor(options: RoomManagerOptions) {
    this.#options = options;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** Whether the room is open here or being created (cluster mode: this node acts as its home). */
  isOpen(id: string): boolean {
    return this.#rooms.has(id) || this.#creating.has(id);
  }

  // --- cluster
  /** Consults `placement` before any room opens from now on (cluster mode sets it once at start). */
  setPlacement(placement: RoomPlacement): void {
    this.#placement = placement;
  }

  /** Books a room's kind, capacity and host ahead of the first join. */
  async schedule(room: ScheduledRoom): Promise<RoomInfo> {
    await this.#closing.get(room.id);
    const stored = await this.#options.store.load(room.id);
    if (stored?.room.state === 'ended')
      throw new HuizhenError(ErrorCode.ROOM_ENDED, `Consult '${room.id}' has already ended.`);
    const live = this.#rooms.get(room.id);
    if (live || stored) {
      const info = live?.consult.info ?? stored!.room;
      if (info.kind !== room.kind)
        throw new HuizhenError(ErrorCode.INVALID_STATE, `Room '${room.id}' already exists as a ${info.kind}.`);
      return info;
    }
    for (const [id, s] of this.#scheduled) if (s.expiresAt < Date.now()) this.#scheduled.delete(id);
    this.#scheduled.set(room.id, room);
    this.#options.audit.append({
      event: 'room_created',
      room: room.id,
      actor: { identity: room.bookedBy },
      details: { kind: room.kind, capacity: room.capacity },
    });
    return {
      id: room.id,
      kind: room.kind,
      state: 'created',
      locked: false,
      host: room.host,
      capacity: room.capacity,
      createdAt: Date.now(),
      startedAt: null,
      endedAt: null,
    };
  }

  /**
   * The live room with this id, created if needed. `fallback` settings (from
   * the first clinician's token) apply only when the room was not booked.
   */
  async getOrCreate(id: string, fallback: ConsultSettings): Promise<Room> {
    if (this.#closed) throw new HuizhenError(ErrorCode.SERVER_SHUTTING_DOWN, 'The server is shutting down.');
    const existing = this.#rooms.get(id);
    if (existing && !existing.closed) {
      this.#cancelEmptyTimer(id);
      return existing;
    }
    const pending = this.#creating.get(id);
    if (pending) return pending;
    const creation = this.#open(id, fallback).finally(() => this.#creating.delete(id));
    this.#creating.set(id, creation);
    return creation;
  }

  async #open(id: string, fallback: ConsultSettings): Promise<Room> {
    // A room reopened right after it closed must see what it wrote last.
    await this.#closing.get(id);
    if ((await this.#options.store.load(id))?.room.state === 'ended')
      throw new HuizhenError(ErrorCode.ROOM_ENDED, 'This consult has ended.');
    // --- cluster: the room's home must be here (or the join is refused with a typed error)
    const placement = this.#placement;
    if (!placement) return this.#create(id, this.#scheduled.get(id) ?? fallback);
    await placement.beforeOpen(id);
    try {
      const durable = placement.durableState(id);
      if (!durable) return await this.#create(id, this.#scheduled.get(id) ?? fallback);
      // Homed here now: rebuilt from what the room's previous home wrote (nothing, for a new room).
      const state = await durable.load();
      const scheduled = this.#scheduled.get(id);
      const booking = state.booking ?? {
        ...(scheduled ?? fallback),
        bookedBy: scheduled?.bookedBy ?? 'first-join',
        expiresAt: scheduled?.expiresAt ?? 0,
      };
      if (!state.booking) await durable.setBooking(booking);
      return await this.#create(id, booking, { writer: durable, state });
    } catch (err) {
      placement.closed(id);
      throw err;
    }
  }

  async #create(
    id: string,
    settings: ConsultSettings,
    durable?: { writer: RoomStateWriter; state: DurableRoomSnapshot },
  ): Promise<Room> {
    const room = await Room.create({
      id,
      pool: this.#options.pool,
      logger: this.#options.logger,
      maxParticipants: this.#options.maxParticipants,
      media: this.#options.media,
      settings,
      store: this.#options.store,
      audit: this.#options.audit,
      reconnectGraceMs: this.#options.reconnectGraceMs,
      clockToleranceSec: this.#options.clockToleranceSec,
      records: this.#options.records,
      data: this.#options.data,
      vitals: this.#options.vitals,
      durable: durable?.writer,
      // --- recording
      recording: this.#options.recording,
    });
    try {
      // The stored consult and record metadata are read before anyone can use the room.
      await Promise.all([room.consult.ready, room.records.ready]);
      // --- cluster: after the consult's own record, so the durable lock and bans win over it
      if (durable) room.restore(durable.state);
    } catch (err) {
      room.close('The room could not be loaded.', ErrorCode.INTERNAL);
      throw err;
    }
    try {
      // --- cluster: the home may have moved while the room was being created
      this.#placement?.confirm(id);
    } catch (err) {
      room.close('This room moved to another node of the cluster; please rejoin.', ErrorCode.ROOM_ON_OTHER_NODE);
      throw err;
    }
    this.#scheduled.delete(id);
    this.#rooms.set(id, room);
    room.on('participantLeft', () => {
      if (room.participants.size === 0 && room.lobby.size === 0) this.#scheduleEmptyClose(room);
    });
    room.on('participantJoined', () => this.#cancelEmptyTimer(id));
    room.once('closed', () => {
      this.#cancelEmptyTimer(id);
      if (this.#rooms.get(id) === room) this.#rooms.delete(id);
      this.#trackLastWrites(room);
      // --- cluster
      this.#placement?.closed(id);
    });
    this.#options.logger.info('room opened', { room: id, kind: room.consult.kind, worker: room.worker.index });
    // A room nobody manages to join must not linger either.
    this.#scheduleEmptyClose(room);
    return room;
  }

  /** Waits for a closed room's last consult and records writes, and reports any that failed. */
  #trackLastWrites(room: Room): void {
    const done = Promise.all([
      room.consult.saved(),
      room.records.flush().then(() => room.records.saved()),
      room.vitals.close(),
      // --- recording: the capture has been handed its consent history
      room.recording.idle(),
    ])
      .then(
        () => undefined,
        (error: unknown) =>
          this.#options.logger.error('room state not saved', { room: room.id, error: error as Error }),
      )
      .finally(() => {
        if (this.#closing.get(room.id) === done) this.#closing.delete(room.id);
      });
    this.#closing.set(room.id, done);
  }

  /** Resolves when every closed room has written its last changes (shutdown waits for it). */
  async idle(): Promise<void> {
    await Promise.all(this.#closing.values());
  }

  #scheduleEmptyClose(room: Room): void {
    this.#cancelEmptyTimer(room.id);
    const timer = setTimeout(() => {
      this.#emptyTimers.delete(room.id);
      if (room.participants.size === 0 && room.lobby.size === 0) room.close('empty');
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
