/**
 * One synthetic participant: joins through an SfuConnector, publishes opus +
 * 3-layer VP8 simulcast on a send transport, receives its consumers on a recv
 * transport, answers NACK and PLI/FIR like a browser, sends NACKs for gaps it
 * sees, and keeps per-track counters. The transports are media paths
 * (paths.ts): plain (S)RTP in `rtp` mode, ICE + DTLS-SRTP in `webrtc` mode.
 */
import { randomInt } from 'node:crypto';
import { LoadTestError } from './errors.js';
import { Histogram } from './histogram.js';
import { monoMs } from './clock.js';
import { openPlainPath, type MediaMode, type MediaPath } from './paths.js';
import { ThreadedRecvPath, type Arrival, type ReceiveThreads } from './recvThreads.js';
import { AUDIO_SPEC, OutStream, VIDEO_LAYERS, readProbe, streamsByIndex } from './rtp/media.js';
import { buildNack, buildSenderReport, parseRtcp, parseRtp } from './rtp/rtp.js';
import type { ConsumerInfo, JoinTiming, SfuConnector, SfuSession } from './sfu.js';
import { openWebRtcPath } from './webrtc.js';
import type { WebRtcIdentity } from './webrtcPeer.js';
import type { SrtpSuite } from './rtp/srtp.js';

/** Shared by all participants of a run: the delay histogram and feedback counters. */
export class Collector {
  /**
   * Delay through the server: the probe's send stamp → the packet's arrival, both monoMs(). With
   * receive threads (rtp mode) the arrival is stamped off the main loop; otherwise when the main
   * loop handles the packet (so it then includes the generator's queueing).
   */
  readonly delayMs = new Histogram();
  /** The generator's own queueing: arrival on a receive thread → handled on the main loop. */
  readonly queueMs = new Histogram();
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
  /** How late the timer sent each frame (ms after it was due): the generator's own send-side lateness. */
  readonly lateMs = new Histogram();

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
        this.lateMs.record(now - s.nextFrameAtMs);
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
  /** rtp: plain transports (SRTP when `srtp`); webrtc: ICE + DTLS-SRTP with this identity. */
  mode?: MediaMode;
  srtp: boolean;
  /** The SRTP suite on plain transports, and the DTLS-SRTP profile offered in webrtc mode. */
  srtpSuite: SrtpSuite;
  webrtc?: WebRtcIdentity;
  /** rtp mode: receive sockets on these threads, so arrival is stamped off the main loop. */
  receiveThreads?: ReceiveThreads;
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
  /** This participant's receive delays over the whole run (webrtc mode only, for its per-participant figures). */
  readonly delayMs: Histogram | undefined;
  closedReason: string | undefined;
  /** Why start() failed, when it did. */
  failure: string | undefined;
  readonly #opts: ParticipantOptions;
  #session: SfuSession | undefined;
  #send: MediaPath | undefined;
  #recv: MediaPath | undefined;
  readonly #unpace: (() => void)[] = [];
  readonly #rtcpSsrc = randomInt(1, 0xffffffff);
  #stopped = false;

  constructor(plan: ParticipantPlan, opts: ParticipantOptions) {
    this.plan = plan;
    this.#opts = opts;
    this.delayMs = opts.mode === 'webrtc' ? new Histogram() : undefined;
  }

  async #open(session: SfuSession, direction: 'send' | 'recv'): Promise<MediaPath> {
    const o = this.#opts;
    let path: MediaPath;
    if (o.mode !== 'webrtc')
      path = await openPlainPath(session, direction, o.srtp, o.srtpSuite, o.collector, o.receiveThreads);
    else {
      if (!o.webrtc) throw new LoadTestError('INTERNAL', 'webrtc mode needs a DTLS identity');
      this.timing.transports ??= [];
      path = session.openWebRtcPath
        ? await session.openWebRtcPath(direction, {
            identity: o.webrtc,
            suite: o.srtpSuite,
            sink: o.collector,
            timings: this.timing.transports,
            expectedConsumers: this.plan.expectedConsumers,
          })
        : await openWebRtcPath(session, direction, o.webrtc, o.srtpSuite, o.collector, this.timing.transports);
    }
    // The run ended while this transport was being set up: nothing may keep sending or checking.
    if (this.#stopped) {
      path.close();
      throw new LoadTestError('INTERNAL', 'the run stopped while this participant was joining');
    }
    return path;
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
    if (this.plan.subscribe) {
      const recv = await this.#open(session, 'recv');
      this.#recv = recv;
      if (recv instanceof ThreadedRecvPath) recv.onArrivals = (list, handledAt) => this.#onArrivals(list, handledAt);
      else
        recv.onPacket = (packet, rtcp, at) => {
          if (!rtcp) this.#onMedia(packet, at);
        };
      session.onConsumer = (c) => this.#addConsumer(c);
      await session.setRtpCapabilities(deviceCapabilities(session.routerRtpCapabilities));
    }
    if (this.plan.publish) {
      const send = await this.#open(session, 'send');
      this.#send = send;
      send.onPacket = (packet, rtcp) => {
        if (rtcp) this.#onFeedback(packet);
      };
      const audio = new OutStream(AUDIO_SPEC, AUDIO_PT);
      const keyPhase = Math.random();
      const layers = VIDEO_LAYERS.map((spec) => new OutStream(spec, VIDEO_PT, keyPhase));
      this.streams.push(audio, ...layers);
      const cname = `lt-${this.plan.identity}`;
      const audioTrack = await session.produce(send.transportId, 'audio', 'microphone', {
        codecs: [
          {
            mimeType: 'audio/opus',
            payloadType: AUDIO_PT,
            clockRate: 48000,
            channels: 2,
            parameters: {},
            rtcpFeedback: [],
          },
        ],
        encodings: [{ ssrc: audio.ssrc }],
        headerExtensions: [],
        rtcp: { cname, reducedSize: true },
      });
      const videoTrack = await session.produce(send.transportId, 'video', 'camera', {
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: VIDEO_PT,
            clockRate: 90000,
            parameters: {},
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          },
        ],
        encodings: layers.map((l) => ({
          ssrc: l.ssrc,
          scaleResolutionDownBy: 1280 / l.spec.width,
          maxBitrate: l.spec.bitrate,
        })),
        headerExtensions: [],
        rtcp: { cname, reducedSize: true },
      });
      this.#opts.collector.trackSources.set(audioTrack, audio);
      this.#opts.collector.trackSources.set(videoTrack, layers[layers.length - 1]!);
    }
    // WebRTC transports finish ICE and DTLS while the tracks are published; media starts once they have.
    await Promise.all([this.#recv?.connected, this.#send?.connected]);
    this.timing.connectedAt = performance.now();
    if (this.#send && !this.#stopped) {
      const send = this.#send;
      for (const s of this.streams) this.#unpace.push(this.#opts.pacer.add(s, (b) => send.send(b)));
    }
    this.timing.readyAt = performance.now();
  }

  #addConsumer(c: ConsumerInfo): void {
    const enc = (c.rtpParameters.encodings as { ssrc?: number }[] | undefined)?.[0];
    if (!enc?.ssrc) {
      this.#opts.collector.noteError(`consumer ${c.consumerId} has no SSRC`);
      return;
    }
    this.inStreams.set(enc.ssrc, new InStream(c, enc.ssrc));
    this.#session
      ?.resumeConsumer(c.consumerId)
      .catch((err: unknown) => this.#opts.collector.noteError(`resumeConsumer: ${(err as Error).message}`));
  }

  /** RTCP the SFU sends a publisher: NACKs are answered from the history, PLI/FIR make a key frame. */
  #onFeedback(msg: Buffer): void {
    const fb = parseRtcp(msg);
    const c = this.#opts.collector;
    for (const ssrc of fb.keyFrameRequests) {
      c.keyFrameRequestsFromServer++;
      this.streams.find((s) => s.ssrc === ssrc)?.requestKeyFrame();
    }
    for (const nack of fb.nacks) {
      const stream = this.streams.find((s) => s.ssrc === nack.ssrc);
      c.nacksFromServer += nack.seqs.length;
      if (!stream || !this.#send) continue;
      stream.nacksReceived += nack.seqs.length;
      for (const seq of nack.seqs) {
        const p = stream.retransmission(seq);
        if (p) this.#send.send(p);
      }
    }
  }

  /** On-loop receive (webrtc mode, or no receive threads): the delay is stamped here, queueing included. */
  #onMedia(msg: Buffer, now: number): void {
    const rtp = parseRtp(msg);
    if (!rtp) return;
    const probe = readProbe(msg, rtp.payloadStart, rtp.payloadEnd);
    this.#onRtp(rtp.ssrc, rtp.seq, msg.length, now, probe ? monoMs() - probe.sentAtMs : Number.NaN, probe?.streamIndex);
  }

  /** Packets a receive thread stamped at arrival: delay = arrival − send, queueing = handled − arrival. */
  #onArrivals(list: Arrival[], handledAt: number): void {
    const now = performance.now();
    const c = this.#opts.collector;
    for (const a of list) {
      c.queueMs.record(handledAt - a.arrivedAt);
      const probed = !Number.isNaN(a.sentAt);
      this.#onRtp(a.ssrc, a.seq, a.size, now, a.arrivedAt - a.sentAt, probed ? a.streamIndex : undefined);
    }
  }

  #onRtp(ssrc: number, seq: number, size: number, now: number, delay: number, streamIndex: number | undefined): void {
    const s = this.inStreams.get(ssrc);
    if (!s) return;
    this.timing.firstRtpAt ??= now;
    const gap = s.onPacket(seq, size, now);
    if (streamIndex !== undefined) {
      this.#opts.collector.delayMs.record(delay);
      this.delayMs?.record(delay);
      const src = streamsByIndex.get(streamIndex);
      if (src) s.layer = src.spec.layer;
    }
    if (gap && gap.length && this.#recv) {
      this.#opts.collector.nacksSent += gap.length;
      this.#recv.send(buildNack(this.#rtcpSsrc, s.ssrc, gap));
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const u of this.#unpace) u();
    for (const s of this.streams) s.close();
    this.#session?.close();
    this.#send?.close();
    this.#recv?.close();
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
        rtcpFeedback: ((c.rtcpFeedback as { type: string }[] | undefined) ?? []).filter(
          (f) => f.type === 'nack' || f.type === 'ccm',
        ),
      })),
    headerExtensions: [],
  };
}
