/**
 * One synthetic participant in `rtp` mode: joins through an SfuConnector,
 * publishes opus + 3-layer VP8 simulcast over a plain (S)RTP send transport,
 * receives its consumers on a plain recv transport, answers NACK and PLI/FIR
 * like a browser, sends NACKs for gaps it sees, and keeps per-track counters.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { LoadTestError } from './errors.js';
import { Histogram } from './histogram.js';
import { AUDIO_SPEC, OutStream, VIDEO_LAYERS, readProbe, streamsByIndex } from './rtp/media.js';
import { buildNack, buildSenderReport, isRtcp, parseRtcp, parseRtp } from './rtp/rtp.js';
import { SrtpContext, randomSrtpParameters } from './rtp/srtp.js';
import type { ConsumerInfo, JoinTiming, SfuConnector, SfuSession } from './sfu.js';

/** Load traffic may only go to this machine: anything else is refused before a packet leaves. */
export function assertLoopback(ip: string, what: string): void {
  if (!(ip.startsWith('127.') || ip === '::1')) {
    throw new LoadTestError('UNSAFE_TARGET', `${what} is ${ip}; the load generator only sends media to loopback addresses (run it on the server's machine)`);
  }
}

/** Shared by all participants of a run: the delay histogram and feedback counters. */
export class Collector {
  readonly delayMs = new Histogram();
  /** RTCP feedback the SFU sent to publishers. */
  nacksFromServer = 0;
  keyFrameRequestsFromServer = 0;
  /** NACKs subscribers sent for gaps they saw. */
  nacksSent = 0;
  srtpFailures = 0;
  sessionsLost = 0;
  /** Track id → the stream a subscriber of that track should receive (audio, or the top simulcast layer). */
  readonly trackSources = new Map<string, OutStream>();
  errors: string[] = [];

  noteError(message: string): void {
    if (this.errors.length < 50) this.errors.push(message);
  }
}

/** Sends every publisher's frames on time from one timer, and sender reports once a second. */
export class Pacer {
  readonly #entries = new Set<{ stream: OutStream; send: (b: Buffer) => void; nextSrAt: number }>();
  #timer: NodeJS.Timeout | undefined;
  /** Frames that were due more than 200 ms ago when the timer got to them (generator overloaded). */
  framesLate = 0;

  add(stream: OutStream, send: (b: Buffer) => void): () => void {
    const now = performance.now();
    // Random phase: real publishers do not start their frames on the same millisecond.
    stream.nextFrameAtMs = now + Math.random() * stream.frameIntervalMs;
    const entry = { stream, send, nextSrAt: now };
    this.#entries.add(entry);
    this.#timer ??= setInterval(() => this.#tick(), 5);
    return () => {
      this.#entries.delete(entry);
      if (this.#entries.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #tick(): void {
    const now = performance.now();
    const wall = Date.now();
    for (const e of this.#entries) {
      const s = e.stream;
      if (now - s.nextFrameAtMs > 200) {
        const skipped = Math.floor((now - s.nextFrameAtMs) / s.frameIntervalMs);
        this.framesLate += skipped;
        s.framesLate += skipped;
        s.nextFrameAtMs += skipped * s.frameIntervalMs;
      }
      while (s.nextFrameAtMs <= now) {
        for (const p of s.nextFrame(now)) e.send(p);
        s.nextFrameAtMs += s.frameIntervalMs;
      }
      if (now >= e.nextSrAt) {
        e.send(buildSenderReport(s.ssrc, wall, s.rtpTimestamp, s.packets, s.bytes));
        e.nextSrAt = now + 1000;
      }
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
  }
}

/** One consumer as the subscriber sees it. */
export class InStream {
  readonly consumerId: string;
  readonly kind: 'audio' | 'video';
  readonly ssrc: number;
  readonly publisher: string;
  readonly trackId: string;
  packets = 0;
  bytes = 0;
  /** Unique sequence numbers received (duplicates and late retransmissions of received packets excluded). */
  unique = 0;
  duplicates = 0;
  recovered = 0;
  firstAt = 0;
  lastAt = 0;
  /** Highest extended sequence number and the first one. */
  highest = -1;
  base = 0;
  readonly #missing = new Set<number>();
  /** Spatial layer of the last packet. */
  layer = -1;

  constructor(info: ConsumerInfo, ssrc: number) {
    this.consumerId = info.consumerId;
    this.kind = info.kind;
    this.ssrc = ssrc;
    this.publisher = info.participantIdentity;
    this.trackId = info.trackId;
  }

  get expected(): number {
    return this.highest < 0 ? 0 : this.highest - this.base + 1;
  }

  /** Returns the sequence numbers that just went missing (for a NACK). */
  onPacket(seq: number, size: number, now: number): number[] | undefined {
    this.packets++;
    this.bytes += size;
    this.lastAt = now;
    if (this.highest < 0) {
      this.highest = seq;
      this.base = seq;
      this.firstAt = now;
      this.unique++;
      return undefined;
    }
    let delta = (seq - (this.highest & 0xffff)) & 0xffff;
    if (delta >= 0x8000) delta -= 0x10000;
    if (delta > 0) {
      let gap: number[] | undefined;
      if (delta > 1) {
        gap = [];
        // Large holes (a source switch, an outage) are counted, not NACKed seq by seq.
        for (let ext = this.highest + 1; ext < this.highest + delta; ext++) {
          if (this.#missing.size < 4096) this.#missing.add(ext);
          if (gap.length < 64) gap.push(ext & 0xffff);
        }
      }
      this.highest += delta;
      this.unique++;
      return gap;
    }
    const ext = this.highest + delta;
    if (this.#missing.delete(ext)) {
      this.recovered++;
      this.unique++;
    } else this.duplicates++;
    return undefined;
  }
}

export interface ParticipantPlan {
  identity: string;
  room: string;
  role: 'doctor' | 'patient' | 'observer';
  kind: 'consult' | 'clinic' | 'rounds';
  publish: boolean;
  subscribe: boolean;
  /** Consumers this participant should end up with (stalled-track check). */
  expectedConsumers: number;
}

export interface ParticipantOptions {
  srtp: boolean;
  pacer: Pacer;
  collector: Collector;
}

const AUDIO_PT = 100;
const VIDEO_PT = 101;

export class SyntheticParticipant {
  readonly plan: ParticipantPlan;
  readonly timing: JoinTiming = { startedAt: 0 };
  readonly streams: OutStream[] = [];
  readonly inStreams = new Map<number, InStream>();
  closedReason: string | undefined;
  readonly #opts: ParticipantOptions;
  #session: SfuSession | undefined;
  #sendSocket: Socket | undefined;
  #recvSocket: Socket | undefined;
  #sendOut: SrtpContext | undefined;
  #sendIn: SrtpContext | undefined;
  #recvOut: SrtpContext | undefined;
  #recvIn: SrtpContext | undefined;
  readonly #unpace: (() => void)[] = [];
  readonly #rtcpSsrc = randomInt(1, 0xffffffff);
  #stopped = false;

  constructor(plan: ParticipantPlan, opts: ParticipantOptions) {
    this.plan = plan;
    this.#opts = opts;
  }

  async start(connector: SfuConnector): Promise<void> {
    this.timing.startedAt = performance.now();
    const { identity, room, role, kind } = this.plan;
    const session = await connector.connect({ identity, room, role, kind }, this.timing);
    this.#session = session;
    session.onClosed = (reason) => {
      if (this.#stopped) return;
      this.closedReason = reason;
      this.#opts.collector.sessionsLost++;
    };
    const srtp = this.#opts.srtp;
    if (this.plan.subscribe) {
      const t = await session.createPlainTransport('recv', srtp);
      assertLoopback(t.ip, 'the server media address');
      const socket = await bindSocket();
      this.#recvSocket = socket;
      socket.connect(t.port, t.ip);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const ours = srtp ? randomSrtpParameters() : undefined;
      if (srtp) {
        if (!t.srtpParameters) throw new LoadTestError('SERVER_REFUSED', 'the server did not offer SRTP on the load-test transport');
        this.#recvIn = new SrtpContext(t.srtpParameters);
        this.#recvOut = new SrtpContext(ours!);
      }
      socket.on('message', (msg) => this.#onRecvSocket(msg));
      await session.connectPlainTransport(t.id, '127.0.0.1', socket.address().port, ours);
      session.onConsumer = (c) => this.#addConsumer(c);
      await session.setRtpCapabilities(deviceCapabilities(session.routerRtpCapabilities));
    }
    if (this.plan.publish) {
      const t = await session.createPlainTransport('send', srtp);
      assertLoopback(t.ip, 'the server media address');
      const socket = await bindSocket();
      this.#sendSocket = socket;
      socket.connect(t.port, t.ip);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const ours = srtp ? randomSrtpParameters() : undefined;
      if (srtp) {
        if (!t.srtpParameters) throw new LoadTestError('SERVER_REFUSED', 'the server did not offer SRTP on the load-test transport');
        this.#sendIn = new SrtpContext(t.srtpParameters);
        this.#sendOut = new SrtpContext(ours!);
      }
      socket.on('message', (msg) => this.#onSendSocket(msg));
      await session.connectPlainTransport(t.id, '127.0.0.1', socket.address().port, ours);

      const audio = new OutStream(AUDIO_SPEC, AUDIO_PT);
      const keyPhase = Math.random();
      const layers = VIDEO_LAYERS.map((spec) => new OutStream(spec, VIDEO_PT, keyPhase));
      this.streams.push(audio, ...layers);
      const cname = `lt-${this.plan.identity}`;
      const audioTrack = await session.produce(t.id, 'audio', 'microphone', {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
        encodings: [{ ssrc: audio.ssrc }],
        headerExtensions: [],
        rtcp: { cname, reducedSize: true },
      });
      const videoTrack = await session.produce(t.id, 'video', 'camera', {
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: VIDEO_PT,
            clockRate: 90000,
            parameters: {},
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          },
        ],
        encodings: layers.map((l) => ({ ssrc: l.ssrc, scaleResolutionDownBy: 1280 / l.spec.width, maxBitrate: l.spec.bitrate })),
        headerExtensions: [],
        rtcp: { cname, reducedSize: true },
      });
      this.#opts.collector.trackSources.set(audioTrack, audio);
      this.#opts.collector.trackSources.set(videoTrack, layers[layers.length - 1]!);
      const send = (b: Buffer) => this.#sendRaw(socket, this.#sendOut, b);
      for (const s of this.streams) this.#unpace.push(this.#opts.pacer.add(s, send));
    }
    this.timing.readyAt = performance.now();
  }

  #sendRaw(socket: Socket, srtp: SrtpContext | undefined, packet: Buffer): void {
    if (this.#stopped) return;
    const out = srtp ? (isRtcp(packet) ? srtp.protectRtcp(packet) : srtp.protectRtp(packet)) : packet;
    socket.send(out, (err) => {
      // A full socket buffer or a closed transport: the packet is lost, which the receivers count.
      if (err && !this.#stopped) this.#opts.collector.noteError(`send failed: ${err.message}`);
    });
  }

  #addConsumer(c: ConsumerInfo): void {
    const enc = (c.rtpParameters.encodings as { ssrc?: number }[] | undefined)?.[0];
    if (!enc?.ssrc) {
      this.#opts.collector.noteError(`consumer ${c.consumerId} has no SSRC`);
      return;
    }
    this.inStreams.set(enc.ssrc, new InStream(c, enc.ssrc));
    this.#session?.resumeConsumer(c.consumerId).catch((err: unknown) => this.#opts.collector.noteError(`resumeConsumer: ${(err as Error).message}`));
  }

  #onSendSocket(raw: Buffer): void {
    let msg = raw;
    if (this.#sendIn) {
      try {
        msg = this.#sendIn.unprotectRtcp(raw);
      } catch {
        this.#opts.collector.srtpFailures++;
        return;
      }
    }
    if (!isRtcp(msg)) return;
    const fb = parseRtcp(msg);
    const c = this.#opts.collector;
    for (const ssrc of fb.keyFrameRequests) {
      c.keyFrameRequestsFromServer++;
      this.streams.find((s) => s.ssrc === ssrc)?.requestKeyFrame();
    }
    for (const nack of fb.nacks) {
      const stream = this.streams.find((s) => s.ssrc === nack.ssrc);
      c.nacksFromServer += nack.seqs.length;
      if (!stream || !this.#sendSocket) continue;
      stream.nacksReceived += nack.seqs.length;
      for (const seq of nack.seqs) {
        const p = stream.retransmission(seq);
        if (p) this.#sendRaw(this.#sendSocket, this.#sendOut, p);
      }
    }
  }

  #onRecvSocket(raw: Buffer): void {
    const now = performance.now();
    let msg = raw;
    const rtcp = isRtcp(raw);
    if (this.#recvIn) {
      try {
        msg = rtcp ? this.#recvIn.unprotectRtcp(raw) : this.#recvIn.unprotectRtp(raw);
      } catch {
        this.#opts.collector.srtpFailures++;
        return;
      }
    }
    if (rtcp) return;
    const rtp = parseRtp(msg);
    if (!rtp) return;
    const s = this.inStreams.get(rtp.ssrc);
    if (!s) return;
    this.timing.firstRtpAt ??= now;
    const gap = s.onPacket(rtp.seq, msg.length, now);
    const probe = readProbe(msg, rtp.payloadStart, rtp.payloadEnd);
    if (probe) {
      this.#opts.collector.delayMs.record(now - probe.sentAtMs);
      const src = streamsByIndex.get(probe.streamIndex);
      if (src) s.layer = src.spec.layer;
    }
    if (gap && gap.length && this.#recvSocket) {
      this.#opts.collector.nacksSent += gap.length;
      this.#sendRaw(this.#recvSocket, this.#recvOut, buildNack(this.#rtcpSsrc, s.ssrc, gap));
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const u of this.#unpace) u();
    for (const s of this.streams) s.close();
    this.#session?.close();
    this.#sendSocket?.close();
    this.#recvSocket?.close();
  }
}

/** What a minimal device supports: opus and VP8 with NACK and PLI/FIR, no BWE extensions (so layers follow stream health). */
export function deviceCapabilities(router: Record<string, unknown>): Record<string, unknown> {
  const codecs = (router.codecs as Record<string, unknown>[] | undefined) ?? [];
  return {
    codecs: codecs
      .filter((c) => c.mimeType === 'audio/opus' || c.mimeType === 'video/VP8')
      .map((c) => ({
        ...c,
        rtcpFeedback: ((c.rtcpFeedback as { type: string }[] | undefined) ?? []).filter((f) => f.type === 'nack' || f.type === 'ccm'),
      })),
    headerExtensions: [],
  };
}

function bindSocket(): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
