/**
 * The recorder with the real mediasoup worker and real ffmpeg, no browser:
 * ffmpeg publishes a moving test pattern and a tone into the room; the
 * recorder captures resume → pause → resume (with an ffmpeg crash in the
 * middle) → finish; the composition job composes; the composed file has
 * video and audio, lasts the consented time (the paused gap is absent), and
 * its frames are not blank.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditInput } from '../../audit/AuditLog.js';
import { WorkerPool } from '../../media/WorkerPool.js';
import { createLogger } from '../../observability/logger.js';
import { MediaRoom } from '../../rooms/media/MediaRoom.js';
import {
  frameStats,
  hasPicture,
  maxVolume,
  publishTestMedia,
  type TestPublisher,
} from '../../testing/recordingMedia.js';
import { compose } from '../compose/Composer.js';
import { CompositionQueue } from '../compose/CompositionQueue.js';
import { ffprobe } from '../compose/ffprobe.js';
import { RecordingStore } from '../storage/RecordingStore.js';
import { createRecordingMetrics } from '../recordingMetrics.js';
import { RecordingService } from '../RecordingService.js';
import { RoomRecorder } from './RoomRecorder.js';

const logger = createLogger({ level: 'warn' });

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('RoomRecorder (real worker, real ffmpeg)', () => {
  let pool: WorkerPool;
  let media: MediaRoom;
  let publisher: TestPublisher;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'huizhen-rec-test-'));
    pool = await WorkerPool.create({
      workers: 1,
      logLevel: 'warn',
      listenIp: '127.0.0.1',
      announcedAddress: null,
      port: 0,
      logger,
    });
    media = await MediaRoom.create(
      'rec-room',
      pool,
      { maxIncomingBitrate: 1_500_000, initialOutgoingBitrate: 600_000 },
      logger,
    );
    publisher = await publishTestMedia(media, 'patient-1');
  });

  afterAll(async () => {
    publisher?.stop();
    media?.close();
    pool?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('captures consented spans only, survives an ffmpeg crash, and composes a playable file', async () => {
    const audit: AuditInput[] = [];
    const sink = { append: (e: AuditInput) => void audit.push(e) };
    const store = new RecordingStore(join(dir, 'recordings'), randomBytes(32));
    const counts = { active: 0, restarts: 0, done: 0, failed: 0 };
    const queue = new CompositionQueue({
      dir: join(dir, 'queue'),
      store,
      compose: (meta) =>
        compose(meta, { store, ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', niceness: 10, tempDir: dir }),
      audit: sink,
      logger,
      counters: {
        pending: () => undefined,
        outcome: (r) => void (r === 'done' ? counts.done++ : r === 'failed' && counts.failed++),
      },
      retryDelayMs: 1000,
    });
    const tempDir = join(dir, 'capture-tmp');
    await import('node:fs/promises').then((fs) => fs.mkdir(tempDir));
    const recorder = new RoomRecorder(
      media,
      { roomId: 'rec-room', recordingId: 'rec1', requestedBy: 'doctor-1' },
      {
        store,
        compose: (room, id) => queue.enqueue(room, id),
        audit: sink,
        logger,
        counters: { active: (d) => (counts.active += d), restart: () => counts.restarts++ },
        ffmpegPath: '/usr/bin/ffmpeg',
        niceness: 10,
        maxDurationSec: 3600,
        tempDir,
      },
    );
    const flowing = () =>
      recorder.liveSegmentsForTest().size === 2 &&
      [...recorder.liveSegmentsForTest().values()].every((s) => s.startedAt !== undefined);

    // Span 1.
    recorder.resume();
    expect(counts.active).toBe(1);
    await until('both tracks captured', flowing);
    // Plaintext exists only in the recorder's private folder while ffmpeg writes.
    await until('ffmpeg writing', async () =>
      (await readdir(tempDir, { recursive: true })).some((f) => f.endsWith('.mkv')),
    );
    await new Promise((r) => setTimeout(r, 3000));
    recorder.pause();
    const gapStart = Date.now();
    // Paused: nothing is written.
    await until('segments stored', () => audit.filter((e) => e.event === 'recording_segment').length === 2);
    await new Promise((r) => setTimeout(r, 2500));
    const gapMs = Date.now() - gapStart;

    // Span 2, with the video recorder crashing part-way: restarted, the call untouched.
    recorder.resume();
    await until('both tracks captured again', flowing);
    await new Promise((r) => setTimeout(r, 1500));
    const video = [...recorder.liveSegmentsForTest().values()].find((s) => s.kind === 'video')!;
    video.crashForTest();
    await until('the video capture restarted', () => {
      const v = [...recorder.liveSegmentsForTest().values()].find((s) => s.kind === 'video');
      return !!v && v !== video && v.startedAt !== undefined;
    });
    expect(counts.restarts).toBe(1);
    expect(audit.some((e) => e.event === 'recording_failed' && e.details?.kind === 'video')).toBe(true);
    await new Promise((r) => setTimeout(r, 2500));
    const id = await recorder.finish([
      { time: new Date().toISOString(), identity: 'doctor-1', event: 'requested' },
      { time: new Date().toISOString(), identity: 'patient-1', event: 'consented' },
    ]);
    expect(id).toBe('rec1');
    expect(counts.active).toBe(0);
    // No plaintext left behind.
    expect(await readdir(tempDir)).toEqual([]);

    await until('composed', async () => (await store.readMeta('rec-room', 'rec1'))?.state === 'ready', 180_000);
    await queue.idle();
    const meta = (await store.readMeta('rec-room', 'rec1'))!;
    expect(meta.spans).toHaveLength(2);
    // The restarted video capture is there (what the crashed one had not flushed yet is lost with it).
    const spanTwoVideo = meta.segments.filter((s) => s.kind === 'video' && s.span === 1);
    expect(spanTwoVideo.length).toBeGreaterThanOrEqual(1);
    expect(spanTwoVideo.at(-1)!.startedAt).toBeGreaterThan(meta.spans[1]!.startedAt);
    expect(meta.consent.map((c) => c.event)).toEqual(['requested', 'consented']);
    expect(audit.some((e) => e.event === 'recording_ready' && e.target === 'rec1')).toBe(true);
    const consentedSec = meta.spans.reduce((t, s) => t + (s.endedAt! - s.startedAt), 0) / 1000;

    const out = join(dir, 'composed.webm');
    await pipeline(await store.composedStream('rec-room', 'rec1'), createWriteStream(out));
    const probe = await ffprobe('ffprobe', out);
    expect(probe.streams.map((s) => s.kind).sort()).toEqual(['audio', 'video']);
    expect(Math.abs(probe.durationSec - consentedSec)).toBeLessThan(0.6);
    // The gap is absent: the file is shorter than the wall-clock time by about the pause.
    const wallSec = (meta.spans[1]!.endedAt! - meta.spans[0]!.startedAt) / 1000;
    expect(wallSec - probe.durationSec).toBeGreaterThan(gapMs / 1000 - 0.6);
    // Frames show the moving test pattern, not black padding or a frozen picture; each span
    // does for most of its time (span 2 loses a little to the crash and restart).
    const frames = await frameStats(out);
    expect(frames.length).toBeGreaterThan(consentedSec * 10);
    const fps = frames.length / probe.durationSec;
    const firstSpanFrames = Math.floor(((meta.spans[0]!.endedAt! - meta.spans[0]!.startedAt) / 1000) * fps);
    const shown = (list: typeof frames) => list.filter(hasPicture).length / list.length;
    expect(shown(frames.slice(0, firstSpanFrames))).toBeGreaterThan(0.6);
    expect(shown(frames.slice(firstSpanFrames))).toBeGreaterThan(0.3);
    const moving = frames.filter((f) => hasPicture(f) && f.ydif > 0.5).length / frames.filter(hasPicture).length;
    expect(moving).toBeGreaterThan(0.5);
    // The tone is heard.
    expect(await maxVolume(out)).toBeGreaterThan(-30);
  }, 300_000);

  it('composes, at the next start, a recording the process was capturing when it stopped', async () => {
    const key = randomBytes(32);
    const storageDir = join(dir, 'restart');
    const audit: AuditInput[] = [];
    const sink = { append: (e: AuditInput) => void audit.push(e) };
    const store = new RecordingStore(join(storageDir, 'recordings'), key);
    const recorder = new RoomRecorder(
      media,
      { roomId: 'rec-room', recordingId: 'rec2', requestedBy: 'doctor-1' },
      {
        store,
        compose: () => Promise.reject(new Error('this process never gets to finish')),
        audit: sink,
        logger,
        counters: { active: () => undefined, restart: () => undefined },
        ffmpegPath: '/usr/bin/ffmpeg',
        niceness: 10,
        maxDurationSec: 3600,
        tempDir: dir,
      },
    );
    recorder.resume();
    await until(
      'both tracks captured',
      () =>
        recorder.liveSegmentsForTest().size === 2 &&
        [...recorder.liveSegmentsForTest().values()].every((s) => s.startedAt !== undefined),
    );
    await new Promise((r) => setTimeout(r, 3000));
    // The segments are stored as they end; the process then "stops" without finish().
    recorder.pause();
    await until('segments stored', () => audit.filter((e) => e.event === 'recording_segment').length === 2);
    await until('metadata written', async () => (await store.readMeta('rec-room', 'rec2'))?.segments.length === 2);

    const next = RecordingService.create({
      config: {
        enabled: true,
        ffmpegPath: '/usr/bin/ffmpeg',
        niceness: 10,
        urlTtlSec: 60,
        retention: 'keep',
        retentionDays: 30,
        maxDurationSec: 3600,
      },
      storageDir,
      key,
      audit: sink,
      logger,
      metrics: createRecordingMetrics(),
    })!;
    try {
      await until(
        'composed after the restart',
        async () => (await next.store.readMeta('rec-room', 'rec2'))?.state === 'ready',
        180_000,
      );
      const meta = (await next.store.readMeta('rec-room', 'rec2'))!;
      expect(meta.composed!.durationSec).toBeGreaterThan(2);
      expect(audit.some((e) => e.event === 'recording_ready' && e.target === 'rec2')).toBe(true);
    } finally {
      await next.queue.idle();
      next.close();
    }
  }, 300_000);
  it('stops writing at the maximum duration and says so, once per attempt to go on', async () => {
    const store = new RecordingStore(join(dir, 'recordings-limit'), randomBytes(32));
    let limits = 0;
    const recorder = new RoomRecorder(
      media,
      { roomId: 'rec-room', recordingId: 'rec3', requestedBy: 'doctor-1', limitReached: () => limits++ },
      {
        store,
        compose: () => Promise.resolve(),
        audit: { append: () => undefined },
        logger,
        counters: { active: () => undefined, restart: () => undefined },
        ffmpegPath: '/usr/bin/ffmpeg',
        niceness: 10,
        maxDurationSec: 3,
        tempDir: dir,
      },
    );
    const started = Date.now();
    recorder.resume();
    await until('the limit', () => limits === 1, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3_000);
    expect(recorder.liveSegmentsForTest().size).toBe(0);
    // Consent coming back later does not start another span past the limit.
    recorder.resume();
    expect(limits).toBe(2);
    expect(recorder.liveSegmentsForTest().size).toBe(0);
    expect(await recorder.finish([])).toBe('rec3');
    const meta = (await store.readMeta('rec-room', 'rec3'))!;
    expect(meta.spans).toHaveLength(1);
    expect(meta.segments.length).toBeGreaterThan(0);
  }, 60_000);
});
