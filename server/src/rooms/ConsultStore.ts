/**
 * What outlives a call: the room's lifecycle, who took part, and the written
 * opinions. One JSON file per room, replaced atomically on every change.
 *
 * Asynchronous, so persisting a consult never stalls signaling. `save` takes
 * its snapshot at once and the writes of one consult are queued, so an older
 * version can never land after a newer one; `load` waits for the queued
 * writes of that consult, so it always reads the latest saved version.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsultSummary, Opinion, RoomInfo } from '@huizhen/protocol';
import { SerialQueue } from '../storage/SerialQueue.js';

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
  load(roomId: string): Promise<ConsultRecord | undefined>;
  /** Snapshots `record` now; resolves when that version (or a newer one) is on disk. */
  save(record: ConsultRecord): Promise<void>;
}

export class FileConsultStore implements ConsultStore {
  readonly #dir: string;
  readonly #writes = new SerialQueue();

  constructor(dir: string) {
    this.#dir = dir;
    // Startup only: the folder exists before the first request.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async load(roomId: string): Promise<ConsultRecord | undefined> {
    const file = this.#file(roomId);
    await this.#writes.idle(roomId);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as ConsultRecord;
  }

  save(record: ConsultRecord): Promise<void> {
    const roomId = record.room.id;
    const file = this.#file(roomId);
    // The snapshot is taken now: later changes to `record` belong to a later save.
    const text = JSON.stringify(record);
    return this.#writes.run(roomId, async () => {
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    });
  }

  #file(roomId: string): string {
    // Room ids are validated to [A-Za-z0-9_-]; this keeps paths inside the folder regardless.
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(roomId)) throw new Error('invalid room id');
    return join(this.#dir, `${roomId}.json`);
  }
}

export class MemoryConsultStore implements ConsultStore {
  readonly #records = new Map<string, ConsultRecord>();
  async load(roomId: string): Promise<ConsultRecord | undefined> {
    const r = this.#records.get(roomId);
    return r ? structuredClone(r) : undefined;
  }
  async save(record: ConsultRecord): Promise<void> {
    this.#records.set(record.room.id, structuredClone(record));
  }
}
