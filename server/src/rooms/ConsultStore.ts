/**
 * What outlives a call: the room's lifecycle, who took part, and the written
 * opinions. One JSON file per room, replaced atomically on every change.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsultSummary, Opinion, RoomInfo } from '@huizhen/protocol';

export interface ConsultRecord {
  room: RoomInfo;
  ledger: ConsultSummary['participants'];
  opinions: Opinion[];
  /** People removed by a host ("issuer\nidentity"); they may not come back. */
  banned: string[];
  /** Kind and capacity are defaults until the first doctor arrives. */
  provisional?: boolean;
}

export interface ConsultStore {
  load(roomId: string): ConsultRecord | undefined;
  save(record: ConsultRecord): void;
}

export class FileConsultStore implements ConsultStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  load(roomId: string): ConsultRecord | undefined {
    const file = this.#file(roomId);
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as ConsultRecord;
  }

  save(record: ConsultRecord): void {
    const file = this.#file(record.room.id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    renameSync(tmp, file);
  }

  #file(roomId: string): string {
    // Room ids are validated to [A-Za-z0-9_-]; this keeps paths inside the folder regardless.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(roomId)) throw new Error('invalid room id');
    return join(this.#dir, `${roomId}.json`);
  }
}

export class MemoryConsultStore implements ConsultStore {
  readonly #records = new Map<string, ConsultRecord>();
  load(roomId: string): ConsultRecord | undefined {
    const r = this.#records.get(roomId);
    return r ? structuredClone(r) : undefined;
  }
  save(record: ConsultRecord): void {
    this.#records.set(record.room.id, structuredClone(record));
  }
}
