/**
 * Recording on this node: the encrypted store, the capture factory rooms are
 * given, the durable composition queue (resumed at start), and retention.
 * Made by HuizhenServer; absent when recording is off or ffmpeg is missing.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AuditSink } from '../audit/AuditLog.js';
import type { Logger } from '../observability/logger.js';
import type { MediaRoom } from '../rooms/media/MediaRoom.js';
import { RoomRecorder } from './capture/RoomRecorder.js';
import { compose } from './compose/Composer.js';
import { CompositionQueue } from './compose/CompositionQueue.js';
import { ffprobeBeside } from './compose/ffprobe.js';
import type { RecordingConfig } from './recordingConfig.js';
import type { RecordingMetrics } from './recordingMetrics.js';
import type { RecordingCaptureFactory } from './RecordingPort.js';
import { sweepRecordings } from './retention.js';
import { RecordingStore } from './storage/RecordingStore.js';

export interface RecordingServiceOptions {
  config: RecordingConfig;
  /** storage.dir: recordings go in its `recordings/` folder, the job queue in `recordings-queue/`. */
  storageDir: string;
  key: Buffer;
  audit: AuditSink;
  logger: Logger;
  metrics: RecordingMetrics;
}

const SWEEP_MS = 3600_000;

export class RecordingService {
  readonly store: RecordingStore;
  readonly queue: CompositionQueue;
  readonly config: RecordingConfig;
  readonly capture: RecordingCaptureFactory<MediaRoom>;
  readonly #sweep: NodeJS.Timeout;

  private constructor(options: RecordingServiceOptions) {
    const { config, audit, logger, metrics } = options;
    this.config = config;
    this.store = new RecordingStore(join(options.storageDir, 'recordings'), options.key);
    const ffprobePath = ffprobeBeside(config.ffmpegPath);
    this.queue = new CompositionQueue({
      dir: join(options.storageDir, 'recordings-queue'),
      store: this.store,
      compose: (meta) =>
        compose(meta, { store: this.store, ffmpegPath: config.ffmpegPath, ffprobePath, niceness: config.niceness }),
      audit,
      logger,
      counters: metrics.composition,
    });
    this.capture = (media, context) =>
      new RoomRecorder(media, context, {
        store: this.store,
        compose: (room, id) => this.queue.enqueue(room, id),
        audit,
        logger: logger.child({ room: context.roomId }),
        counters: metrics.recorder,
        ffmpegPath: config.ffmpegPath,
        niceness: config.niceness,
        maxDurationSec: config.maxDurationSec,
      });
    const sweep = () =>
      void sweepRecordings(this.store, config, audit, logger).catch((err: unknown) =>
        logger.error('recording retention failed', { error: err as Error }),
      );
    sweep();
    this.#sweep = setInterval(sweep, SWEEP_MS);
    this.#sweep.unref();
    // Compositions an earlier process queued and did not finish, and recordings it was still
    // capturing when it stopped (their stored segments are composed; nothing else can finish them).
    void this.#adoptInterrupted(logger)
      .catch((err: unknown) => logger.error('interrupted recordings not recovered', { error: err as Error }))
      .finally(() => this.queue.kick());
  }

  async #adoptInterrupted(logger: Logger): Promise<void> {
    for (const room of await this.store.rooms()) {
      for (const meta of await this.store.list(room)) {
        if (meta.state !== 'capturing') continue;
        const lastEnd = Math.max(meta.spans.at(-1)?.startedAt ?? 0, ...meta.segments.map((s) => s.endedAt));
        const open = meta.spans.at(-1);
        if (open && open.endedAt === undefined) open.endedAt = lastEnd;
        if (meta.segments.length === 0) {
          await this.store.delete(room, meta.id);
          continue;
        }
        meta.state = 'composing';
        meta.finishedAt = new Date(lastEnd).toISOString();
        await this.store.writeMeta(meta);
        await this.queue.enqueue(room, meta.id);
        logger.warn('recording interrupted by a restart: composing what was stored', { room, recording: meta.id });
      }
    }
  }

  /** The service, or undefined (with the reason logged) when this node cannot record. */
  static create(options: RecordingServiceOptions): RecordingService | undefined {
    const { config, logger } = options;
    if (!config.enabled) return undefined;
    const probe = spawnSync(config.ffmpegPath, ['-hide_banner', '-version'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.status !== 0) {
      logger.warn('recording is unavailable: ffmpeg cannot be run; recording requests will be refused', {
        ffmpegPath: config.ffmpegPath,
      });
      return undefined;
    }
    return new RecordingService(options);
  }

  close(): void {
    clearInterval(this.#sweep);
    this.queue.close();
  }
}
