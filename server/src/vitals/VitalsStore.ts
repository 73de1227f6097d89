/**
 * Where a consult's vitals live after the call: FHIR Observations, written
 * in chunks through the same encrypted file store as shared records
 * (AES-256-GCM at rest, a fresh IV per file, room and chunk id
 * authenticated; synced and renamed into place, so a crash never leaves a
 * half chunk). The store is keyed by room id and outlives the in-memory
 * room, so the Bundle is served after the consult ended or the server
 * restarted.
 *
 * A chunk's id carries its sequence number and how many Observations it
 * holds (`v000003-n120`), so the per-room bound is enforced from a directory
 * listing without decrypting anything.
 */
import type { RecordStore } from '../records/RecordStore.js';
import { SerialQueue } from '../storage/SerialQueue.js';
import type { FhirObservation } from './fhir.js';

export interface VitalsStore {
  /** Appends up to the room's bound; resolves with how many were stored once they are on disk. */
  append(roomId: string, observations: readonly FhirObservation[], maxPerRoom: number): Promise<number>;
  /** Every stored Observation of the room (waits for queued appends). */
  read(roomId: string): Promise<FhirObservation[]>;
}

const CHUNK = /^v(\d{6,})-n(\d{1,7})$/;

interface RoomState {
  nextSeq: number;
  count: number;
}

export class EncryptedVitalsStore implements VitalsStore {
  readonly #files: RecordStore;
  readonly #queue = new SerialQueue();
  readonly #rooms = new Map<string, RoomState>();

  /** `files` is an EncryptedFileStore rooted at its own folder (not the records one). */
  constructor(files: RecordStore) {
    this.#files = files;
  }

  append(roomId: string, observations: readonly FhirObservation[], maxPerRoom: number): Promise<number> {
    // Snapshot now; the array may be reused by the caller.
    const batch = [...observations];
    return this.#queue.run(roomId, async () => {
      const state = await this.#state(roomId);
      const room = Math.max(0, maxPerRoom - state.count);
      const kept = batch.slice(0, room);
      if (kept.length === 0) return 0;
      const id = `v${String(state.nextSeq).padStart(6, '0')}-n${kept.length}`;
      await this.#files.put(roomId, id, Buffer.from(JSON.stringify(kept)));
      state.nextSeq += 1;
      state.count += kept.length;
      return kept.length;
    });
  }

  async read(roomId: string): Promise<FhirObservation[]> {
    await this.#queue.idle(roomId);
    const chunks = (await this.#files.list(roomId))
      .map((id) => ({ id, m: CHUNK.exec(id) }))
      .filter((c): c is { id: string; m: RegExpExecArray } => c.m !== null)
      .sort((a, b) => Number(a.m[1]) - Number(b.m[1]));
    const out: FhirObservation[] = [];
    for (const c of chunks)
      out.push(...(JSON.parse((await this.#files.get(roomId, c.id)).toString('utf8')) as FhirObservation[]));
    return out;
  }

  async #state(roomId: string): Promise<RoomState> {
    let state = this.#rooms.get(roomId);
    if (!state) {
      state = { nextSeq: 1, count: 0 };
      for (const id of await this.#files.list(roomId)) {
        const m = CHUNK.exec(id);
        if (!m) continue;
        state.nextSeq = Math.max(state.nextSeq, Number(m[1]) + 1);
        state.count += Number(m[2]);
      }
      this.#rooms.set(roomId, state);
    }
    return state;
  }
}
