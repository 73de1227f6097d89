/**
 * The AES_CM_128_HMAC_SHA1_80 transform (RFC 3711) on Node's crypto: AES-128
 * in counter mode for the payload, HMAC-SHA1 truncated to 80 bits for the tag.
 */
import { createCipheriv, hash, timingSafeEqual, type Cipher } from 'node:crypto';
import { rtpHeaderLength } from './rtp.js';
import { derive, SrtpError, type SrtpTransform } from './srtpKdf.js';

const TAG_BYTES = 10;
const SRTCP_INDEX_BYTES = 4;
const PAD_BYTES = 64;
const SHA1_BYTES = 20;

interface SessionKeys {
  salt: Buffer;
  /**
   * AES-128 in ECB over counter blocks we build ourselves is AES-CM: one
   * long-lived cipher object per key instead of one per packet, which is what
   * makes per-packet SRTP affordable in Node.
   */
  ecb: Cipher;
  /**
   * HMAC-SHA1 as two one-shot hashes over precomputed pads (RFC 2104). The pads
   * sit at the front of reused scratch buffers, so a packet's tag costs one copy
   * of the packet and no allocation but the digests.
   */
  inner: Buffer;
  outer: Buffer;
  /** Reused packet IV and counter blocks for xorKeystream (the latter grown on demand). */
  iv: Buffer;
  counters: Buffer;
}

function sessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): SessionKeys {
  const base = rtcp ? 3 : 0;
  const key = derive(masterKey, masterSalt, base, 16);
  const auth = derive(masterKey, masterSalt, base + 1, 20);
  const ecb = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  const inner = Buffer.alloc(PAD_BYTES + 1500, 0x36);
  const outer = Buffer.alloc(PAD_BYTES + SHA1_BYTES, 0x5c);
  for (let i = 0; i < auth.length; i++) {
    inner[i]! ^= auth[i]!;
    outer[i]! ^= auth[i]!;
  }
  return {
    salt: derive(masterKey, masterSalt, base + 2, 14),
    ecb,
    inner,
    outer,
    iv: Buffer.alloc(16),
    counters: Buffer.alloc(16 * 96),
  };
}

/** HMAC-SHA1 of `data` followed by the 32-bit `roc` (when given), truncated to the 80-bit tag. */
function hmac80(keys: SessionKeys, data: Buffer, roc?: number): Buffer {
  const length = PAD_BYTES + data.length + (roc === undefined ? 0 : 4);
  if (keys.inner.length < length) {
    const grown = Buffer.allocUnsafe(length * 2);
    keys.inner.copy(grown, 0, 0, PAD_BYTES);
    keys.inner = grown;
  }
  data.copy(keys.inner, PAD_BYTES);
  if (roc !== undefined) keys.inner.writeUInt32BE(roc >>> 0, PAD_BYTES + data.length);
  hash('sha1', keys.inner.subarray(0, length), 'buffer').copy(keys.outer, PAD_BYTES);
  return hash('sha1', keys.outer, 'buffer').subarray(0, TAG_BYTES);
}

/**
 * XORs `data` in place with the AES-CM keystream for the packet IV
 * (salt · 2¹⁶) ⊕ (SSRC · 2⁶⁴) ⊕ (index · 2¹⁶), index = indexHigh · 2³² + indexLow.
 * The IV and counter blocks are built in buffers kept with the keys.
 */
function xorKeystream(keys: SessionKeys, ssrc: number, indexHigh: number, indexLow: number, data: Buffer): void {
  const blocks = Math.ceil(data.length / 16);
  if (blocks <= 0) return;
  if (keys.counters.length < blocks * 16) keys.counters = Buffer.alloc(blocks * 32);
  const iv = keys.iv;
  keys.salt.copy(iv, 0);
  iv[14] = 0;
  iv[15] = 0;
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // index is 48 bits: 16 high bits at bytes 8-9, 32 low bits at bytes 10-13.
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ (indexHigh & 0xffff), 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ indexLow) >>> 0, 10);
  const counters = keys.counters.subarray(0, blocks * 16);
  counters.fill(iv);
  // Blocks differ only in the 16-bit block counter (bytes 14-15), which starts at 0.
  for (let b = 1, at = 30; b < blocks; b++, at += 16) {
    counters[at] = b >>> 8;
    counters[at + 1] = b & 0xff;
  }
  const ks = keys.ecb.update(counters);
  const n = data.length;
  let i = 0;
  // Word-wise XOR through typed-array views when both buffers are 4-byte aligned (the common case).
  if ((data.byteOffset & 3) === 0 && (ks.byteOffset & 3) === 0) {
    const words = n >>> 2;
    const d = new Int32Array(data.buffer, data.byteOffset, words);
    const k = new Int32Array(ks.buffer, ks.byteOffset, words);
    for (let w = 0; w < words; w++) d[w]! ^= k[w]!;
    i = words << 2;
  }
  for (; i < n; i++) data[i]! ^= ks[i]!;
}

export class CmTransform implements SrtpTransform {
  readonly rtpOverhead = TAG_BYTES;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;

  constructor(masterKey: Buffer, masterSalt: Buffer) {
    this.#rtp = sessionKeys(masterKey, masterSalt, false);
    this.#rtcp = sessionKeys(masterKey, masterSalt, true);
  }

  protectRtp(packet: Buffer, roc: number): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const hdr = rtpHeaderLength(packet);
    const out = Buffer.allocUnsafe(packet.length + TAG_BYTES);
    packet.copy(out, 0, 0, packet.length);
    xorKeystream(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr, packet.length));
    hmac80(this.#rtp, out.subarray(0, packet.length), roc).copy(out, packet.length);
    return out;
  }

  unprotectRtp(packet: Buffer, roc: number): Buffer {
    if (packet.length < 12 + TAG_BYTES) throw new SrtpError('SRTP packet too short');
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const body = packet.subarray(0, packet.length - TAG_BYTES);
    const tag = hmac80(this.#rtp, body, roc);
    if (!timingSafeEqual(tag, packet.subarray(packet.length - TAG_BYTES)))
      throw new SrtpError('SRTP authentication failed');
    const hdr = rtpHeaderLength(body);
    const out = Buffer.allocUnsafe(body.length);
    body.copy(out, 0, 0, body.length);
    xorKeystream(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr));
    return out;
  }

  /** SRTCP: everything after the first 8 bytes is encrypted; E flag + 31-bit index + tag are appended. */
  protectRtcp(packet: Buffer, index: number): Buffer {
    const ssrc = packet.readUInt32BE(4);
    const out = Buffer.allocUnsafe(packet.length + SRTCP_INDEX_BYTES + TAG_BYTES);
    packet.copy(out, 0, 0, packet.length);
    xorKeystream(this.#rtcp, ssrc, 0, index, out.subarray(8, packet.length));
    out.writeUInt32BE((0x80000000 | index) >>> 0, packet.length);
    hmac80(this.#rtcp, out.subarray(0, packet.length + SRTCP_INDEX_BYTES)).copy(out, packet.length + SRTCP_INDEX_BYTES);
    return out;
  }

  unprotectRtcp(packet: Buffer): Buffer {
    if (packet.length < 8 + SRTCP_INDEX_BYTES + TAG_BYTES) throw new SrtpError('SRTCP packet too short');
    const tagAt = packet.length - TAG_BYTES;
    const tag = hmac80(this.#rtcp, packet.subarray(0, tagAt));
    if (!timingSafeEqual(tag, packet.subarray(tagAt))) throw new SrtpError('SRTCP authentication failed');
    const eIndex = packet.readUInt32BE(tagAt - SRTCP_INDEX_BYTES);
    const bodyEnd = tagAt - SRTCP_INDEX_BYTES;
    const out = Buffer.allocUnsafe(bodyEnd);
    packet.copy(out, 0, 0, bodyEnd);
    if (eIndex & 0x80000000) xorKeystream(this.#rtcp, packet.readUInt32BE(4), 0, eIndex & 0x7fffffff, out.subarray(8));
    return out;
  }
}
