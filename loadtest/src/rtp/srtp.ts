/**
 * SRTP and SRTCP contexts on Node's crypto, for the two suites the generator
 * speaks: AEAD_AES_128_GCM (RFC 7714; the default), AEAD_AES_256_GCM (what
 * Chromium negotiates with Huizhen's worker) and AES_CM_128_HMAC_SHA1_80
 * (RFC 3711). Keyed with SDES-style parameters (master key ‖ master salt: 28
 * bytes for AES-128-GCM, 44 for AES-256-GCM, 30 for CM) on the server's plain transports, or from the DTLS exporter in webrtc
 * mode. The context keeps the rollover counters and the SRTCP index; the
 * suite's transform (srtpGcm.ts, srtpCm.ts) does the packet crypto.
 */
import { randomBytes } from 'node:crypto';
import { CmTransform } from './srtpCm.js';
import { GcmTransform } from './srtpGcm.js';
import { SrtpError, type SrtpTransform } from './srtpKdf.js';

export { derive, SrtpError } from './srtpKdf.js';

export const SRTP_SUITES = ['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];
export const DEFAULT_SRTP_SUITE: SrtpSuite = 'AEAD_AES_128_GCM';

/** Master key and salt lengths per suite (RFC 7714 §12, RFC 3711 §8.2). */
const KEY_BYTES: Record<SrtpSuite, { key: number; salt: number }> = {
  AEAD_AES_128_GCM: { key: 16, salt: 12 },
  AEAD_AES_256_GCM: { key: 32, salt: 12 },
  AES_CM_128_HMAC_SHA1_80: { key: 16, salt: 14 },
};

export function isSrtpSuite(s: unknown): s is SrtpSuite {
  return (SRTP_SUITES as readonly unknown[]).includes(s);
}

export function srtpKeyLengths(suite: SrtpSuite): { key: number; salt: number } {
  return KEY_BYTES[suite];
}

export interface SrtpParameters {
  cryptoSuite: string;
  keyBase64: string;
}

export function randomSrtpParameters(suite: SrtpSuite = DEFAULT_SRTP_SUITE): SrtpParameters {
  const { key, salt } = KEY_BYTES[suite];
  return { cryptoSuite: suite, keyBase64: randomBytes(key + salt).toString('base64') };
}

interface StreamState {
  roc: number;
  highestSeq: number;
}

/** One direction of one SRTP session (one master key), for any number of SSRCs. */
export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly #transform: SrtpTransform;
  readonly #streams = new Map<number, StreamState>();
  #srtcpIndex = 0;

  constructor(params: SrtpParameters) {
    if (!isSrtpSuite(params.cryptoSuite))
      throw new SrtpError(`unsupported SRTP crypto suite '${params.cryptoSuite}' (one of ${SRTP_SUITES.join(', ')})`);
    this.suite = params.cryptoSuite;
    const { key, salt } = KEY_BYTES[this.suite];
    const master = Buffer.from(params.keyBase64, 'base64');
    if (master.length !== key + salt)
      throw new SrtpError(`${this.suite} master key must be ${key + salt} bytes, got ${master.length}`);
    const mk = master.subarray(0, key);
    const ms = master.subarray(key);
    this.#transform = this.suite === 'AES_CM_128_HMAC_SHA1_80' ? new CmTransform(mk, ms) : new GcmTransform(mk, ms);
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
    return this.#transform.protectRtp(packet, roc);
  }

  /** Verifies and decrypts an SRTP packet; throws SrtpError when authentication fails. */
  unprotectRtp(packet: Buffer): Buffer {
    if (packet.length < 12 + this.#transform.rtpOverhead) throw new SrtpError('SRTP packet too short');
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    const s = this.#stream(ssrc, seq);
    // RFC 3711 Appendix A: guess the ROC from the highest sequence seen so far.
    let roc = s.roc;
    if (s.highestSeq < 0x8000) {
      if (seq - s.highestSeq > 0x8000) roc = (s.roc - 1) >>> 0;
    } else if (s.highestSeq - 0x8000 > seq) roc = (s.roc + 1) >>> 0;
    const out = this.#transform.unprotectRtp(packet, roc);
    if (roc === (s.roc + 1) >>> 0 || (roc === s.roc && seq > s.highestSeq)) {
      s.roc = roc;
      s.highestSeq = seq;
    }
    return out;
  }

  protectRtcp(packet: Buffer): Buffer {
    const index = this.#srtcpIndex;
    this.#srtcpIndex = (this.#srtcpIndex + 1) & 0x7fffffff;
    return this.#transform.protectRtcp(packet, index);
  }

  unprotectRtcp(packet: Buffer): Buffer {
    return this.#transform.unprotectRtcp(packet);
  }
}
