/**
 * The composition queue is durable: a job queued by one process and not
 * finished is composed by the next; a failing composition is retried, then
 * marked failed and audited. (The composition itself is a test double here:
 * this is about the queue; ffmpeg composes in RoomRecorder.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditInput } from '../../audit/AuditLog.js';
import { createLogger } from '../../observability/logger.js';
import type { RecordingMeta } from '../storage/metadata.js';
import { RecordingStore } from '../storage/RecordingStore.js';
import { CompositionQueue } from './CompositionQueue.js';

const logger = createLogger({ level: 'error', write: () => undefined });
let dir: string;
let store: RecordingStore;

const meta = (id: string): RecordingMeta => ({
  version: 1,
  id,
  room: 'r1',
  requestedBy: 'dr',
  startedAt: new Date().toISOString(),
  state: 'composing',
  spans: [{ startedAt: 1, endedAt: 2 }],
  segments: [],
  consent: [],
  failures: 0,
  attempts: 0,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'huizhen-queue-'));
  store = new RecordingStore(join(dir, 'recordings'), randomBytes(32));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function queue(compose: (m: RecordingMeta) => Promise<{ bytes: number; durationSec: number }>, audit: AuditInput[]) {
  return new CompositionQueue({
    dir: join(dir, 'queue'),
    store,
    compose,
    audit: { append: (e) => void audit.push(e) },
    logger,
    counters: { pending: () => undefined, outcome: () => undefined },
    maxAttempts: 2,
    retryDelayMs: 50,
  });
}

describe('CompositionQueue', () => {
  it('resumes a job an earlier process left on disk', async () => {
    await store.writeMeta(meta('rec-1'));
    const audit: AuditInput[] = [];
    // The first process queues and goes away before composing (closed at once).
    const first = queue(() => new Promise(() => undefined), audit);
    first.close();
    await first.enqueue('r1', 'rec-1');
    expect(await readdir(join(dir, 'queue'))).toEqual(['r1~rec-1.job']);

    const second = queue(async () => ({ bytes: 10, durationSec: 1 }), audit);
    second.kick();
    await second.idle();
    expect((await store.readMeta('r1', 'rec-1'))?.state).toBe('ready');
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
    expect(audit.map((e) => e.event)).toEqual(['recording_ready']);
  });

  it('retries a failing composition, then marks the recording failed', async () => {
    await store.writeMeta(meta('rec-2'));
    const audit: AuditInput[] = [];
    let calls = 0;
    const q = queue(async () => {
      calls++;
      throw new Error('ffmpeg failed');
    }, audit);
    await q.enqueue('r1', 'rec-2');
    const deadline = Date.now() + 10_000;
    while ((await store.readMeta('r1', 'rec-2'))?.state !== 'failed' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await q.idle();
    q.close();
    expect(calls).toBe(2);
    expect((await store.readMeta('r1', 'rec-2'))?.state).toBe('failed');
    expect(audit).toEqual([expect.objectContaining({ event: 'recording_failed', details: { stage: 'compose' } })]);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
  });
});
