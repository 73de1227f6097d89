/**
 * The room state store of cluster mode: one Redis key per part of the room
 * (keys.ts), every write a FENCED_WRITE script that applies only while the
 * writer's lease ("<node>|<epoch>") is the room's home. A refused write
 * throws StaleEpochError; Redis away throws CLUSTER_UNAVAILABLE.
 */
import { HuizhenError, type ChatMessage, type Opinion } from '@huizhen/protocol';
import type { DurableSession, DurableShare } from '../rooms/RoomStateWriter.js';
import type { ClusterConnection } from './ClusterConnection.js';
import { DamagedRoomStateError, StaleEpochError } from './clusterErrors.js';
import type { ClusterKeys, RoomStatePart } from './keys.js';
import type { HomeLease } from './RoomDirectory.js';
import {
  CHAT_HISTORY_LIMIT,
  opinionField,
  parseBooking,
  parseChat,
  parseOpinions,
  parseSessions,
  parseShare,
  type DurableRoomState,
  type RoomBooking,
  type RoomStateStore,
} from './RoomStateStore.js';
import { FENCED_WRITE } from './scripts.js';

/** HGETALL's reply as the client gives it (a flat field/value list under RESP2, a map under RESP3). */
function hashReply(reply: unknown): Record<string, string> {
  if (!Array.isArray(reply)) return { ...(reply as Record<string, string>) };
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

export class RedisRoomStateStore implements RoomStateStore {
  readonly #connection: ClusterConnection;
  readonly #keys: ClusterKeys;

  constructor(connection: ClusterConnection, keys: ClusterKeys) {
    this.#connection = connection;
    this.#keys = keys;
  }

  async load(room: string): Promise<DurableRoomState> {
    const k = (part: RoomStatePart) => this.#keys.roomState(room, part);
    const c = this.#connection;
    const damaged: DamagedRoomStateError[] = [];
    // A session or opinion key Redis cannot read as a hash (another writer's key, a wrong type) is a
    // damaged part: reported and left out, so the room still opens. Redis away still fails the load.
    const hash = (part: RoomStatePart) =>
      c.command<unknown>(['HGETALL', k(part)]).then(hashReply, (error: unknown) => {
        if (error instanceof HuizhenError) throw error;
        damaged.push(new DamagedRoomStateError(part, '*', error));
        return {};
      });
    const [admitted, banned, fields, chat, sessions, opinions] = await Promise.all([
      c.command<string[]>(['SMEMBERS', k('admitted')]),
      c.command<string[]>(['SMEMBERS', k('banned')]),
      c.command<(string | null)[]>(['HMGET', k('fields'), 'locked', 'booking', 'notificationSeq', 'share']),
      c.command<string[]>(['LRANGE', k('chat'), '0', '-1']),
      hash('sessions'),
      hash('opinions'),
    ]);
    const seq = Number(fields[2] ?? 0);
    return {
      admitted: admitted.sort(),
      banned: banned.sort(),
      locked: fields[0] === '1',
      chat: parseChat(chat),
      booking: parseBooking(fields[1]),
      notificationSeq: Number.isSafeInteger(seq) && seq >= 0 ? seq : 0,
      sessions: parseSessions(sessions, damaged),
      share: parseShare(fields[3], damaged),
      opinions: parseOpinions(opinions, damaged),
      damaged,
    };
  }

  async admit(lease: HomeLease, identity: string): Promise<void> {
    await this.#write(lease, 'admitted', 'sadd', identity);
  }
  async revokeAdmission(lease: HomeLease, identity: string): Promise<void> {
    await this.#write(lease, 'admitted', 'srem', identity);
  }
  async ban(lease: HomeLease, identity: string): Promise<void> {
    await this.#write(lease, 'banned', 'sadd', identity);
  }
  async setLocked(lease: HomeLease, locked: boolean): Promise<void> {
    await this.#write(lease, 'fields', 'hset', 'locked', locked ? '1' : '0');
  }
  async appendChat(lease: HomeLease, message: ChatMessage): Promise<void> {
    await this.#write(lease, 'chat', 'rpush', JSON.stringify(message), String(CHAT_HISTORY_LIMIT));
  }
  async setBooking(lease: HomeLease, booking: RoomBooking | null): Promise<void> {
    if (booking) await this.#write(lease, 'fields', 'hset', 'booking', JSON.stringify(booking));
    else await this.#write(lease, 'fields', 'hdel', 'booking');
  }
  async nextNotificationSeq(lease: HomeLease): Promise<number> {
    return this.#write(lease, 'fields', 'hincrby', 'notificationSeq', '1');
  }

  async saveSession(lease: HomeLease, session: DurableSession): Promise<void> {
    await this.#write(lease, 'sessions', 'hset', session.identity, JSON.stringify(session));
  }
  async dropSession(lease: HomeLease, identity: string): Promise<void> {
    await this.#write(lease, 'sessions', 'hdel', identity);
  }
  async setShare(lease: HomeLease, share: DurableShare | null): Promise<void> {
    if (share) await this.#write(lease, 'fields', 'hset', 'share', JSON.stringify(share));
    else await this.#write(lease, 'fields', 'hdel', 'share');
  }
  async addOpinion(lease: HomeLease, opinion: Opinion): Promise<void> {
    await this.#write(lease, 'opinions', 'hset', opinionField(opinion), JSON.stringify(opinion));
  }

  async #write(lease: HomeLease, part: RoomStatePart, op: string, ...operands: string[]): Promise<number> {
    const reply = Number(
      await this.#connection.script(
        FENCED_WRITE,
        [this.#keys.roomHome(lease.room), this.#keys.roomState(lease.room, part)],
        [lease.node, String(lease.epoch), op, ...operands],
      ),
    );
    if (reply === -1) throw new StaleEpochError(lease.room, lease.epoch);
    return reply;
  }
}
