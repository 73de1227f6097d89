/**
 * Where record bytes live. The default keeps them on local disk under the
 * storage folder, one folder per room, encrypted at rest with AES-256-GCM
 * (a fresh IV per file; the room and record ids are authenticated with it so
 * a file cannot be swapped between rooms).
 *
 * Everything is asynchronous: a 25 MB upload must not stall the control
 * thread that carries every room's signaling. Bytes are encrypted in slices
 * on their way to a temporary file (no second copy of the upload is held),
 * which is synced and renamed into place only when complete — a failed or
 * interrupted write never leaves a listed record behind.
 *
 * File layout: IV (12 bytes) | GCM tag (16 bytes) | ciphertext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface RecordStore {
  /** Resolves once the record is completely on disk; until then it is not listed. */
  put(roomId: string, recordId: string, data: Buffer): Promise<void>;
  get(roomId: string, recordId: string): Promise<Buffer>;
  delete(roomId: string, recordId: string): Promise<void>;
  deleteRoom(roomId: string): Promise<void>;
  /** Record ids stored for a room. */
  list(roomId: string): Promise<string[]>;
}

export interface EncryptedFileStoreOptions {
  /** Opens the temporary file's byte stream; tests substitute one that fails part-way. */
  createWriteStream?: (path: string, options: { flags: string; mode: number; start: number }) => Writable;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = IV_BYTES + TAG_BYTES;
/** Encryption works on slices this big, yielding to the event loop between them. */
const SLICE_BYTES = 1024 * 1024;

export class EncryptedFileStore implements RecordStore {
  readonly #dir: string;
  readonly #key: Buffer;
  readonly #createWriteStream: NonNullable<EncryptedFileStoreOptions['createWriteStream']>;

  constructor(dir: string, key: Buffer, options: EncryptedFileStoreOptions = {}) {
    if (key.length !== 32) throw new Error('the records key must be 32 bytes (AES-256)');
    this.#dir = dir;
    this.#key = key;
    this.#createWriteStream = options.createWriteStream ?? createWriteStream;
    // Startup only: the storage folder exists before the first request.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  async put(roomId: string, recordId: string, data: Buffer): Promise<void> {
    const file = this.#file(roomId, recordId);
    await mkdir(this.#roomDir(roomId), { recursive: true, mode: 0o700 });
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`${roomId}/${recordId}`));
    // Not ending in `.rec`, so `list` never sees it.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      // The ciphertext goes after the header; the header is written once the tag is known.
      await pipeline(
        Readable.from(slices(data)),
        cipher,
        this.#createWriteStream(tmp, { flags: 'wx', mode: 0o600, start: HEADER_BYTES }),
      );
      const handle = await open(tmp, 'r+');
      try {
        await handle.write(Buffer.concat([iv, cipher.getAuthTag()]), 0, HEADER_BYTES, 0);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(roomId: string, recordId: string): Promise<Buffer> {
    const file = this.#file(roomId, recordId);
    const handle = await open(file, 'r');
    let header: Buffer;
    let size: number;
    try {
      size = (await handle.stat()).size;
      header = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
      if (bytesRead !== HEADER_BYTES) throw new Error('record file is truncated');
    } finally {
      await handle.close();
    }
    const decipher = createDecipheriv('aes-256-gcm', this.#key, header.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${roomId}/${recordId}`));
    decipher.setAuthTag(header.subarray(IV_BYTES));
    // Decrypted straight into one buffer of the final size: one copy of the plaintext, nothing more.
    const out = Buffer.allocUnsafe(size - HEADER_BYTES);
    let filled = 0;
    await pipeline(
      createReadStream(file, { start: HEADER_BYTES, highWaterMark: SLICE_BYTES }),
      decipher,
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          filled += chunk.copy(out, filled);
          done();
        },
      }),
    );
    // GCM has verified the tag by now (the pipeline rejects otherwise).
    return out.subarray(0, filled);
  }

  async delete(roomId: string, recordId: string): Promise<void> {
    await rm(this.#file(roomId, recordId), { force: true });
  }

  async deleteRoom(roomId: string): Promise<void> {
    await rm(this.#roomDir(roomId), { recursive: true, force: true });
  }

  async list(roomId: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.#roomDir(roomId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((f) => f.endsWith('.rec')).map((f) => f.slice(0, -4));
  }

  #roomDir(roomId: string): string {
    if (!SAFE_ID.test(roomId)) throw new Error('invalid room id');
    return join(this.#dir, roomId);
  }

  #file(roomId: string, recordId: string): string {
    if (!SAFE_ID.test(recordId)) throw new Error('invalid record id');
    return join(this.#roomDir(roomId), `${recordId}.rec`);
  }
}

/** Views (not copies) of `data`, one slice at a time. */
function* slices(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += SLICE_BYTES) yield data.subarray(at, at + SLICE_BYTES);
}
