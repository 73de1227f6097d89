/**
 * Synthetic media: opus-like audio (20 ms frames, ~40 kbps) and VP8 video in
 * three simulcast layers, packetized the way a browser does it, with a probe
 * at the end of every payload (magic, send time, source stream) so receivers
 * measure one-way delay and attribute bytes to the layer they came from.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { writeRtpHeader, RTP_HEADER_BYTES } from './rtp.js';
import { monoMs } from '../clock.js';

export interface StreamSpec {
  kind: 'audio' | 'video';
  /** Simulcast layer (0 = lowest); 0 for audio. */
  layer: number;
  fps: number;
  bitrate: number;
  width: number;
  height: number;
}

export const AUDIO_SPEC: StreamSpec = { kind: 'audio', layer: 0, fps: 50, bitrate: 40_000, width: 0, height: 0 };

/** ~150 / 500 / 1200 kbps at 15 / 30 / 30 fps, as a browser sends 720p camera simulcast. */
export const VIDEO_LAYERS: readonly StreamSpec[] = [
  { kind: 'video', layer: 0, fps: 15, bitrate: 150_000, width: 320, height: 180 },
  { kind: 'video', layer: 1, fps: 30, bitrate: 500_000, width: 640, height: 360 },
  { kind: 'video', layer: 2, fps: 30, bitrate: 1_200_000, width: 1280, height: 720 },
];

/** Bits per second one publisher sends (audio + every simulcast layer), payload and RTP header. */
export const PUBLISHER_BITRATE = AUDIO_SPEC.bitrate + VIDEO_LAYERS.reduce((s, l) => s + l.bitrate, 0);

export const KEYFRAME_INTERVAL_MS = 4000;
/** A key frame is about this many average frames big. */
const KEYFRAME_FACTOR = 4;
const MAX_PAYLOAD = 1100;
/** Key frames requested by PLI/FIR are produced at most this often per layer, like a real encoder. */
const MIN_KEYFRAME_GAP_MS = 250;
/** Packets kept per stream for NACK answers: about a second of the top layer. */
const RING = 128;

export const PROBE_BYTES = 16;
const PROBE_MAGIC = 0x485a4c54; // "HZLT"

/** Random filler standing in for encoded media; its content does not matter to an SFU. */
const FILLER = randomBytes(4096);

let nextStreamIndex = 1;
/** Every outbound stream in this process, by probe index, so receivers can attribute what they get. */
export const streamsByIndex = new Map<number, OutStream>();

export interface ProbeView {
  sentAtMs: number;
  streamIndex: number;
}

export function readProbe(packet: Buffer, payloadStart: number, payloadEnd: number): ProbeView | null {
  if (payloadEnd - payloadStart < PROBE_BYTES) return null;
  const at = payloadEnd - PROBE_BYTES;
  if (packet.readUInt32BE(at) !== PROBE_MAGIC) return null;
  return { sentAtMs: packet.readDoubleBE(at + 4), streamIndex: packet.readUInt32BE(at + 12) };
}

export class OutStream {
  readonly index = nextStreamIndex++;
  readonly ssrc = randomInt(1, 0xffffffff);
  readonly spec: StreamSpec;
  readonly payloadType: number;
  readonly clockRate: number;
  #seq = randomInt(0, 0x10000);
  #timestamp = randomInt(0, 0x7fffffff);
  #pictureId = randomInt(0, 0x8000);
  #tl0 = randomInt(0, 256);
  #frame = 0;
  nextFrameAtMs = 0;
  #lastKeyFrameAtMs = -Infinity;
  #keyFrameRequested = true;
  readonly #ring: (Buffer | undefined)[] = new Array<Buffer | undefined>(RING);
  // Totals (read by the stats window).
  packets = 0;
  bytes = 0;
  keyFrames = 0;
  nacksReceived = 0;
  retransmitted = 0;
  keyFrameRequests = 0;
  /** Frames skipped because the generator fell behind its own schedule. */
  framesLate = 0;

  /**
   * @param keyPhase in [0, 1): where in the periodic key-frame cycle this stream starts. Publishers
   * differ (real encoders are not synchronized); the layers of one publisher share it.
   */
  constructor(spec: StreamSpec, payloadType: number, keyPhase = 0) {
    this.spec = spec;
    this.#frame = Math.floor(keyPhase * (KEYFRAME_INTERVAL_MS / 1000) * spec.fps);
    this.payloadType = payloadType;
    this.clockRate = spec.kind === 'audio' ? 48_000 : 90_000;
    streamsByIndex.set(this.index, this);
  }

  get frameIntervalMs(): number {
    return 1000 / this.spec.fps;
  }

  /** The RTP timestamp now, for sender reports. */
  get rtpTimestamp(): number {
    return this.#timestamp >>> 0;
  }

  requestKeyFrame(): void {
    this.keyFrameRequests++;
    this.#keyFrameRequested = true;
  }

  /** The packets of the next frame at `nowMs` (performance.now()); each probe carries monoMs() when the packet was built. */
  nextFrame(nowMs: number): Buffer[] {
    const spec = this.spec;
    const avg = spec.bitrate / 8 / spec.fps;
    const packets: Buffer[] = [];
    if (spec.kind === 'audio') {
      const buf = this.#packet(nowMs, Math.round(avg), true, 1);
      buf[RTP_HEADER_BYTES] = 0xfc; // opus TOC: CELT fullband 20 ms, stereo, one frame
      packets.push(buf);
    } else {
      const framesPerInterval = (KEYFRAME_INTERVAL_MS / 1000) * spec.fps;
      const periodic = this.#frame % Math.round(framesPerInterval) === 0;
      const key = periodic || (this.#keyFrameRequested && nowMs - this.#lastKeyFrameAtMs >= MIN_KEYFRAME_GAP_MS);
      if (key) {
        this.#keyFrameRequested = false;
        this.#lastKeyFrameAtMs = nowMs;
        this.keyFrames++;
      }
      // Delta frames shrink so the average bitrate holds with periodic key frames.
      const delta = (avg * (framesPerInterval - KEYFRAME_FACTOR)) / (framesPerInterval - 1);
      const frameBytes = Math.max(PROBE_BYTES + 16, Math.round(key ? avg * KEYFRAME_FACTOR : delta));
      const count = Math.ceil(frameBytes / MAX_PAYLOAD);
      const per = Math.ceil(frameBytes / count);
      this.#pictureId = (this.#pictureId + 1) & 0x7fff;
      this.#tl0 = (this.#tl0 + 1) & 0xff;
      for (let i = 0; i < count; i++) {
        const first = i === 0;
        // VP8 payload descriptor (6 bytes), then on the first packet the frame tag (3) and, on key frames, the key-frame header (7).
        const buf = this.#packet(nowMs, per, i === count - 1, 6 + (first ? (key ? 10 : 3) : 0));
        const at = RTP_HEADER_BYTES;
        // VP8 payload descriptor (RFC 7741): X, S on the first packet, PID 0; I|L|T; 15-bit picture id; TL0PICIDX; TID 0, Y.
        buf[at] = 0x80 | (first ? 0x10 : 0);
        buf[at + 1] = 0xe0;
        buf.writeUInt16BE(0x8000 | this.#pictureId, at + 2);
        buf[at + 4] = this.#tl0;
        buf[at + 5] = 0x20;
        if (first) {
          const p = at + 6;
          // VP8 frame tag: inverse key-frame bit 0 on key frames, version 0, show_frame 1.
          buf[p] = (key ? 0x00 : 0x01) | 0x10;
          buf[p + 1] = 0;
          buf[p + 2] = 0;
          if (key) {
            buf[p + 3] = 0x9d;
            buf[p + 4] = 0x01;
            buf[p + 5] = 0x2a;
            buf.writeUInt16LE(spec.width, p + 6);
            buf.writeUInt16LE(spec.height, p + 8);
          }
        }
        packets.push(buf);
      }
    }
    this.#frame++;
    this.#timestamp = (this.#timestamp + Math.round(this.clockRate / spec.fps)) >>> 0;
    return packets;
  }

  /** One RTP packet: header, filler and probe; the caller writes the `headBytes` of codec header after the RTP header. */
  #packet(nowMs: number, payloadBytes: number, marker: boolean, headBytes: number): Buffer {
    const size = RTP_HEADER_BYTES + Math.max(payloadBytes, PROBE_BYTES + 24);
    const buf = Buffer.allocUnsafe(size);
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    writeRtpHeader(buf, this.payloadType, marker, seq, this.#timestamp, this.ssrc);
    const bodyAt = RTP_HEADER_BYTES + headBytes;
    const probeAt = size - PROBE_BYTES;
    const fillOffset = (seq * 7) % (FILLER.length - size);
    FILLER.copy(buf, bodyAt, fillOffset, fillOffset + (probeAt - bodyAt));
    buf.writeUInt32BE(PROBE_MAGIC, probeAt);
    // The send stamp is taken per packet on the monotonic clock, so receive threads and other processes can compare it.
    buf.writeDoubleBE(monoMs(), probeAt + 4);
    buf.writeUInt32BE(this.index, probeAt + 12);
    this.#ring[seq % RING] = buf;
    this.packets++;
    this.bytes += size;
    return buf;
  }

  /** The stored packet for a NACKed sequence number; its probe keeps the first send time, so a recovered packet's delay includes the recovery. */
  retransmission(seq: number): Buffer | undefined {
    const buf = this.#ring[seq % RING];
    if (!buf || buf.readUInt16BE(2) !== seq) return undefined;
    this.retransmitted++;
    return buf;
  }

  close(): void {
    streamsByIndex.delete(this.index);
  }
}
