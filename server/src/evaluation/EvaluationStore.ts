/**
 * Where a consult's evaluations live: one file per consult beside its other
 * after-call data (`storage.dir/evaluations/<room>/`), encrypted at rest like
 * records (comments are the patient's own words and may carry health
 * details), written whole to a temporary file, synced and renamed into
 * place, so a crash never leaves half a file.
 *
 * They are not written into the consult record itself: the live room keeps
 * that record in memory and rewrites it whole, and a late write of the room
 * must never be able to drop an evaluation.
 *
 * Submissions of one consult are queued one after another, so two concurrent
 * POSTs by the same person cannot both pass the "not yet evaluated" check.
 * The per-doctor aggregate needs the ratings of every consult: they are read
 * once (the first aggregate after start) and then kept current in memory —
 * numbers only, never the comments.
 */
import { readdir } from 'node:fs/promises';
import { ErrorCode, type EvaluationDimension, type StoredEvaluation } from '@huizhen/protocol';
import { personKey } from '../auth/person.js';
import { HuizhenError } from '../errors.js';
import type { RecordStore } from '../records/RecordStore.js';
import { SerialQueue } from '../storage/SerialQueue.js';

/** What one consult's file holds. */
export interface ConsultEvaluations {
  room: string;
  /** The consult's host (identity) and the issuer that vouched for them, as known at the first evaluation. */
  host: string | null;
  hostIssuer: string | null;
  evaluations: StoredEvaluation[];
}

/** The numbers of one consult's evaluations, for aggregates. */
export interface RatingsIndexEntry {
  host: string | null;
  hostIssuer: string | null;
  ratings: Pick<StoredEvaluation, EvaluationDimension>[];
}

export interface EvaluationStore {
  /** Appends unless this person (issuer + identity) already evaluated; resolves once it is on disk. */
  add(meta: Omit<ConsultEvaluations, 'evaluations'>, evaluation: StoredEvaluation): Promise<void>;
  /** The consult's evaluations, oldest first (empty when none). */
  list(roomId: string): Promise<StoredEvaluation[]>;
  /** Every consult's ratings (no comments). */
  ratings(): Promise<ReadonlyMap<string, RatingsIndexEntry>>;
}

const FILE_ID = 'evaluations';
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class EncryptedEvaluationStore implements EvaluationStore {
  readonly #files: RecordStore;
  readonly #dir: string;
  readonly #queue = new SerialQueue();
  #index: Promise<Map<string, RatingsIndexEntry>> | undefined;

  /** `files` is an EncryptedFileStore rooted at `dir`, a folder of its own. */
  constructor(files: RecordStore, dir: string) {
    this.#files = files;
    this.#dir = dir;
  }

  add(meta: Omit<ConsultEvaluations, 'evaluations'>, evaluation: StoredEvaluation): Promise<void> {
    return this.#queue.run(meta.room, async () => {
      const current = (await this.#read(meta.room)) ?? { ...meta, evaluations: [] };
      const who = personKey(evaluation.by.issuer, evaluation.by.identity);
      if (current.evaluations.some((e) => personKey(e.by.issuer, e.by.identity) === who))
        throw new HuizhenError(ErrorCode.ALREADY_EVALUATED, 'You have already evaluated this consult; thank you.');
      const next: ConsultEvaluations = { ...current, evaluations: [...current.evaluations, evaluation] };
      await this.#files.put(meta.room, FILE_ID, Buffer.from(JSON.stringify(next)));
      // The index follows only what is on disk.
      if (this.#index) (await this.#index).set(meta.room, indexEntry(next));
    });
  }

  async list(roomId: string): Promise<StoredEvaluation[]> {
    await this.#queue.idle(roomId);
    return (await this.#read(roomId))?.evaluations ?? [];
  }

  ratings(): Promise<ReadonlyMap<string, RatingsIndexEntry>> {
    this.#index ??= this.#buildIndex().catch((err: unknown) => {
      // A failed scan is retried by the next caller rather than cached.
      this.#index = undefined;
      throw err;
    });
    return this.#index;
  }

  async #buildIndex(): Promise<Map<string, RatingsIndexEntry>> {
    const index = new Map<string, RatingsIndexEntry>();
    await this.#queue.idle();
    for (const room of (await readdir(this.#dir)).filter((name) => SAFE_ID.test(name))) {
      const stored = await this.#read(room);
      if (stored) index.set(room, indexEntry(stored));
    }
    return index;
  }

  async #read(roomId: string): Promise<ConsultEvaluations | undefined> {
    if (!(await this.#files.list(roomId)).includes(FILE_ID)) return undefined;
    return JSON.parse((await this.#files.get(roomId, FILE_ID)).toString('utf8')) as ConsultEvaluations;
  }
}

function indexEntry(stored: ConsultEvaluations): RatingsIndexEntry {
  return {
    host: stored.host,
    hostIssuer: stored.hostIssuer,
    ratings: stored.evaluations.map(({ overall, audioVideo, communication, waitingTime }) => ({
      overall,
      ...(audioVideo !== undefined ? { audioVideo } : {}),
      ...(communication !== undefined ? { communication } : {}),
      ...(waitingTime !== undefined ? { waitingTime } : {}),
    })),
  };
}
