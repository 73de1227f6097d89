/**
 * The background job that composes finished recordings, durable on disk: a
 * job is a small file in the queue folder (room and recording ids only)
 * written before finish() returns and removed only once the recording is
 * ready or has failed for good, so a restart picks up where it stopped. One
 * composition runs at a time: they are CPU-heavy and the calls come first.
 */
import { mkdirSync } from 'node:fs';
import { readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';
import type { AuditSink } from '../../audit/AuditLog.js';
import type { Logger } from '../../observability/logger.js';
import type { RecordingStore } from '../storage/RecordingStore.js';
import type { Composed } from './Composer.js';
import type { RecordingMeta } from '../storage/metadata.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const jobSchema = z.strictObject({ room: z.string().check(z.regex(ID)), id: z.string().check(z.regex(ID)) });

export interface CompositionCounters {
  pending(n: number): void;
  outcome(result: 'done' | 'failed' | 'retry'): void;
}

export interface CompositionQueueOptions {
  dir: string;
  store: RecordingStore;
  compose(meta: RecordingMeta): Promise<Composed>;
  audit: AuditSink;
  logger: Logger;
  counters: CompositionCounters;
  /** Attempts before a recording is marked failed. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

export class CompositionQueue {
  readonly #o: CompositionQueueOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #idleWaiters: (() => void)[] = [];

  constructor(options: CompositionQueueOptions) {
    this.#o = options;
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  /** Queues a recording (durably: on disk when this resolves) and starts the worker. */
  async enqueue(room: string, id: string): Promise<void> {
    const file = this.#file(room, id);
    await writeFile(`${file}.tmp`, JSON.stringify({ room, id }), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    this.kick();
  }

  /** Works through whatever is queued (also what an earlier process left). */
  kick(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      } else for (const w of this.#idleWaiters.splice(0)) w();
    });
  }

  /** Resolves when nothing is being composed (tests; shutdown). */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
  }

  async #jobs(): Promise<{ room: string; id: string; file: string }[]> {
    const names = (await readdir(this.#o.dir)).filter((n) => n.endsWith('.job')).sort();
    const jobs: { room: string; id: string; file: string }[] = [];
    for (const name of names) {
      const file = join(this.#o.dir, name);
      try {
        jobs.push({ ...z.parse(jobSchema, JSON.parse(await readFile(file, 'utf8'))), file });
      } catch (err) {
        this.#o.logger.error('unreadable composition job dropped', { job: name, error: err as Error });
        await rm(file, { force: true });
      }
    }
    return jobs;
  }

  async #drain(): Promise<void> {
    const jobs = await this.#jobs();
    this.#o.counters.pending(jobs.length);
    let retry = false;
    for (const job of jobs) {
      if (this.#closed) return;
      const outcome = await this.#run(job.room, job.id);
      if (outcome === 'retry') retry = true;
      else await rm(job.file, { force: true });
      this.#o.counters.outcome(outcome);
      this.#o.counters.pending((await this.#jobs()).length);
    }
    if (retry && !this.#closed) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.kick(), this.#o.retryDelayMs ?? 60_000);
      this.#retryTimer.unref();
    }
  }

  async #run(room: string, id: string): Promise<'done' | 'failed' | 'retry'> {
    const { store, logger, audit } = this.#o;
    const meta = await store.readMeta(room, id).catch(() => undefined);
    if (!meta) return 'failed';
    if (meta.state === 'ready') return 'done';
    meta.attempts++;
    await store.writeMeta(meta);
    try {
      const started = Date.now();
      const composed = await this.#o.compose(meta);
      meta.state = 'ready';
      meta.composed = composed;
      await store.writeMeta(meta);
      logger.info('recording composed', {
        room,
        recording: id,
        ms: Date.now() - started,
        durationSec: composed.durationSec,
      });
      audit.append({
        event: 'recording_ready',
        room,
        target: id,
        details: {
          durationSec: Math.round(composed.durationSec),
          tracks: new Set(meta.segments.map((s) => s.track)).size,
        },
      });
      return 'done';
    } catch (err) {
      const final = meta.attempts >= (this.#o.maxAttempts ?? 3);
      logger.error('recording composition failed', {
        room,
        recording: id,
        attempt: meta.attempts,
        error: err as Error,
      });
      if (!final) return 'retry';
      meta.state = 'failed';
      await store.writeMeta(meta);
      audit.append({ event: 'recording_failed', room, target: id, details: { stage: 'compose' } });
      return 'failed';
    }
  }

  #file(room: string, id: string): string {
    if (!ID.test(room) || !ID.test(id)) throw new Error('invalid recording job');
    return join(this.#o.dir, `${room}~${id}.job`);
  }
}
