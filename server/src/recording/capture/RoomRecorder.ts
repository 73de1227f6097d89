/**
 * The capture of one recording of one room (the `RecordingCapture` the
 * consent workflow drives). While resumed, every track of the room — those
 * published already and those published later — has a TrackSegment writing
 * it; pause() ends them all, resume() starts a new span. Finished segments
 * are encrypted into the store and their plaintext removed.
 *
 * None of this is on the media path: resume() and pause() return at once and
 * the work runs behind them in order. A segment whose ffmpeg crashes is
 * logged, audited (recording_failed), counted and replaced by a new segment
 * of the same track; the call never notices.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import type { AuditSink } from '../../audit/AuditLog.js';
import type { Logger } from '../../observability/logger.js';
import type { ConsentEntry, RecordingCapture, RecordingCaptureContext } from '../RecordingPort.js';
import type { RecordingStore } from '../storage/RecordingStore.js';
import { recordedMs, type RecordingMeta } from '../storage/metadata.js';
import { TrackSegment, type SegmentTrack } from './TrackSegment.js';

/** What the recorder needs of a media room (MediaRoom has it). */
export interface CaptureMedia {
  readonly router: types.Router;
  publishedTracks(): { track: { producer: types.Producer; source: string }; identity: string }[];
  on(
    event: 'trackPublished',
    listener: (track: { producer: types.Producer; source: string }, identity: string) => void,
  ): unknown;
  off(
    event: 'trackPublished',
    listener: (track: { producer: types.Producer; source: string }, identity: string) => void,
  ): unknown;
}

export interface RecorderCounters {
  /** A capture began (+1) or ended (-1). */
  active(delta: number): void;
  restart(): void;
}

export interface RoomRecorderDeps {
  store: RecordingStore;
  /** Queues the composition (durably) once the recording is finished. */
  compose(room: string, id: string): Promise<void>;
  audit: AuditSink;
  logger: Logger;
  counters: RecorderCounters;
  ffmpegPath: string;
  niceness: number;
  /** Consented time after which the capture stops writing for good. */
  maxDurationSec: number;
  /** Where the plaintext of segments being written lives (a private folder is made inside). */
  tempDir?: string;
}

const MAX_RESTARTS_PER_TRACK = 5;
const RESTART_DELAY_MS = 500;

export class RoomRecorder implements RecordingCapture {
  readonly #media: CaptureMedia;
  readonly #deps: RoomRecorderDeps;
  readonly #meta: RecordingMeta;
  readonly #limitReached: (() => void) | undefined;
  /** Segments writing now, by track id. */
  readonly #live = new Map<string, TrackSegment>();
  readonly #restarts = new Map<string, number>();
  /** Every segment's end-of-life work (stop, encrypt, store), so finish() can wait for all of it. */
  readonly #pending = new Set<Promise<void>>();
  #tempDir: Promise<string> | undefined;
  #running = false;
  #finished = false;
  #limitTimer: NodeJS.Timeout | undefined;
  #segmentSeq = 0;
  #metaWrite: Promise<void> = Promise.resolve();
  readonly #onTrack = (track: { producer: types.Producer; source: string }, identity: string) =>
    this.#startTrack({ producer: track.producer, source: track.source, identity });

  constructor(media: CaptureMedia, context: RecordingCaptureContext, deps: RoomRecorderDeps) {
    this.#media = media;
    this.#deps = deps;
    this.#limitReached = context.limitReached;
    this.#meta = {
      version: 1,
      id: context.recordingId,
      room: context.roomId,
      requestedBy: context.requestedBy,
      startedAt: new Date().toISOString(),
      state: 'capturing',
      spans: [],
      segments: [],
      consent: [],
      failures: 0,
      attempts: 0,
    };
    media.router.observer.once('close', () => this.pause());
  }

  get id(): string {
    return this.#meta.id;
  }

  /** Consented time recorded so far, ms. */
  get recordedMs(): number {
    const open = this.#meta.spans.at(-1);
    return recordedMs(this.#meta) + (open && open.endedAt === undefined ? Date.now() - open.startedAt : 0);
  }

  resume(): void {
    if (this.#running || this.#finished || this.#media.router.closed) return;
    const left = this.#deps.maxDurationSec * 1000 - recordedMs(this.#meta);
    if (left <= 0) {
      this.#limitReached?.();
      return;
    }
    this.#running = true;
    if (this.#meta.spans.length === 0) {
      this.#meta.startedAt = new Date().toISOString();
      this.#deps.counters.active(1);
    }
    this.#meta.spans.push({ startedAt: Date.now() });
    this.#restarts.clear();
    this.#media.on('trackPublished', this.#onTrack);
    for (const { track, identity } of this.#media.publishedTracks())
      this.#startTrack({ producer: track.producer, source: track.source, identity });
    this.#limitTimer = setTimeout(() => {
      this.#deps.logger.warn('recording reached its maximum duration', { room: this.#meta.room, recording: this.id });
      this.pause();
      this.#limitReached?.();
    }, left);
    this.#saveMeta();
  }

  pause(): void {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#limitTimer);
    this.#media.off('trackPublished', this.#onTrack);
    const span = this.#meta.spans.at(-1);
    if (span) span.endedAt = Date.now();
    for (const segment of this.#live.values()) void segment.stop();
    this.#live.clear();
    this.#saveMeta();
  }

  async finish(consentHistory: readonly ConsentEntry[]): Promise<string | undefined> {
    if (this.#finished) return this.#meta.segments.length > 0 ? this.id : undefined;
    this.pause();
    this.#finished = true;
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    await this.#metaWrite;
    if (this.#tempDir) await rm(await this.#tempDir, { recursive: true, force: true });
    if (this.#meta.spans.length > 0) this.#deps.counters.active(-1);
    const { room } = this.#meta;
    if (this.#meta.segments.length === 0) {
      await this.#deps.store.delete(room, this.id);
      return undefined;
    }
    this.#meta.consent = [...consentHistory];
    this.#meta.finishedAt = new Date().toISOString();
    this.#meta.state = 'composing';
    await this.#deps.store.writeMeta(this.#meta);
    await this.#deps.compose(room, this.id);
    return this.id;
  }

  /** Test hook: the live segments, by track id. */
  liveSegmentsForTest(): ReadonlyMap<string, TrackSegment> {
    return this.#live;
  }

  #startTrack(track: SegmentTrack): void {
    if (!this.#running || track.producer.closed || this.#live.has(track.producer.id)) return;
    const span = this.#meta.spans.length - 1;
    const segment = new TrackSegment({
      router: this.#media.router,
      track,
      dir: this.#privateDir(),
      id: `s${span}-${++this.#segmentSeq}`,
      ffmpegPath: this.#deps.ffmpegPath,
      niceness: this.#deps.niceness,
    });
    this.#live.set(track.producer.id, segment);
    const work = this.#run(segment, span);
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  /** One segment's whole life: start, run until stopped or crashed, then store; a crash starts a new one. */
  async #run(segment: TrackSegment, span: number): Promise<void> {
    const { track } = segment;
    void segment.start();
    const failure = await segment.ended;
    await segment.stop();
    if (this.#live.get(track.producer.id) === segment) this.#live.delete(track.producer.id);
    await this.#store(segment, span);
    if (failure === undefined) return;
    this.#meta.failures++;
    this.#deps.logger.error('recording capture failed', {
      room: this.#meta.room,
      recording: this.id,
      track: track.producer.id,
      error: failure,
      stderr: segment.stderr.slice(-800),
    });
    this.#deps.audit.append({
      event: 'recording_failed',
      room: this.#meta.room,
      target: this.id,
      details: { track: track.producer.id, kind: segment.kind },
    });
    const n = (this.#restarts.get(track.producer.id) ?? 0) + 1;
    this.#restarts.set(track.producer.id, n);
    if (n > MAX_RESTARTS_PER_TRACK) return;
    await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
    if (!this.#running || span !== this.#meta.spans.length - 1) return;
    this.#deps.counters.restart();
    this.#startTrack(track);
  }

  async #store(segment: TrackSegment, span: number): Promise<void> {
    const { startedAt, endedAt, track } = segment;
    if (startedAt === undefined || !segment.file) return;
    try {
      const bytes = await this.#deps.store.putSegment(this.#meta.room, this.id, segment.id, segment.file);
      if (bytes === 0) {
        this.#deps.logger.warn('recording segment empty', {
          room: this.#meta.room,
          recording: this.id,
          kind: segment.kind,
          stderr: segment.stderr.slice(-600),
        });
        return;
      }
      this.#meta.segments.push({
        id: segment.id,
        span,
        track: track.producer.id,
        identity: track.identity,
        source: track.source,
        kind: segment.kind,
        codec: segment.codec,
        startedAt,
        endedAt: endedAt ?? Date.now(),
        bytes,
      });
      this.#deps.audit.append({
        event: 'recording_segment',
        room: this.#meta.room,
        target: this.id,
        details: { segment: segment.id, kind: segment.kind, bytes, ms: (endedAt ?? Date.now()) - startedAt },
      });
      this.#saveMeta();
    } catch (err) {
      // ffmpeg wrote nothing (no media arrived before the span ended): there is no segment.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        this.#deps.logger.warn('recording segment empty', {
          room: this.#meta.room,
          recording: this.id,
          kind: segment.kind,
          stderr: segment.stderr.slice(-600),
        });
      else
        this.#deps.logger.error('recording segment not stored', {
          room: this.#meta.room,
          recording: this.id,
          error: err as Error,
        });
    } finally {
      if (segment.file) await rm(segment.file, { force: true });
      await rm(segment.file.replace(/\.mkv$/, '.sdp'), { force: true });
    }
  }

  #privateDir(): Promise<string> {
    this.#tempDir ??= mkdtemp(join(this.#deps.tempDir ?? tmpdir(), 'huizhen-rec-'));
    return this.#tempDir;
  }

  /** Metadata writes in order, never blocking the caller. */
  #saveMeta(): void {
    const snapshot = structuredClone(this.#meta);
    this.#metaWrite = this.#metaWrite
      .then(() => this.#deps.store.writeMeta(snapshot))
      .catch((err: unknown) =>
        this.#deps.logger.error('recording metadata not written', { room: snapshot.room, error: err as Error }),
      );
  }
}
