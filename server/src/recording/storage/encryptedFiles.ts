/**
 * Recording files encrypted at rest the way records are (AES-256-GCM, a fresh
 * IV per file, the file's place authenticated with it, layout IV | tag |
 * ciphertext; see records/RecordStore.ts), but streamed: a recording is too
 * big to hold in memory. A file is written to a temporary name, synced and
 * renamed into place, so a half-written file is never taken for a whole one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = IV_BYTES + TAG_BYTES;

export async function encryptStreamTo(source: Readable, dest: string, key: Buffer, aad: string): Promise<number> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const tmp = `${dest}.${randomBytes(4).toString('hex')}.tmp`;
  let bytes = 0;
  source.on('data', (chunk: Buffer) => (bytes += chunk.length));
  try {
    await pipeline(source, cipher, createWriteStream(tmp, { flags: 'wx', mode: 0o600, start: HEADER_BYTES }));
    const handle = await open(tmp, 'r+');
    try {
      await handle.write(Buffer.concat([iv, cipher.getAuthTag()]), 0, HEADER_BYTES, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, dest);
    return bytes;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export function encryptFileTo(plainFile: string, dest: string, key: Buffer, aad: string): Promise<number> {
  return encryptStreamTo(createReadStream(plainFile), dest, key, aad);
}

/** Plaintext size of an encrypted file. */
export async function plainSize(file: string): Promise<number> {
  const handle = await open(file, 'r');
  try {
    return Math.max(0, (await handle.stat()).size - HEADER_BYTES);
  } finally {
    await handle.close();
  }
}

/**
 * A stream of the decrypted bytes. The tag is checked at the end: a tampered
 * file makes the stream fail there, so callers that need certainty before use
 * (the composer) write it out and only then use it.
 */
export async function decryptStream(file: string, key: Buffer, aad: string): Promise<Readable> {
  const handle = await open(file, 'r');
  const header = Buffer.alloc(HEADER_BYTES);
  try {
    const { bytesRead } = await handle.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead !== HEADER_BYTES) throw new Error('recording file is truncated');
  } finally {
    await handle.close();
  }
  const decipher = createDecipheriv('aes-256-gcm', key, header.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(header.subarray(IV_BYTES));
  const input = createReadStream(file, { start: HEADER_BYTES });
  input.on('error', (err) => decipher.destroy(err));
  return input.pipe(decipher);
}

export async function decryptFileTo(file: string, dest: string, key: Buffer, aad: string): Promise<void> {
  await pipeline(await decryptStream(file, key, aad), createWriteStream(dest, { mode: 0o600 }));
}

export function encryptBuffer(data: Buffer, key: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

export function decryptBuffer(data: Buffer, key: Buffer, aad: string): Buffer {
  if (data.length < HEADER_BYTES) throw new Error('recording file is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(data.subarray(IV_BYTES, HEADER_BYTES));
  return Buffer.concat([decipher.update(data.subarray(HEADER_BYTES)), decipher.final()]);
}
