/**
 * Where record bytes live. The default keeps them on local disk under the
 * storage folder, one folder per room, encrypted at rest with AES-256-GCM
 * (a fresh IV per file; the room and record ids are authenticated with it so
 * a file cannot be swapped between rooms). Writes go to a temporary file and
 * are renamed into place, so a failed upload leaves nothing behind.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export interface RecordStore {
  put(roomId: string, recordId: string, data: Buffer): void;
  get(roomId: string, recordId: string): Buffer;
  delete(roomId: string, recordId: string): void;
  deleteRoom(roomId: string): void;
  /** Record ids stored for a room. */
  list(roomId: string): string[];
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class EncryptedFileStore implements RecordStore {
  readonly #dir: string;
  readonly #key: Buffer;

  constructor(dir: string, key: Buffer) {
    if (key.length !== 32) throw new Error('the records key must be 32 bytes (AES-256)');
    this.#dir = dir;
    this.#key = key;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  put(roomId: string, recordId: string, data: Buffer): void {
    const dir = this.#roomDir(roomId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(`${roomId}/${recordId}`));
    const body = Buffer.concat([cipher.update(data), cipher.final()]);
    const file = this.#file(roomId, recordId);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([iv, cipher.getAuthTag(), body]), { mode: 0o600 });
      renameSync(tmp, file);
    } catch (err) {
      if (existsSync(tmp)) unlinkSync(tmp);
      throw err;
    }
  }

  get(roomId: string, recordId: string): Buffer {
    const blob = readFileSync(this.#file(roomId, recordId));
    const decipher = createDecipheriv('aes-256-gcm', this.#key, blob.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${roomId}/${recordId}`));
    decipher.setAuthTag(blob.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  }

  delete(roomId: string, recordId: string): void {
    rmSync(this.#file(roomId, recordId), { force: true });
  }

  deleteRoom(roomId: string): void {
    rmSync(this.#roomDir(roomId), { recursive: true, force: true });
  }

  list(roomId: string): string[] {
    const dir = this.#roomDir(roomId);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.rec'))
      .map((f) => f.slice(0, -4));
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
