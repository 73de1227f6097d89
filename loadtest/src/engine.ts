/**
 * Runs a scenario against one SFU: adds rooms step by step, lets each step
 * settle, measures a window, and judges it against the knee criteria. Every
 * loop here is bounded by a step count and a deadline.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { LoadTestError } from './errors.js';
import { Histogram, quantiles } from './histogram.js';
import { Collector, Pacer, SyntheticParticipant, type InStream, type ParticipantPlan } from './participant.js';
import { ReceiveThreads } from './recvThreads.js';
import type { MediaMode } from './paths.js';
import type { OutStream } from './rtp/media.js';
import { DEFAULT_SRTP_SUITE, type SrtpSuite } from './rtp/srtp.js';
import type { ServerProbe, ServerSample } from './probes.js';
import type { SfuConnector } from './sfu.js';
import { createWebRtcIdentity } from './webrtc.js';

export const SCENARIOS = ['consults', 'clinic', 'rounds'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioShape {
  name: ScenarioName;
  description: string;
  /** Members of one room. */
  plans(roomId: string, prefix: string): ParticipantPlan[];
}

export function scenarioShape(name: ScenarioName, roundsListeners = 15): ScenarioShape {
  switch (name) {
    case 'consults':
      return {
        name,
        description: '1:1 consult rooms: doctor and patient both publish audio + simulcast video and see each other',
        plans: (room, prefix) =>
          (['doctor', 'patient'] as const).map((role) => ({
            identity: `${prefix}-${role}`,
            room,
            role,
            kind: 'consult' as const,
            publish: true,
            subscribe: true,
            expectedConsumers: 2,
          })),
      };
    case 'clinic':
      return {
        name,
        description: 'collaborative clinic rooms of 6: 5 clinicians publish and see each other, 1 observer listens',
        plans: (room, prefix) => [
          ...Array.from({ length: 5 }, (_, i) => ({
            identity: `${prefix}-dr${i}`,
            room,
            role: 'doctor' as const,
            kind: 'clinic' as const,
            publish: true,
            subscribe: true,
            expectedConsumers: 8,
          })),
          {
            identity: `${prefix}-obs`,
            room,
            role: 'observer' as const,
            kind: 'clinic' as const,
            publish: false,
            subscribe: true,
            expectedConsumers: 10,
          },
        ],
      };
    case 'rounds':
      return {
        name,
        description: `teaching rounds: 1 presenter publishes to ${roundsListeners} listeners per room`,
        plans: (room, prefix) => [
          {
            identity: `${prefix}-lead`,
            room,
            role: 'doctor' as const,
            kind: 'rounds' as const,
            publish: true,
            subscribe: false,
            expectedConsumers: 0,
          },
          ...Array.from({ length: roundsListeners }, (_, i) => ({
            identity: `${prefix}-l${i}`,
            room,
            role: 'observer' as const,
            kind: 'rounds' as const,
            publish: false,
            subscribe: true,
            expectedConsumers: 2,
          })),
        ],
      };
  }
}

/** Pass criteria of one step (the knee is the last step that meets all of them). */
export const CRITERIA = {
  maxLoss: 0.01,
  minReceivedRatio: 0.9,
  maxStalledTracks: 0,
  maxDelayP95Ms: 20,
} as const;

export interface StepResult {
  target: string;
  scenario: ScenarioName;
  step: number;
  rooms: number;
  participants: number;
  publishers: number;
  consumers: number;
  expectedConsumers: number;
  windowSec: number;
  sentPps: number;
  sentMbps: number;
  /** What the SFU forwarded to the subscribers (its egress as seen by them). */
  receivedPps: number;
  receivedMbps: number;
  /** What the subscribers should have received: the bytes their sources sent in the window. */
  expectedMbps: number;
  receivedRatio: number;
  loss: number;
  delayMs: { p50: number; p95: number; p99: number; max: number; samples: number };
  /** RTCP feedback per second: NACKed packets and key-frame requests (PLI/FIR) the SFU sent to publishers. */
  nackRate: number;
  pliRate: number;
  /** NACKed packets per second subscribers sent; recovered ones arrived by retransmission. */
  subscriberNackRate: number;
  recovered: number;
  stalledTracks: number;
  sessionsLost: number;
  framesLate: number;
  srtpFailures: number;
  /** Share of the video consumers on the top simulcast layer at the end of the window. */
  topLayerShare: number;
  server: {
    workerCpu: number[];
    workerCpuTotal: number;
    nodeCpu?: number;
    rssBytes?: number;
    eventLoopLagP99Ms?: number;
    memoryPerParticipantBytes?: number;
  };
  egressPerWorker: { pps: number; mbps: number }[];
  generator: GeneratorFigures;
  pass: boolean;
  failures: string[];
  /** A failing step: which side ran out — the server, or the generator (then the step says little about the server). */
  ranOut?: 'server' | 'generator';
  /** The figures behind ranOut. */
  ranOutWhy?: string;
  /** Set when the first window failed (with its reasons) and this is the second measurement. */
  retried?: string;
}

/** The generator's own state over a window: what says whether it, not the server, was the limit. */
export interface GeneratorFigures {
  /** Share of one core used by the generator process (all its threads; summed over processes). */
  cpu: number;
  eventLoopLagP99Ms: number;
  /** Busy share of the main event loop (the busiest process's, when there are several). */
  loopUtilization?: number;
  /** Where the delay's arrival stamp was taken: on receive threads (off the main loop) or on the main loop. */
  delayClock?: 'off-loop' | 'on-loop';
  /** The generator's queueing: arrival on a receive thread → handled on the main loop (off-loop runs only). */
  queueMs?: { p50: number; p95: number; p99: number };
  /** How late the pacer sent frames after they were due. */
  sendLateMs?: { p50: number; p95: number; p99: number };
  /** Generator processes this window ran on (1 unless --generator-procs). */
  procs?: number;
}

/** The generator ran out when its main loop is saturated, its pacer fell behind, or its loop lag alone would break the delay bound. */
export const GENERATOR_LIMITS = {
  loopUtilization: 0.9,
  sendLateP95Ms: 10,
  eventLoopLagP99Ms: 20,
  queueP95Ms: 20,
} as const;

/** Says which side ran out in a failing step, from the generator's own figures and the server's. */
export function attribute(s: Pick<StepResult, 'generator' | 'framesLate' | 'server' | 'failures'>): {
  ranOut: 'server' | 'generator';
  why: string;
} {
  const g = s.generator;
  const gen: string[] = [];
  if (s.framesLate > 0) gen.push(`${s.framesLate} frames sent > 200 ms late`);
  if ((g.loopUtilization ?? 0) >= GENERATOR_LIMITS.loopUtilization)
    gen.push(`generator loop ${(g.loopUtilization! * 100).toFixed(0)} % busy`);
  if ((g.sendLateMs?.p95 ?? 0) >= GENERATOR_LIMITS.sendLateP95Ms)
    gen.push(`send timer late p95 ${g.sendLateMs!.p95.toFixed(1)} ms`);
  if (g.eventLoopLagP99Ms >= GENERATOR_LIMITS.eventLoopLagP99Ms)
    gen.push(`generator loop lag p99 ${g.eventLoopLagP99Ms.toFixed(1)} ms`);
  // On-loop delay includes the generator's queueing, so a delay failure there is the generator's too.
  if (g.delayClock === 'on-loop' && s.failures.some((f) => f.startsWith('delay')) && g.eventLoopLagP99Ms >= 5)
    gen.push('delay stamped on a lagging main loop');
  if (gen.length) return { ranOut: 'generator', why: gen.join(', ') };
  return {
    ranOut: 'server',
    why: `${s.failures.join('; ')} with the generator keeping up (worker CPU ${(s.server.workerCpuTotal * 100).toFixed(0)} %, generator loop ${((g.loopUtilization ?? 0) * 100).toFixed(0)} % busy, queueing p95 ${g.queueMs ? g.queueMs.p95.toFixed(1) : '-'} ms)`,
  };
}

export interface JoinSample {
  wsOpenMs: number;
  joinedMs: number;
  /** Every transport can carry media (webrtc: ICE + DTLS done). */
  connectedMs?: number;
  readyMs: number;
  firstRtpMs?: number;
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  n: number;
}

/** One WebRTC participant from its start, in ms; media figures over the whole run. */
export interface WebRtcParticipantResult {
  identity: string;
  role: string;
  publish: boolean;
  subscribe: boolean;
  /** Why it did not join, when it did not. */
  error?: string;
  wsOpenMs?: number;
  joinedMs?: number;
  connectedMs?: number;
  readyMs?: number;
  firstRtpMs?: number;
  transports: { direction: 'send' | 'recv'; createMs: number; iceMs?: number; dtlsMs?: number; iceLost?: number }[];
  consumers: number;
  packetsReceived: number;
  loss: number;
  delayMs: { p50: number; p95: number; p99: number };
}

/** The `webrtc` block of a run: setup through real ICE + DTLS, and what came through. */
export interface WebRtcSummary {
  participants: number;
  /** Participants whose transports all finished ICE + DTLS. */
  connected: number;
  failed: number;
  join: { wsOpen: Quantiles; joined: Quantiles; connected: Quantiles; ready: Quantiles; firstRtp: Quantiles };
  /** Per transport. */
  iceMs: Quantiles;
  dtlsMs: Quantiles;
  /** Times a connected transport's ICE went disconnected or closed. */
  iceLost: number;
  packetsReceived: number;
  loss: number;
  delayMs: { p50: number; p95: number; p99: number };
  perParticipant: WebRtcParticipantResult[];
}

export interface RunResult {
  target: string;
  scenario: ScenarioName;
  description: string;
  mode: MediaMode;
  srtp: boolean;
  /** The SRTP suite, when media was encrypted. */
  srtpSuite?: SrtpSuite;
  steps: StepResult[];
  knee: StepResult | null;
  joins: JoinSample[];
  joinFailures: number;
  errors: string[];
  /** Why the ramp stopped. */
  stopReason: string;
  /** webrtc mode: join and setup figures through ICE + DTLS, per participant and overall. */
  webrtc?: WebRtcSummary;
}

export interface RunOptions {
  connector: SfuConnector;
  probe?: ServerProbe;
  scenario: ScenarioName;
  /** Cumulative room counts, one per step. */
  steps: number[];
  /** rtp (default): plain transports; webrtc: ICE + DTLS-SRTP transports. */
  mode?: MediaMode;
  /** rtp mode: encrypt media (webrtc media is always SRTP). */
  srtp: boolean;
  /** The SRTP suite (default AEAD_AES_128_GCM; Chromium negotiates AEAD_AES_256_GCM, the same construction with a longer key). */
  srtpSuite?: SrtpSuite;
  warmupSec: number;
  windowSec: number;
  /** Stop after the first failing step (the knee is then known). */
  stopAtKnee: boolean;
  /** Re-measure a failing step once before calling it failed (default true). */
  confirmFailures?: boolean;
  /** Hard wall-clock bound for the whole run. */
  deadlineMs: number;
  roundsListeners?: number;
  /** Joins in flight at once. */
  joinConcurrency?: number;
  /** rtp mode: receivers' sockets on worker threads, so arrival is stamped off the main loop (default true). */
  offLoopReceive?: boolean;
  runId: string;
  onProgress?: (p: { phase: string; step: number; steps: number; detail: string; result?: StepResult }) => void;
}

/** The event-loop monitor reports whole timer intervals; lag is what exceeds the interval. */
const LOOP_RESOLUTION_MS = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `jobs` with at most `limit` in flight. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await jobs[i]!() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

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
  server?: ServerSample;
}

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const shape = scenarioShape(opts.scenario, opts.roundsListeners);
  const collector = new Collector();
  const pacer = new Pacer();
  const participants: SyntheticParticipant[] = [];
  const steps: StepResult[] = [];
  let joinFailures = 0;
  let stopReason = 'all steps ran';
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  let baselineServer: ServerSample | undefined;
  const mode = opts.mode ?? 'rtp';
  const receiveThreads = mode === 'rtp' && opts.offLoopReceive !== false ? new ReceiveThreads(collector) : undefined;
  const srtpSuite = opts.srtpSuite ?? DEFAULT_SRTP_SUITE;
  // One DTLS certificate per run, made before the clock starts (browsers also make theirs ahead of the call).
  const webrtc = mode === 'webrtc' ? await createWebRtcIdentity() : undefined;
  try {
    if (opts.probe) baselineServer = await opts.probe.sample();
    let rooms = 0;
    for (let stepIndex = 0; stepIndex < opts.steps.length; stepIndex++) {
      const target = opts.steps[stepIndex]!;
      const stepCost = (opts.warmupSec + opts.windowSec) * 1000 + 5000;
      if (performance.now() + stepCost > opts.deadlineMs) {
        stopReason = 'time budget reached';
        break;
      }
      opts.onProgress?.({ phase: 'joining', step: stepIndex, steps: opts.steps.length, detail: `${target} rooms` });
      const jobs: (() => Promise<void>)[] = [];
      for (; rooms < target; rooms++) {
        const roomId = `${opts.runId}-${opts.scenario}-${rooms}`;
        const members = shape.plans(roomId, `${opts.runId}-${rooms}`).map(
          (plan) =>
            new SyntheticParticipant(plan, {
              mode,
              srtp: mode === 'webrtc' || opts.srtp,
              srtpSuite,
              ...(webrtc ? { webrtc } : {}),
              ...(receiveThreads ? { receiveThreads } : {}),
              pacer,
              collector,
            }),
        );
        participants.push(...members);
        // The first clinician opens the room (its kind comes from their token); the others then join together.
        jobs.push(async () => {
          const [host, ...rest] = members;
          const results = [
            await Promise.allSettled([host!.start(opts.connector)]),
            await Promise.allSettled(rest.map((m) => m.start(opts.connector))),
          ].flat();
          for (const [i, r] of results.entries()) {
            if (r.status === 'rejected') {
              members[i]!.failure = (r.reason as Error).message;
              joinFailures++;
              collector.noteError(`join failed: ${(r.reason as Error).message}`);
              if (
                r.reason instanceof LoadTestError &&
                (r.reason.code === 'AUTH' || r.reason.code === 'UNREACHABLE' || r.reason.code === 'UNSAFE_TARGET')
              ) {
                throw r.reason;
              }
            }
          }
        });
      }
      const joinResults = await pool(jobs, opts.joinConcurrency ?? 8);
      const fatal = joinResults.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (fatal) throw fatal.reason;

      opts.onProgress?.({ phase: 'warming up', step: stepIndex, steps: opts.steps.length, detail: `${target} rooms` });
      await sleep(opts.warmupSec * 1000);
      const measure = async (): Promise<StepResult> => {
        const start = await mark(participants, collector, pacer, opts.probe);
        // The delay histogram and the loop-lag monitor cover exactly the window.
        collector.delayMs.reset();
        collector.queueMs.reset();
        pacer.lateMs.reset();
        loop.reset();
        opts.onProgress?.({ phase: 'measuring', step: stepIndex, steps: opts.steps.length, detail: `${target} rooms` });
        await sleep(opts.windowSec * 1000);
        const end = await mark(participants, collector, pacer, opts.probe);
        return judge(
          opts,
          shape,
          stepIndex,
          target,
          participants,
          collector,
          start,
          end,
          Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
          baselineServer,
          pacer,
        );
      };
      let result = await measure();
      // One bad window can be a neighbour's burst on a shared machine: a step fails only if a second window fails too.
      if (
        !result.pass &&
        opts.confirmFailures !== false &&
        performance.now() + opts.windowSec * 1000 + 5000 < opts.deadlineMs
      ) {
        const first = result.failures.join('; ');
        result = await measure();
        result.retried = first;
      }
      steps.push(result);
      opts.onProgress?.({
        phase: 'done',
        step: stepIndex,
        steps: opts.steps.length,
        detail: `${target} rooms`,
        result,
      });
      if (!result.pass && opts.stopAtKnee) {
        stopReason = 'knee found (a step failed the criteria)';
        break;
      }
    }
  } finally {
    loop.disable();
    pacer.stop();
    for (const p of participants) p.stop();
    await receiveThreads?.close();
  }
  const knee = kneeOf(steps);
  const joins: JoinSample[] = participants
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
  return {
    target: opts.connector.name,
    scenario: opts.scenario,
    description: shape.description,
    mode,
    srtp: mode === 'webrtc' || opts.srtp,
    ...(mode === 'webrtc' || opts.srtp ? { srtpSuite } : {}),
    steps,
    knee,
    joins,
    joinFailures,
    errors: collector.errors,
    stopReason,
    ...(mode === 'webrtc' ? { webrtc: webrtcSummary(participants) } : {}),
  };
}

const histQuantiles = (h: Histogram) => ({ p50: h.quantile(0.5), p95: h.quantile(0.95), p99: h.quantile(0.99) });

/** Loss over the whole run: sequence numbers never received ÷ expected. */
function streamLoss(streams: Iterable<InStream>): { packets: number; unique: number; expected: number } {
  let packets = 0;
  let unique = 0;
  let expected = 0;
  for (const s of streams) {
    packets += s.packets;
    unique += s.unique;
    expected += s.expected;
  }
  return { packets, unique, expected };
}

export function webrtcSummary(participants: readonly SyntheticParticipant[]): WebRtcSummary {
  const since = (p: SyntheticParticipant, at: number | undefined) =>
    at === undefined ? undefined : at - p.timing.startedAt;
  const perParticipant = participants.map((p): WebRtcParticipantResult => {
    const t = p.timing;
    const l = streamLoss(p.inStreams.values());
    const optional = {
      wsOpenMs: since(p, t.wsOpenAt),
      joinedMs: since(p, t.joinedAt),
      connectedMs: since(p, t.connectedAt),
      readyMs: since(p, t.readyAt),
      firstRtpMs: since(p, t.firstRtpAt),
    };
    return {
      identity: p.plan.identity,
      role: p.plan.role,
      publish: p.plan.publish,
      subscribe: p.plan.subscribe,
      ...(p.failure !== undefined ? { error: p.failure } : {}),
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
      transports: (t.transports ?? []).map((x) => ({
        direction: x.direction,
        createMs: x.createMs,
        ...(x.iceMs !== undefined ? { iceMs: x.iceMs } : {}),
        ...(x.dtlsMs !== undefined ? { dtlsMs: x.dtlsMs } : {}),
        ...(x.iceLost ? { iceLost: x.iceLost } : {}),
      })),
      consumers: p.inStreams.size,
      packetsReceived: l.packets,
      loss: l.expected > 0 ? Math.max(0, 1 - l.unique / l.expected) : 0,
      delayMs: p.delayMs ? histQuantiles(p.delayMs) : { p50: Number.NaN, p95: Number.NaN, p99: Number.NaN },
    };
  });
  const pick = (f: (r: WebRtcParticipantResult) => number | undefined) =>
    perParticipant.map(f).filter((v): v is number => v !== undefined);
  const transports = perParticipant.flatMap((r) => r.transports);
  const all = new Histogram();
  for (const p of participants) if (p.delayMs) all.merge(p.delayMs);
  const l = streamLoss(participants.flatMap((p) => [...p.inStreams.values()]));
  return {
    participants: participants.length,
    connected: perParticipant.filter((r) => r.connectedMs !== undefined).length,
    failed: perParticipant.filter((r) => r.error !== undefined).length,
    join: {
      wsOpen: quantiles(pick((r) => r.wsOpenMs)),
      joined: quantiles(pick((r) => r.joinedMs)),
      connected: quantiles(pick((r) => r.connectedMs)),
      ready: quantiles(pick((r) => r.readyMs)),
      firstRtp: quantiles(pick((r) => r.firstRtpMs)),
    },
    iceMs: quantiles(transports.map((x) => x.iceMs).filter((v): v is number => v !== undefined)),
    dtlsMs: quantiles(transports.map((x) => x.dtlsMs).filter((v): v is number => v !== undefined)),
    iceLost: transports.reduce((s, x) => s + (x.iceLost ?? 0), 0),
    packetsReceived: l.packets,
    loss: l.expected > 0 ? Math.max(0, 1 - l.unique / l.expected) : 0,
    delayMs: histQuantiles(all),
    perParticipant,
  };
}

/** The knee: the last passing step before the first failing one. */
export function kneeOf(steps: readonly StepResult[]): StepResult | null {
  let knee: StepResult | null = null;
  for (const s of steps) {
    if (!s.pass) break;
    knee = s;
  }
  return knee;
}

async function mark(
  participants: SyntheticParticipant[],
  c: Collector,
  pacer: Pacer,
  probe?: ServerProbe,
): Promise<Mark> {
  const server = probe ? await probe.sample().catch(() => undefined) : undefined;
  const m: Mark = {
    out: new Map(),
    in: new Map(),
    nacks: c.nacksFromServer,
    plis: c.keyFrameRequestsFromServer,
    nacksSent: c.nacksSent,
    framesLate: pacer.framesLate,
    srtpFailures: c.srtpFailures,
    cpu: process.cpuUsage(),
    elu: performance.eventLoopUtilization(),
    atMs: performance.now(),
    ...(server ? { server } : {}),
  };
  for (const p of participants) {
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

function judge(
  opts: RunOptions,
  shape: ScenarioShape,
  step: number,
  rooms: number,
  participants: SyntheticParticipant[],
  c: Collector,
  a: Mark,
  b: Mark,
  generatorLagMs: number,
  baseline: ServerSample | undefined,
  pacer: Pacer,
): StepResult {
  const sec = (b.atMs - a.atMs) / 1000;
  let sentPackets = 0;
  let sentBytes = 0;
  for (const [s, end] of b.out) {
    const start = a.out.get(s) ?? { packets: 0, bytes: 0 };
    sentPackets += end.packets - start.packets;
    sentBytes += end.bytes - start.bytes;
  }
  let recvPackets = 0;
  let recvBytes = 0;
  let unique = 0;
  let expected = 0;
  let recovered = 0;
  let expectedBytes = 0;
  let stalled = 0;
  let consumers = 0;
  let videoConsumers = 0;
  let topLayer = 0;
  const stallCutoff = b.atMs - Math.min(1500, sec * 500);
  for (const [s, end] of b.in) {
    consumers++;
    const start = a.in.get(s) ?? { packets: 0, bytes: 0, unique: 0, expected: 0, recovered: 0 };
    recvPackets += end.packets - start.packets;
    recvBytes += end.bytes - start.bytes;
    unique += end.unique - start.unique;
    expected += end.expected - start.expected;
    recovered += end.recovered - start.recovered;
    if (s.lastAt < stallCutoff) stalled++;
    if (s.kind === 'video') {
      videoConsumers++;
      if (s.layer === 2) topLayer++;
    }
    const src = c.trackSources.get(s.trackId);
    const srcA = src ? a.out.get(src) : undefined;
    const srcB = src ? b.out.get(src) : undefined;
    if (srcA && srcB) expectedBytes += srcB.bytes - srcA.bytes;
  }
  const plans = participants.map((p) => p.plan);
  const expectedConsumers = plans.reduce((s, p) => s + p.expectedConsumers, 0);
  // A consumer that never appeared is a track nobody can see.
  stalled += Math.max(0, expectedConsumers - consumers);
  const loss = expected > 0 ? Math.max(0, 1 - unique / expected) : 0;
  const receivedRatio = expectedBytes > 0 ? recvBytes / expectedBytes : 0;
  const delay = {
    ...histQuantiles(c.delayMs),
    max: c.delayMs.max,
    samples: c.delayMs.count,
  };
  const cpuUs = b.cpu.user - a.cpu.user + (b.cpu.system - a.cpu.system);

  const server: StepResult['server'] = { workerCpu: [], workerCpuTotal: 0 };
  if (a.server && b.server) {
    const wall = (b.server.atMs - a.server.atMs) / 1000;
    server.workerCpu = b.server.workerCpuSec.map((v, i) => (v - (a.server!.workerCpuSec[i] ?? v)) / wall);
    server.workerCpuTotal = server.workerCpu.reduce((s, v) => s + v, 0);
    if (a.server.nodeCpuSec !== undefined && b.server.nodeCpuSec !== undefined)
      server.nodeCpu = (b.server.nodeCpuSec - a.server.nodeCpuSec) / wall;
    const rss = (b.server.nodeRssBytes ?? 0) + (b.server.workerRssBytes ?? 0);
    if (rss > 0) server.rssBytes = rss;
    if (b.server.eventLoopLagP99Ms !== undefined) server.eventLoopLagP99Ms = b.server.eventLoopLagP99Ms;
    const base = baseline ? (baseline.nodeRssBytes ?? 0) + (baseline.workerRssBytes ?? 0) : 0;
    if (rss > base && base > 0 && plans.length > 0) server.memoryPerParticipantBytes = (rss - base) / plans.length;
  }
  const workers = Math.max(1, server.workerCpu.length);
  const recvPps = recvPackets / sec;
  const recvMbps = (recvBytes * 8) / sec / 1e6;

  const failures: string[] = [];
  if (loss >= CRITERIA.maxLoss) failures.push(`loss ${(loss * 100).toFixed(2)} % ≥ 1 %`);
  if (receivedRatio < CRITERIA.minReceivedRatio)
    failures.push(`received ${(receivedRatio * 100).toFixed(1)} % of sent < 90 %`);
  if (stalled > CRITERIA.maxStalledTracks) failures.push(`${stalled} stalled track(s)`);
  if (!(delay.p95 < CRITERIA.maxDelayP95Ms)) failures.push(`delay p95 ${delay.p95.toFixed(1)} ms ≥ 20 ms`);
  const sessionsLost = c.sessionsLost;
  if (sessionsLost > 0) failures.push(`${sessionsLost} session(s) closed by the server`);
  // Frames the pacer had to skip mean the step's load was never offered: whatever the server did
  // with the rest, the step cannot pass (it would put the knee beyond what was measured).
  const framesLate = b.framesLate - a.framesLate;
  if (framesLate > 0) failures.push(`the generator skipped ${framesLate} frames (it could not send this load)`);

  const result: StepResult = {
    target: opts.connector.name,
    scenario: shape.name,
    step,
    rooms,
    participants: plans.length,
    publishers: plans.filter((p) => p.publish).length,
    consumers,
    expectedConsumers,
    windowSec: sec,
    sentPps: sentPackets / sec,
    sentMbps: (sentBytes * 8) / sec / 1e6,
    receivedPps: recvPps,
    receivedMbps: recvMbps,
    expectedMbps: (expectedBytes * 8) / sec / 1e6,
    receivedRatio,
    loss,
    delayMs: delay,
    nackRate: (b.nacks - a.nacks) / sec,
    pliRate: (b.plis - a.plis) / sec,
    subscriberNackRate: (b.nacksSent - a.nacksSent) / sec,
    recovered,
    stalledTracks: stalled,
    sessionsLost,
    framesLate,
    srtpFailures: b.srtpFailures - a.srtpFailures,
    topLayerShare: videoConsumers ? topLayer / videoConsumers : 0,
    server,
    egressPerWorker: Array.from({ length: workers }, () => ({ pps: recvPps / workers, mbps: recvMbps / workers })),
    generator: {
      cpu: cpuUs / 1e6 / sec,
      eventLoopLagP99Ms: generatorLagMs,
      loopUtilization: performance.eventLoopUtilization(b.elu, a.elu).utilization,
      delayClock: c.queueMs.count > 0 ? 'off-loop' : 'on-loop',
      ...(c.queueMs.count > 0 ? { queueMs: histQuantiles(c.queueMs) } : {}),
      sendLateMs: histQuantiles(pacer.lateMs),
      procs: 1,
    },
    pass: failures.length === 0,
    failures,
  };
  if (!result.pass) {
    const a = attribute(result);
    result.ranOut = a.ranOut;
    result.ranOutWhy = a.why;
  }
  return result;
}

export function joinSummary(joins: readonly JoinSample[]) {
  const pick = (f: (j: JoinSample) => number | undefined) => joins.map(f).filter((v): v is number => v !== undefined);
  return {
    wsOpen: quantiles(pick((j) => j.wsOpenMs)),
    joined: quantiles(pick((j) => j.joinedMs)),
    connected: quantiles(pick((j) => j.connectedMs)),
    ready: quantiles(pick((j) => j.readyMs)),
    firstRtp: quantiles(pick((j) => j.firstRtpMs)),
  };
}
