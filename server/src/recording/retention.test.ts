/** Retention: `keep` never deletes; `delete` removes finished recordings older than N days, audited. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditInput } from '../audit/AuditLog.js';
import { createLogger } from '../observability/logger.js';
import { sweepRecordings } from './retention.js';
import type { RecordingMeta } from './storage/metadata.js';
import { RecordingStore } from './storage/RecordingStore.js';

const logger = createLogger({ level: 'error', write: () => undefined });
const DAY = 86_400_000;
let dir: string;
let store: RecordingStore;

const meta = (id: string, ageDays: number, state: RecordingMeta['state'] = 'ready'): RecordingMeta => ({
  version: 1,
  id,
  room: 'r1',
  requestedBy: 'dr',
  startedAt: new Date(Date.now() - ageDays * DAY).toISOString(),
  finishedAt: new Date(Date.now() - ageDays * DAY).toISOString(),
  state,
  spans: [],
  segments: [],
  consent: [],
  failures: 0,
  attempts: 0,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'huizhen-retention-'));
  store = new RecordingStore(dir, randomBytes(32));
  await store.writeMeta(meta('old', 40));
  await store.writeMeta(meta('new', 5));
  await store.writeMeta(meta('old-composing', 40, 'composing'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('sweepRecordings', () => {
  it('keeps everything under keep', async () => {
    const audit: AuditInput[] = [];
    expect(
      await sweepRecordings(
        store,
        { retention: 'keep', retentionDays: 1 },
        { append: (e) => void audit.push(e) },
        logger,
      ),
    ).toBe(0);
    expect((await store.list('r1')).length).toBe(3);
  });

  it('deletes finished recordings past the limit, never one still being composed', async () => {
    const audit: AuditInput[] = [];
    const n = await sweepRecordings(
      store,
      { retention: 'delete', retentionDays: 30 },
      { append: (e) => void audit.push(e) },
      logger,
    );
    expect(n).toBe(1);
    expect((await store.list('r1')).map((m) => m.id).sort()).toEqual(['new', 'old-composing']);
    expect(audit).toEqual([expect.objectContaining({ event: 'recording_deleted', target: 'old', room: 'r1' })]);
  });
});
