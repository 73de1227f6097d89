/**
 * Where recordings live: `<dir>/<room>/<recording>/` holds `meta.enc` (the
 * metadata, encrypted: it names people), one `<segment>.seg` per track and
 * span, and `composed.enc` once the composition is done. Everything is
 * encrypted under the recordings key; each file's path is authenticated with
 * it, so files cannot be swapped between recordings or rooms.
 */
import { mkdirSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import * as z from 'zod/mini';
import {
  decryptBuffer,
  decryptFileTo,
  decryptStream,
  encryptBuffer,
  encryptFileTo,
  encryptStreamTo,
} from './encryptedFiles.js';
import { recordingMetaSchema, type RecordingMeta } from './metadata.js';

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class RecordingStore {
  readonly #dir: string;
  readonly #key: Buffer;

  constructor(dir: string, key: Buffer) {
    if (key.length !== 32) throw new Error('the recordings key must be 32 bytes (AES-256)');
    this.#dir = dir;
    this.#key = key;
    // Startup only.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async writeMeta(meta: RecordingMeta): Promise<void> {
    const dir = this.#recordingDir(meta.room, meta.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'meta.enc');
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(
      tmp,
      encryptBuffer(Buffer.from(JSON.stringify(meta)), this.#key, this.#aad(meta.room, meta.id, 'meta')),
      {
        mode: 0o600,
        flag: 'wx',
      },
    );
    await rename(tmp, file);
  }

  async readMeta(room: string, id: string): Promise<RecordingMeta | undefined> {
    let data: Buffer;
    try {
      data = await readFile(join(this.#recordingDir(room, id), 'meta.enc'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const json: unknown = JSON.parse(decryptBuffer(data, this.#key, this.#aad(room, id, 'meta')).toString('utf8'));
    return z.parse(recordingMetaSchema, json);
  }

  /** The recordings of a room that have metadata, oldest first. */
  async list(room: string): Promise<RecordingMeta[]> {
    let ids: string[];
    try {
      ids = await readdir(this.#roomDir(room));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const metas = await Promise.all(ids.filter((id) => SAFE_ID.test(id)).map((id) => this.readMeta(room, id)));
    return metas.filter((m): m is RecordingMeta => !!m).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** Every room with recordings (for retention). */
  async rooms(): Promise<string[]> {
    return (await readdir(this.#dir)).filter((r) => SAFE_ID.test(r));
  }

  /** Encrypts a finished plaintext segment into the store; returns its plaintext size. */
  async putSegment(room: string, id: string, segment: string, plainFile: string): Promise<number> {
    await this.#ensure(room, id);
    return encryptFileTo(plainFile, this.#file(room, id, segment, 'seg'), this.#key, this.#aad(room, id, segment));
  }

  getSegmentTo(room: string, id: string, segment: string, dest: string): Promise<void> {
    return decryptFileTo(this.#file(room, id, segment, 'seg'), dest, this.#key, this.#aad(room, id, segment));
  }

  async putComposed(room: string, id: string, plainFile: string): Promise<number> {
    await this.#ensure(room, id);
    return encryptFileTo(
      plainFile,
      this.#file(room, id, 'composed', 'enc'),
      this.#key,
      this.#aad(room, id, 'composed'),
    );
  }

  composedStream(room: string, id: string): Promise<Readable> {
    return decryptStream(this.#file(room, id, 'composed', 'enc'), this.#key, this.#aad(room, id, 'composed'));
  }

  async hasComposed(room: string, id: string): Promise<boolean> {
    return stat(this.#file(room, id, 'composed', 'enc')).then(
      () => true,
      () => false,
    );
  }

  /** Raw stream encryption (tests, imports). */
  async putStream(room: string, id: string, name: string, source: Readable): Promise<number> {
    await this.#ensure(room, id);
    return encryptStreamTo(source, this.#file(room, id, name, 'seg'), this.#key, this.#aad(room, id, name));
  }

  async delete(room: string, id: string): Promise<void> {
    await rm(this.#recordingDir(room, id), { recursive: true, force: true });
  }

  async #ensure(room: string, id: string): Promise<void> {
    await mkdir(this.#recordingDir(room, id), { recursive: true, mode: 0o700 });
  }

  #aad(room: string, id: string, name: string): string {
    return `recording/${room}/${id}/${name}`;
  }

  #roomDir(room: string): string {
    if (!SAFE_ID.test(room)) throw new Error('invalid room id');
    return join(this.#dir, room);
  }

  #recordingDir(room: string, id: string): string {
    if (!SAFE_ID.test(id)) throw new Error('invalid recording id');
    return join(this.#roomDir(room), id);
  }

  #file(room: string, id: string, name: string, ext: string): string {
    if (!SAFE_ID.test(name)) throw new Error('invalid recording file name');
    return join(this.#recordingDir(room, id), `${name}.${ext}`);
  }
}
