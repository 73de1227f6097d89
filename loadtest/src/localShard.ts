/**
 * The in-process shard: synthetic participants of its rooms in this process,
 * one pacer, one collector, receive threads (rtp mode). With one generator
 * process it is the whole generator; child processes run one each
 * (shardChild.ts).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LoadTestError } from './errors.js';
import { LoopLagSampler } from './loopLag.js';
import { Collector, Pacer, SyntheticParticipant, type InStream } from './participant.js';
import { ReceiveThreads } from './recvThreads.js';
import type { OutStream } from './rtp/media.js';
import { scenarioShape, type ScenarioShape } from './scenarios.js';
import type { SfuConnector } from './sfu.js';
import {
  pool,
  type GeneratorShard,
  type JoinSample,
  type RoomAssignment,
  type ShardConfig,
  type ShardJoinResult,
  type ShardSummary,
  type ShardWindow,
} from './shard.js';
import { createWebRtcIdentity, type WebRtcIdentity } from './webrtcPeer.js';

/** Counters at one instant; a window is the difference of two. */
interface Mark {
  out: Map<OutStream, { packets: number; bytes: number }>;
  in: Map<InStream, { packets: number; bytes: number; unique: number; expected: number; recovered: number }>;
  nacks: number;
  plis: number;
  nacksSent: number;
  framesLate: number;
  srtpFailures: number;
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
  atMs: number;
}

/** Join errors that no retry fixes: the run stops with them. */
const FATAL_JOIN_CODES = new Set(['AUTH', 'UNREACHABLE', 'UNSAFE_TARGET']);

export class LocalShard implements GeneratorShard {
  readonly index: number;
  readonly pid = process.pid;
  /** The in-process shard fails by throwing, never on its own. */
  readonly failure = new Promise<never>(() => undefined);
  readonly collector = new Collector();
  readonly pacer = new Pacer();
  readonly participants: SyntheticParticipant[] = [];
  readonly #config: ShardConfig;
  readonly #shape: ScenarioShape;
  readonly #connector: SfuConnector;
  readonly #webrtc: WebRtcIdentity | undefined;
  readonly #receiveThreads: ReceiveThreads | undefined;
  readonly #loop = new LoopLagSampler();
  #start: Mark | undefined;
  #joinFailures = 0;
  #summary: Promise<ShardSummary> | undefined;

  private constructor(index: number, config: ShardConfig, connector: SfuConnector, webrtc?: WebRtcIdentity) {
    this.index = index;
    this.#config = config;
    this.#shape = scenarioShape(config.scenario, config.roundsListeners);
    this.#connector = connector;
    this.#webrtc = webrtc;
    this.#receiveThreads =
      config.mode === 'rtp' && config.offLoopReceive ? new ReceiveThreads(this.collector) : undefined;
    this.#loop.start();
  }

  static async create(index: number, config: ShardConfig, connector: SfuConnector): Promise<LocalShard> {
    // One DTLS certificate per run, made before the clock starts (browsers also make theirs ahead of the call).
    const webrtc = config.mode === 'webrtc' ? await createWebRtcIdentity() : undefined;
    return new LocalShard(index, config, connector, webrtc);
  }

  async join(rooms: readonly RoomAssignment[]): Promise<ShardJoinResult> {
    const c = this.#config;
    let joined = 0;
    let failures = 0;
    const jobs = rooms.map((room) => {
      const members = this.#shape.plans(room.roomId, room.prefix).map(
        (plan) =>
          new SyntheticParticipant(plan, {
            mode: c.mode,
            srtp: c.mode === 'webrtc' || c.srtp,
            srtpSuite: c.srtpSuite,
            ...(this.#webrtc ? { webrtc: this.#webrtc } : {}),
            ...(this.#receiveThreads ? { receiveThreads: this.#receiveThreads } : {}),
            pacer: this.pacer,
            collector: this.collector,
          }),
      );
      this.participants.push(...members);
      // The first clinician opens the room (its kind comes from their token); the others then join together.
      return async () => {
        const [host, ...rest] = members;
        const results = [
          await Promise.allSettled([host!.start(this.#connector)]),
          await Promise.allSettled(rest.map((m) => m.start(this.#connector))),
        ].flat();
        for (const [i, r] of results.entries()) {
          if (r.status === 'fulfilled') {
            joined++;
            continue;
          }
          members[i]!.failure = (r.reason as Error).message;
          failures++;
          this.#joinFailures++;
          this.collector.noteError(`join failed: ${(r.reason as Error).message}`);
          if (r.reason instanceof LoadTestError && FATAL_JOIN_CODES.has(r.reason.code)) throw r.reason;
        }
      };
    });
    const results = await pool(jobs, c.joinConcurrency);
    const fatal = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (fatal) throw fatal.reason;
    return { joined, failures };
  }

  async beginWindow(): Promise<void> {
    this.#start = this.#mark();
    // The histograms and the loop-lag sampler cover exactly the window.
    this.collector.delayMs.reset();
    this.collector.queueMs.reset();
    this.pacer.lateMs.reset();
    this.#loop.reset();
  }

  async endWindow(): Promise<ShardWindow> {
    const a = this.#start;
    if (!a) throw new LoadTestError('INTERNAL', 'endWindow() before beginWindow()');
    const b = this.#mark();
    return this.#window(a, b);
  }

  #mark(): Mark {
    const c = this.collector;
    const m: Mark = {
      out: new Map(),
      in: new Map(),
      nacks: c.nacksFromServer,
      plis: c.keyFrameRequestsFromServer,
      nacksSent: c.nacksSent,
      framesLate: this.pacer.framesLate,
      srtpFailures: c.srtpFailures,
      cpu: process.cpuUsage(),
      elu: performance.eventLoopUtilization(),
      atMs: performance.now(),
    };
    for (const p of this.participants) {
      for (const s of p.streams) m.out.set(s, { packets: s.packets, bytes: s.bytes });
      for (const s of p.inStreams.values())
        m.in.set(s, {
          packets: s.packets,
          bytes: s.bytes,
          unique: s.unique,
          expected: s.expected,
          recovered: s.recovered,
        });
    }
    return m;
  }

  #window(a: Mark, b: Mark): ShardWindow {
    const c = this.collector;
    const sec = (b.atMs - a.atMs) / 1000;
    let sentPackets = 0;
    let sentBytes = 0;
    for (const [s, end] of b.out) {
      const start = a.out.get(s) ?? { packets: 0, bytes: 0 };
      sentPackets += end.packets - start.packets;
      sentBytes += end.bytes - start.bytes;
    }
    const w = {
      recvPackets: 0,
      recvBytes: 0,
      unique: 0,
      expected: 0,
      recovered: 0,
      expectedBytes: 0,
      stalled: 0,
      consumers: 0,
      videoConsumers: 0,
      topLayer: 0,
    };
    const stallCutoff = b.atMs - Math.min(1500, sec * 500);
    for (const [s, end] of b.in) {
      w.consumers++;
      const start = a.in.get(s) ?? { packets: 0, bytes: 0, unique: 0, expected: 0, recovered: 0 };
      w.recvPackets += end.packets - start.packets;
      w.recvBytes += end.bytes - start.bytes;
      w.unique += end.unique - start.unique;
      w.expected += end.expected - start.expected;
      w.recovered += end.recovered - start.recovered;
      if (s.lastAt < stallCutoff) w.stalled++;
      if (s.kind === 'video') {
        w.videoConsumers++;
        if (s.layer === 2) w.topLayer++;
      }
      // A subscriber's source is in this shard: its room is.
      const src = c.trackSources.get(s.trackId);
      const srcA = src ? a.out.get(src) : undefined;
      const srcB = src ? b.out.get(src) : undefined;
      if (srcA && srcB) w.expectedBytes += srcB.bytes - srcA.bytes;
    }
    const plans = this.participants.map((p) => p.plan);
    return {
      sec,
      participants: plans.length,
      publishers: plans.filter((p) => p.publish).length,
      expectedConsumers: plans.reduce((s, p) => s + p.expectedConsumers, 0),
      sentPackets,
      sentBytes,
      ...w,
      nacks: b.nacks - a.nacks,
      plis: b.plis - a.plis,
      nacksSent: b.nacksSent - a.nacksSent,
      framesLate: b.framesLate - a.framesLate,
      srtpFailures: b.srtpFailures - a.srtpFailures,
      sessionsLost: c.sessionsLost,
      cpuUs: b.cpu.user - a.cpu.user + (b.cpu.system - a.cpu.system),
      loopUtilization: performance.eventLoopUtilization(b.elu, a.elu).utilization,
      delay: c.delayMs.snapshot(),
      queue: c.queueMs.snapshot(),
      sendLate: this.pacer.lateMs.snapshot(),
      loopIntervals: this.#loop.intervals.snapshot(),
    };
  }

  close(): Promise<ShardSummary> {
    this.#summary ??= this.#close();
    return this.#summary;
  }

  async #close(): Promise<ShardSummary> {
    this.#loop.stop();
    this.pacer.stop();
    for (const p of this.participants) p.stop();
    await this.#receiveThreads?.close();
    const joins: JoinSample[] = this.participants
      .filter((p) => p.timing.readyAt !== undefined)
      .map((p) => {
        const t = p.timing;
        return {
          wsOpenMs: (t.wsOpenAt ?? t.startedAt) - t.startedAt,
          joinedMs: (t.joinedAt ?? t.startedAt) - t.startedAt,
          ...(t.connectedAt !== undefined ? { connectedMs: t.connectedAt - t.startedAt } : {}),
          readyMs: t.readyAt! - t.startedAt,
          ...(t.firstRtpAt !== undefined ? { firstRtpMs: t.firstRtpAt - t.startedAt } : {}),
        };
      });
    return { joins, joinFailures: this.#joinFailures, errors: this.collector.errors };
  }
}
