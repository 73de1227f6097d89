/**
 * SRTP and SRTCP with AES_CM_128_HMAC_SHA1_80 (RFC 3711), on Node's crypto:
 * AES-128 in counter mode for the payload, HMAC-SHA1 truncated to 80 bits for
 * the tag. The server's plain transports key this suite with SDES-style
 * parameters (30 bytes: 16 master key + 14 master salt).
 */
import { createCipheriv, hash, randomBytes, timingSafeEqual, type Cipher } from 'node:crypto';
import { rtpHeaderLength } from './rtp.js';

export const SRTP_SUITE = 'AES_CM_128_HMAC_SHA1_80';
const TAG_BYTES = 10;
const SRTCP_INDEX_BYTES = 4;

export interface SrtpParameters {
  cryptoSuite: string;
  keyBase64: string;
}

export function randomSrtpParameters(): SrtpParameters {
  return { cryptoSuite: SRTP_SUITE, keyBase64: randomBytes(30).toString('base64') };
}

export class SrtpError extends Error {
  override name = 'SrtpError';
}

interface SessionKeys {
  key: Buffer;
  salt: Buffer;
  auth: Buffer;
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

/** RFC 3711 §4.3.1 key derivation with key_derivation_rate 0: AES-CM keystream over (label ‖ 0⁴⁸) ⊕ salt. */
export function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7]! ^= label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return cipher.update(Buffer.alloc(length));
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
    key,
    auth,
    salt: derive(masterKey, masterSalt, base + 2, 14),
    ecb,
    inner,
    outer,
    iv: Buffer.alloc(16),
    counters: Buffer.alloc(16 * 96),
  };
}

const PAD_BYTES = 64;
const SHA1_BYTES = 20;

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

interface StreamState {
  roc: number;
  highestSeq: number;
}

/** One direction of one SRTP session (one master key), for any number of SSRCs. */
export class SrtpContext {
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  readonly #streams = new Map<number, StreamState>();
  #srtcpIndex = 0;

  constructor(params: SrtpParameters) {
    if (params.cryptoSuite !== SRTP_SUITE)
      throw new SrtpError(`unsupported SRTP crypto suite '${params.cryptoSuite}' (only ${SRTP_SUITE})`);
    const master = Buffer.from(params.keyBase64, 'base64');
    if (master.length !== 30) throw new SrtpError(`SRTP master key must be 30 bytes, got ${master.length}`);
    this.#rtp = sessionKeys(master.subarray(0, 16), master.subarray(16), false);
    this.#rtcp = sessionKeys(master.subarray(0, 16), master.subarray(16), true);
  }

  /** The rollover state of `ssrc`, started at `seq` the first time it is seen. */
  #stream(ssrc: number, seq: number): StreamState {
    let s = this.#streams.get(ssrc);
    if (!s) {
      s = { roc: 0, highestSeq: seq };
      this.#streams.set(ssrc, s);
    }
    return s;
  }

  /** Encrypts and authenticates an RTP packet (the sender keeps its own rollover counter per SSRC). */
  protectRtp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const s = this.#stream(ssrc, seq);
    if (seq < s.highestSeq && s.highestSeq - seq > 0x8000) {
      s.roc = (s.roc + 1) >>> 0;
      s.highestSeq = seq;
    } else if (seq > s.highestSeq && seq - s.highestSeq < 0x8000) {
      s.highestSeq = seq;
    }
    // A retransmission of a packet from before the last wrap keeps its old ROC.
    const roc = seq > s.highestSeq && seq - s.highestSeq > 0x8000 ? (s.roc - 1) >>> 0 : s.roc;
    const hdr = rtpHeaderLength(packet);
    const out = Buffer.allocUnsafe(packet.length + TAG_BYTES);
    packet.copy(out, 0, 0, packet.length);
    xorKeystream(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr, packet.length));
    hmac80(this.#rtp, out.subarray(0, packet.length), roc).copy(out, packet.length);
    return out;
  }

  /** Verifies and decrypts an SRTP packet; throws SrtpError when the tag does not match. */
  unprotectRtp(packet: Buffer): Buffer {
    if (packet.length < 12 + TAG_BYTES) throw new SrtpError('SRTP packet too short');
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const s = this.#stream(ssrc, seq);
    // RFC 3711 Appendix A: guess the ROC from the highest sequence seen so far.
    let roc = s.roc;
    if (s.highestSeq < 0x8000) {
      if (seq - s.highestSeq > 0x8000) roc = (s.roc - 1) >>> 0;
    } else if (s.highestSeq - 0x8000 > seq) roc = (s.roc + 1) >>> 0;
    const body = packet.subarray(0, packet.length - TAG_BYTES);
    const tag = hmac80(this.#rtp, body, roc);
    if (!timingSafeEqual(tag, packet.subarray(packet.length - TAG_BYTES)))
      throw new SrtpError('SRTP authentication failed');
    if (roc === (s.roc + 1) >>> 0 || (roc === s.roc && seq > s.highestSeq)) {
      s.roc = roc;
      s.highestSeq = seq;
    }
    const hdr = rtpHeaderLength(body);
    const out = Buffer.allocUnsafe(body.length);
    body.copy(out, 0, 0, body.length);
    xorKeystream(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr));
    return out;
  }

  /** SRTCP: everything after the first 8 bytes is encrypted; E flag + 31-bit index + tag are appended. */
  protectRtcp(packet: Buffer): Buffer {
    const index = this.#srtcpIndex;
    this.#srtcpIndex = (this.#srtcpIndex + 1) & 0x7fffffff;
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
