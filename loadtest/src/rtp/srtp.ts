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
  /** HMAC-SHA1 as two one-shot hashes over precomputed pads (RFC 2104). */
  ipad: Buffer;
  opad: Buffer;
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
  const ipad = Buffer.alloc(64, 0x36);
  const opad = Buffer.alloc(64, 0x5c);
  for (let i = 0; i < auth.length; i++) {
    ipad[i]! ^= auth[i]!;
    opad[i]! ^= auth[i]!;
  }
  return { key, auth, salt: derive(masterKey, masterSalt, base + 2, 14), ecb, ipad, opad };
}

/** HMAC-SHA1 of the concatenated parts, truncated to the 80-bit tag. */
function hmac80(keys: SessionKeys, parts: Buffer[]): Buffer {
  const inner = hash('sha1', Buffer.concat([keys.ipad, ...parts]), 'buffer');
  return hash('sha1', Buffer.concat([keys.opad, inner]), 'buffer').subarray(0, TAG_BYTES);
}

/** XORs `data` in place with the AES-CM keystream for `iv`, starting at keystream byte `from`. */
function xorKeystream(keys: SessionKeys, iv: Buffer, data: Buffer, from = 0): void {
  const firstBlock = Math.floor(from / 16);
  const blocks = Math.ceil((from + data.length) / 16) - firstBlock;
  if (blocks <= 0) return;
  const counters = Buffer.allocUnsafe(blocks * 16);
  counters.fill(iv);
  const base = (iv[14]! << 8) | iv[15]!;
  for (let b = 0, at = 14; b < blocks; b++, at += 16) {
    const c = (base + firstBlock + b) & 0xffff;
    counters[at] = c >>> 8;
    counters[at + 1] = c & 0xff;
  }
  const ks = keys.ecb.update(counters);
  const skip = from - firstBlock * 16;
  const n = data.length;
  let i = 0;
  // Word-wise XOR through typed-array views when both buffers are 4-byte aligned (the common case).
  if ((data.byteOffset & 3) === 0 && ((ks.byteOffset + skip) & 3) === 0) {
    const words = n >>> 2;
    const d = new Int32Array(data.buffer, data.byteOffset, words);
    const k = new Int32Array(ks.buffer, ks.byteOffset + skip, words);
    for (let w = 0; w < words; w++) d[w]! ^= k[w]!;
    i = words << 2;
  }
  for (; i < n; i++) data[i]! ^= ks[i + skip]!;
}

/** IV = (salt · 2¹⁶) ⊕ (SSRC · 2⁶⁴) ⊕ (index · 2¹⁶). */
function packetIv(salt: Buffer, ssrc: number, indexHigh: number, indexLow: number): Buffer {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  // index is 48 bits: 16 high bits at bytes 8-9, 32 low bits at bytes 10-13.
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ (indexHigh & 0xffff), 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ indexLow) >>> 0, 10);
  return iv;
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
    if (params.cryptoSuite !== SRTP_SUITE) throw new SrtpError(`unsupported SRTP crypto suite '${params.cryptoSuite}' (only ${SRTP_SUITE})`);
    const master = Buffer.from(params.keyBase64, 'base64');
    if (master.length !== 30) throw new SrtpError(`SRTP master key must be 30 bytes, got ${master.length}`);
    this.#rtp = sessionKeys(master.subarray(0, 16), master.subarray(16), false);
    this.#rtcp = sessionKeys(master.subarray(0, 16), master.subarray(16), true);
  }

  /** Encrypts or decrypts (the same operation) `data` in place. */
  #ctr(keys: SessionKeys, ssrc: number, indexHigh: number, indexLow: number, data: Buffer): Buffer {
    xorKeystream(keys, packetIv(keys.salt, ssrc, indexHigh, indexLow), data);
    return data;
  }

  #tag(keys: SessionKeys, ...parts: Buffer[]): Buffer {
    return hmac80(keys, parts);
  }

  /** Encrypts and authenticates an RTP packet (the sender keeps its own rollover counter per SSRC). */
  protectRtp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    let s = this.#streams.get(ssrc);
    if (!s) {
      s = { roc: 0, highestSeq: seq };
      this.#streams.set(ssrc, s);
    } else if (seq < s.highestSeq && s.highestSeq - seq > 0x8000) {
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
    this.#ctr(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr, packet.length));
    const rocBuf = Buffer.allocUnsafe(4);
    rocBuf.writeUInt32BE(roc, 0);
    this.#tag(this.#rtp, out.subarray(0, packet.length), rocBuf).copy(out, packet.length);
    return out;
  }

  /** Verifies and decrypts an SRTP packet; throws SrtpError when the tag does not match. */
  unprotectRtp(packet: Buffer): Buffer {
    if (packet.length < 12 + TAG_BYTES) throw new SrtpError('SRTP packet too short');
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    let s = this.#streams.get(ssrc);
    if (!s) {
      s = { roc: 0, highestSeq: seq };
      this.#streams.set(ssrc, s);
    }
    // RFC 3711 Appendix A: guess the ROC from the highest sequence seen so far.
    let roc = s.roc;
    if (s.highestSeq < 0x8000) {
      if (seq - s.highestSeq > 0x8000) roc = (s.roc - 1) >>> 0;
    } else if (s.highestSeq - 0x8000 > seq) roc = (s.roc + 1) >>> 0;
    const body = packet.subarray(0, packet.length - TAG_BYTES);
    const rocBuf = Buffer.allocUnsafe(4);
    rocBuf.writeUInt32BE(roc, 0);
    const tag = this.#tag(this.#rtp, body, rocBuf);
    if (!timingSafeEqual(tag, packet.subarray(packet.length - TAG_BYTES))) throw new SrtpError('SRTP authentication failed');
    if (roc === ((s.roc + 1) >>> 0) || (roc === s.roc && seq > s.highestSeq)) {
      s.roc = roc;
      s.highestSeq = seq;
    }
    const hdr = rtpHeaderLength(body);
    const out = Buffer.allocUnsafe(body.length);
    body.copy(out, 0, 0, body.length);
    this.#ctr(this.#rtp, ssrc, roc >>> 16, ((roc & 0xffff) * 0x10000 + seq) >>> 0, out.subarray(hdr));
    return out;
  }

  /** SRTCP: everything after the first 8 bytes is encrypted; E flag + 31-bit index + tag are appended. */
  protectRtcp(packet: Buffer): Buffer {
    const index = this.#srtcpIndex;
    this.#srtcpIndex = (this.#srtcpIndex + 1) & 0x7fffffff;
    const ssrc = packet.readUInt32BE(4);
    const out = Buffer.allocUnsafe(packet.length + SRTCP_INDEX_BYTES + TAG_BYTES);
    packet.copy(out, 0, 0, packet.length);
    this.#ctr(this.#rtcp, ssrc, 0, index, out.subarray(8, packet.length));
    out.writeUInt32BE((0x80000000 | index) >>> 0, packet.length);
    this.#tag(this.#rtcp, out.subarray(0, packet.length + SRTCP_INDEX_BYTES)).copy(out, packet.length + SRTCP_INDEX_BYTES);
    return out;
  }

  unprotectRtcp(packet: Buffer): Buffer {
    if (packet.length < 8 + SRTCP_INDEX_BYTES + TAG_BYTES) throw new SrtpError('SRTCP packet too short');
    const tagAt = packet.length - TAG_BYTES;
    const tag = this.#tag(this.#rtcp, packet.subarray(0, tagAt));
    if (!timingSafeEqual(tag, packet.subarray(tagAt))) throw new SrtpError('SRTCP authentication failed');
    const eIndex = packet.readUInt32BE(tagAt - SRTCP_INDEX_BYTES);
    const bodyEnd = tagAt - SRTCP_INDEX_BYTES;
    const out = Buffer.allocUnsafe(bodyEnd);
    packet.copy(out, 0, 0, bodyEnd);
    if (eIndex & 0x80000000) this.#ctr(this.#rtcp, packet.readUInt32BE(4), 0, eIndex & 0x7fffffff, out.subarray(8));
    return out;
  }
}
