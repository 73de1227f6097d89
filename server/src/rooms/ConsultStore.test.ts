/** The consult store: async, atomic, and a consult's writes land in the order they were made. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileConsultStore, type ConsultRecord } from './ConsultStore.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'huizhen-consults-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function record(id: string, opinions: number): ConsultRecord {
  return {
    room: {
      id,
      kind: 'consult',
      state: 'active',
      locked: false,
      host: null,
      capacity: 8,
      createdAt: 1,
      startedAt: 2,
      endedAt: null,
    },
    ledger: [],
    // Sizes vary so that, unordered, a small late write could finish before a big early one.
    opinions: Array.from({ length: opinions }, (_, i) => ({
      version: i + 1,
      author: { identity: 'dr', name: 'Dr', role: 'doctor' as const, issuer: 'test' },
      text: 'x'.repeat(i % 2 ? 10 : 50_000),
      writtenAt: i,
    })),
    banned: [],
  };
}

describe('FileConsultStore', () => {
  it('lands writes in order: the last save wins, and load sees it', async () => {
    const store = new FileConsultStore(dir);
    const saves: Promise<void>[] = [];
    for (let n = 40; n >= 1; n--) saves.push(store.save(record('c1', n)));
    // Not awaited: load itself waits for the queued writes of this consult.
    expect((await store.load('c1'))?.opinions).toHaveLength(1);
    await Promise.all(saves);
    expect(readdirSync(dir)).toEqual(['c1.json']);
  });

  it('snapshots the record when save is called', async () => {
    const store = new FileConsultStore(dir);
    const r = record('c2', 1);
    const saved = store.save(r);
    r.room.state = 'ended';
    await saved;
    expect((await store.load('c2'))?.room.state).toBe('active');
    expect(await store.load('unknown')).toBeUndefined();
  });
});
