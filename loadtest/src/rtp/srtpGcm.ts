/**
 * The AEAD_AES_128_GCM and AEAD_AES_256_GCM transforms (RFC 7714) on Node's
 * crypto (aes-128-gcm, aes-256-gcm; the key length picks):
 * the RTP header (with CSRCs and extension) is the associated data, the
 * payload is encrypted, and a 16-byte tag follows. SRTCP authenticates the
 * first 8 bytes and the E flag + index (RFC 7714 §9), and sends
 * header ‖ ciphertext ‖ tag ‖ E+index.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { rtpHeaderLength } from './rtp.js';
import { derive, SrtpError, type SrtpTransform } from './srtpKdf.js';

export const GCM_TAG_BYTES = 16;
const SRTCP_INDEX_BYTES = 4;
const SALT_BYTES = 12;

export interface GcmSessionKeys {
  key: Buffer;
  /** 12 bytes. */
  salt: Buffer;
}

/** RFC 7714 §8.1: IV = (0⁰¹⁶ ‖ SSRC ‖ ROC ‖ SEQ) ⊕ salt. */
export function gcmRtpIv(salt: Buffer, ssrc: number, roc: number, seq: number): Buffer {
  const iv = Buffer.alloc(SALT_BYTES);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(roc >>> 0, 6);
  iv.writeUInt16BE(seq & 0xffff, 10);
  for (let i = 0; i < SALT_BYTES; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/** RFC 7714 §9.1: IV = (0⁰¹⁶ ‖ SSRC ‖ 0⁰¹⁶ ‖ 0 ‖ SRTCP index) ⊕ salt. */
export function gcmRtcpIv(salt: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(SALT_BYTES);
  iv.writeUInt32BE(ssrc >>> 0, 2);
  iv.writeUInt32BE(index & 0x7fffffff, 8);
  for (let i = 0; i < SALT_BYTES; i++) iv[i]! ^= salt[i]!;
  return iv;
}

/** The session keys RFC 3711's KDF gives for a 16- or 32-byte master key and 12-byte master salt. */
export function gcmSessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): GcmSessionKeys {
  const base = rtcp ? 3 : 0;
  return {
    key: derive(masterKey, masterSalt, base, masterKey.length),
    salt: derive(masterKey, masterSalt, base + 2, SALT_BYTES),
  };
}

const algorithm = (key: Buffer): 'aes-128-gcm' | 'aes-256-gcm' => (key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm');

export class GcmTransform implements SrtpTransform {
  readonly rtpOverhead = GCM_TAG_BYTES;
  readonly #rtp: GcmSessionKeys;
  readonly #rtcp: GcmSessionKeys;

  /** From the master key and salt, or (`sessionKeys`) from session keys directly, as RFC 7714 §16's vectors give them. */
  constructor(masterKey: Buffer, masterSalt: Buffer);
  constructor(sessionKeys: { rtp: GcmSessionKeys; rtcp: GcmSessionKeys });
  constructor(a: Buffer | { rtp: GcmSessionKeys; rtcp: GcmSessionKeys }, masterSalt?: Buffer) {
    if (Buffer.isBuffer(a)) {
      this.#rtp = gcmSessionKeys(a, masterSalt!, false);
      this.#rtcp = gcmSessionKeys(a, masterSalt!, true);
    } else {
      this.#rtp = a.rtp;
      this.#rtcp = a.rtcp;
    }
  }

  protectRtp(packet: Buffer, roc: number): Buffer {
    const hdr = rtpHeaderLength(packet);
    const iv = gcmRtpIv(this.#rtp.salt, packet.readUInt32BE(8), roc, packet.readUInt16BE(2));
    const c = createCipheriv(algorithm(this.#rtp.key), this.#rtp.key, iv, { authTagLength: GCM_TAG_BYTES });
    c.setAAD(packet.subarray(0, hdr));
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG_BYTES);
    packet.copy(out, 0, 0, hdr);
    c.update(packet.subarray(hdr)).copy(out, hdr);
    c.final();
    c.getAuthTag().copy(out, packet.length);
    return out;
  }

  unprotectRtp(packet: Buffer, roc: number): Buffer {
    if (packet.length < 12 + GCM_TAG_BYTES) throw new SrtpError('SRTP packet too short');
    const tagAt = packet.length - GCM_TAG_BYTES;
    const body = packet.subarray(0, tagAt);
    const hdr = rtpHeaderLength(body);
    const iv = gcmRtpIv(this.#rtp.salt, packet.readUInt32BE(8), roc, packet.readUInt16BE(2));
    const d = createDecipheriv(algorithm(this.#rtp.key), this.#rtp.key, iv, { authTagLength: GCM_TAG_BYTES });
    d.setAAD(body.subarray(0, hdr));
    d.setAuthTag(packet.subarray(tagAt));
    const out = Buffer.allocUnsafe(tagAt);
    body.copy(out, 0, 0, hdr);
    d.update(body.subarray(hdr)).copy(out, hdr);
    try {
      d.final();
    } catch {
      throw new SrtpError('SRTP authentication failed');
    }
    return out;
  }

  protectRtcp(packet: Buffer, index: number): Buffer {
    const eIndex = (0x80000000 | index) >>> 0;
    const iv = gcmRtcpIv(this.#rtcp.salt, packet.readUInt32BE(4), index);
    const c = createCipheriv(algorithm(this.#rtcp.key), this.#rtcp.key, iv, { authTagLength: GCM_TAG_BYTES });
    const trailer = Buffer.allocUnsafe(SRTCP_INDEX_BYTES);
    trailer.writeUInt32BE(eIndex, 0);
    c.setAAD(Buffer.concat([packet.subarray(0, 8), trailer]));
    const out = Buffer.allocUnsafe(packet.length + GCM_TAG_BYTES + SRTCP_INDEX_BYTES);
    packet.copy(out, 0, 0, 8);
    c.update(packet.subarray(8)).copy(out, 8);
    c.final();
    c.getAuthTag().copy(out, packet.length);
    trailer.copy(out, packet.length + GCM_TAG_BYTES);
    return out;
  }

  unprotectRtcp(packet: Buffer): Buffer {
    if (packet.length < 8 + GCM_TAG_BYTES + SRTCP_INDEX_BYTES) throw new SrtpError('SRTCP packet too short');
    const indexAt = packet.length - SRTCP_INDEX_BYTES;
    const tagAt = indexAt - GCM_TAG_BYTES;
    const eIndex = packet.readUInt32BE(indexAt);
    const encrypted = (eIndex & 0x80000000) !== 0;
    const iv = gcmRtcpIv(this.#rtcp.salt, packet.readUInt32BE(4), eIndex & 0x7fffffff);
    const d = createDecipheriv(algorithm(this.#rtcp.key), this.#rtcp.key, iv, { authTagLength: GCM_TAG_BYTES });
    const trailer = packet.subarray(indexAt);
    // E = 0 (RFC 7714 §9.2): the whole packet is associated data, nothing is encrypted.
    d.setAAD(Buffer.concat([packet.subarray(0, encrypted ? 8 : tagAt), trailer]));
    d.setAuthTag(packet.subarray(tagAt, indexAt));
    const out = Buffer.allocUnsafe(tagAt);
    packet.copy(out, 0, 0, encrypted ? 8 : tagAt);
    if (encrypted) d.update(packet.subarray(8, tagAt)).copy(out, 8);
    try {
      d.final();
    } catch {
      throw new SrtpError('SRTCP authentication failed');
    }
    return out;
  }
}
