/** What the SRTP transforms share: the RFC 3711 key derivation, the error type and the transform shape. */
import { createCipheriv } from 'node:crypto';

export class SrtpError extends Error {
  override name = 'SrtpError';
}

/**
 * RFC 3711 §4.3.1 key derivation with key_derivation_rate 0: AES-CM keystream
 * over (label ‖ 0⁴⁸) ⊕ salt. A 12-byte AEAD master salt (RFC 7714 §11) is
 * zero-padded on the right to the PRF's 14 bytes, as libsrtp does. A 32-byte
 * master key uses the AES-256 PRF (RFC 6188 §5.1).
 */
export function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7]! ^= label;
  const cipher = createCipheriv(masterKey.length === 32 ? 'aes-256-ctr' : 'aes-128-ctr', masterKey, iv);
  return cipher.update(Buffer.alloc(length));
}

/**
 * One suite's packet transform; the context around it keeps the rollover
 * counters (RTP) and the SRTCP index, so the transform is handed both.
 */
export interface SrtpTransform {
  /** Bytes an SRTP packet has beyond its RTP packet. */
  readonly rtpOverhead: number;
  protectRtp(packet: Buffer, roc: number): Buffer;
  /** Throws SrtpError when authentication fails. */
  unprotectRtp(packet: Buffer, roc: number): Buffer;
  /** `index` is the 31-bit SRTCP index; the packet is sent encrypted (E = 1). */
  protectRtcp(packet: Buffer, index: number): Buffer;
  unprotectRtcp(packet: Buffer): Buffer;
}
