/**
 * The record store off the control thread: a big upload does not stall the
 * event loop, an interrupted write leaves nothing listed or on disk, and
 * what is read back is what was written (and only under its own ids).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EncryptedFileStore } from './RecordStore.js';

const KEY = Buffer.alloc(32, 3);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'huizhen-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The longest gap between ticks of a 5 ms timer while `work` runs: how long the loop was blocked. */
async function longestStall(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(probe);
  }
  return Math.max(longest, performance.now() - last);
}

describe('EncryptedFileStore', () => {
  it('writes a 20 MB record without blocking the event loop, and reads it back', async () => {
    const store = new EncryptedFileStore(dir, KEY);
    const data = randomBytes(20 * 1024 * 1024);
    const stall = await longestStall(() => store.put('room-a', 'big', data));
    // One synchronous encrypt-and-write of 20 MB holds the loop for the whole write; sliced and async,
    // no single step comes near it. The bound is generous for a busy CI machine.
    expect(stall).toBeLessThan(100);
    expect(await store.list('room-a')).toEqual(['big']);
    const readStall = await longestStall(async () => {
      expect((await store.get('room-a', 'big')).equals(data)).toBe(true);
    });
    expect(readStall).toBeLessThan(100);
  });

  it('leaves nothing listed or on disk when the write fails part-way', async () => {
    const store = new EncryptedFileStore(dir, KEY, {
      // A disk that dies after 3 MB: the real file stream is fed until then.
      createWriteStream: (path, options) => {
        const file = createWriteStream(path, options);
        let written = 0;
        return new Writable({
          write(chunk: Buffer, _encoding, done) {
            written += chunk.length;
            if (written > 3 * 1024 * 1024) {
              file.destroy();
              done(new Error('disk failed'));
            } else file.write(chunk, done);
          },
          final(done) {
            file.end(done);
          },
        });
      },
    });
    await expect(store.put('room-b', 'broken', randomBytes(8 * 1024 * 1024))).rejects.toThrow('disk failed');
    expect(await store.list('room-b')).toEqual([]);
    expect(readdirSync(join(dir, 'room-b'))).toEqual([]);
  });

  it('replaces a record atomically and refuses a file moved to other ids', async () => {
    const store = new EncryptedFileStore(dir, KEY);
    await store.put('room-c', 'meta', Buffer.from('first'));
    await store.put('room-c', 'meta', Buffer.from('second, longer'));
    expect((await store.get('room-c', 'meta')).toString()).toBe('second, longer');
    expect(readdirSync(join(dir, 'room-c'))).toEqual(['meta.rec']);
    // The ids are authenticated with the bytes: the same file under another name does not decrypt.
    await store.put('room-c', 'other', Buffer.from('x'));
    const { copyFile } = await import('node:fs/promises');
    await copyFile(join(dir, 'room-c', 'meta.rec'), join(dir, 'room-c', 'other.rec'));
    await expect(store.get('room-c', 'other')).rejects.toThrow();
    await store.deleteRoom('room-c');
    expect(await store.list('room-c')).toEqual([]);
  });
});
