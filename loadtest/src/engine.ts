/**
 * Runs a scenario against one SFU: adds rooms step by step, lets each step
 * settle, measures a window, and judges it against the knee criteria. Every
 * loop here is bounded by a step count and a deadline. The synthetic
 * participants live in generator shards (shard.ts): this process, and with
 * --generator-procs N also N − 1 child processes; each step's counts are
 * added and its histograms merged over the shards before it is judged. The
 * server probe stays here.
 */
import { performance } from 'node:perf_hooks';
import { ChildShard } from './childShard.js';
import type { ConnectorSpec } from './connectorSpec.js';
import { UsageError } from './errors.js';
import { Histogram, quantiles, type HistogramSnapshot } from './histogram.js';
import { LocalShard } from './localShard.js';
import { loopLagP99Ms } from './loopLag.js';
import type { SyntheticParticipant, InStream } from './participant.js';
import type { MediaMode } from './paths.js';
import { DEFAULT_SRTP_SUITE, type SrtpSuite } from './rtp/srtp.js';
import type { ServerProbe, ServerSample } from './probes.js';
import { scenarioShape, type ScenarioName, type ScenarioShape } from './scenarios.js';
import type { SfuConnector } from './sfu.js';
import type { GeneratorShard, JoinSample, RoomAssignment, ShardConfig, ShardSummary, ShardWindow } from './shard.js';

export { SCENARIOS, scenarioShape, type ScenarioName, type ScenarioShape } from './scenarios.js';

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
  /** Each process's share when there are several: participants, CPU (share of one core), main-loop busy share. */
  perProc?: { pid: number; participants: number; cpu: number; loopUtilization: number }[];
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

export type { JoinSample } from './shard.js';

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
  /**
   * Generator processes (default 1: everything in this process, as before). With N > 1, rooms go
   * whole to N shards (room i → shard i mod N): this process runs shard 0, N − 1 child processes
   * the others. Needs `connectorSpec` (the children build their own connector from it) and rtp mode.
   */
  generatorProcs?: number;
  /** How a child process rebuilds `connector` (Huizhen over its front door). */
  connectorSpec?: ConnectorSpec;
  /** CPUs for the shards (index i for shard i, wrapping); shard 0 is this process, already placed by the caller. */
  shardCpus?: readonly number[];
  /** Called once the shards run, with their process ids (this process first). */
  onShards?: (pids: readonly number[]) => void;
  runId: string;
  onProgress?: (p: { phase: string; step: number; steps: number; detail: string; result?: StepResult }) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects as soon as any shard fails, so a dead child process ends the run instead of leaving it waiting. */
function waitOrFail(ms: number, shards: readonly GeneratorShard[]): Promise<void> {
  return Promise.race([sleep(ms), ...shards.map((s) => s.failure)]);
}

/** Shard 0 in this process, the others as child processes (rtp mode over Huizhen only). */
async function startShards(opts: RunOptions, mode: MediaMode, shards: GeneratorShard[]): Promise<LocalShard> {
  const procs = opts.generatorProcs ?? 1;
  if (!Number.isInteger(procs) || procs < 1)
    throw new UsageError(`generator processes must be a whole number ≥ 1 (got ${procs})`);
  if (procs > 1 && mode !== 'rtp')
    throw new UsageError(
      'more than one generator process needs --mode rtp (webrtc runs are for join time, in one process)',
    );
  if (procs > 1 && !opts.connectorSpec)
    throw new UsageError(
      `more than one generator process needs a connector a child process can rebuild (${opts.connector.name} has none)`,
    );
  const config: ShardConfig = {
    scenario: opts.scenario,
    ...(opts.roundsListeners !== undefined ? { roundsListeners: opts.roundsListeners } : {}),
    mode,
    srtp: mode === 'webrtc' || opts.srtp,
    srtpSuite: opts.srtpSuite ?? DEFAULT_SRTP_SUITE,
    offLoopReceive: mode === 'rtp' && opts.offLoopReceive !== false,
    // The server sees the same joins in flight however many processes send them.
    joinConcurrency: Math.max(1, Math.round((opts.joinConcurrency ?? 8) / procs)),
  };
  const local = await LocalShard.create(0, config, opts.connector);
  shards.push(local);
  const cpus = opts.shardCpus ?? [];
  const children = await Promise.allSettled(
    Array.from({ length: procs - 1 }, (_, k) => {
      const index = k + 1;
      const cpu = cpus.length ? cpus[index % cpus.length] : undefined;
      return ChildShard.start({
        index,
        config,
        connector: opts.connectorSpec!,
        ...(cpu !== undefined ? { cpu } : {}),
      });
    }),
  );
  for (const c of children) if (c.status === 'fulfilled') shards.push(c.value);
  const failed = children.find((c): c is PromiseRejectedResult => c.status === 'rejected');
  if (failed) throw failed.reason;
  opts.onShards?.(shards.map((s) => s.pid));
  return local;
}

export async function runScenario(opts: RunOptions): Promise<RunResult> {
  const shape = scenarioShape(opts.scenario, opts.roundsListeners);
  const mode = opts.mode ?? 'rtp';
  const srtpSuite = opts.srtpSuite ?? DEFAULT_SRTP_SUITE;
  const steps: StepResult[] = [];
  const shards: GeneratorShard[] = [];
  let local: LocalShard | undefined;
  let summaries: ShardSummary[];
  let stopReason = 'all steps ran';
  let baselineServer: ServerSample | undefined;
  try {
    local = await startShards(opts, mode, shards);
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
      // Rooms go to shards whole, so no media crosses processes.
      const perShard: RoomAssignment[][] = shards.map(() => []);
      for (; rooms < target; rooms++)
        perShard[rooms % shards.length]!.push({
          roomId: `${opts.runId}-${opts.scenario}-${rooms}`,
          prefix: `${opts.runId}-${rooms}`,
        });
      const joined = await Promise.allSettled(shards.map((s, i) => s.join(perShard[i]!)));
      const fatal = joined.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (fatal) throw fatal.reason;

      opts.onProgress?.({ phase: 'warming up', step: stepIndex, steps: opts.steps.length, detail: `${target} rooms` });
      await waitOrFail(opts.warmupSec * 1000, shards);
      const measure = async (): Promise<StepResult> => {
        const serverStart = opts.probe ? await opts.probe.sample().catch(() => undefined) : undefined;
        await Promise.all(shards.map((s) => s.beginWindow()));
        opts.onProgress?.({ phase: 'measuring', step: stepIndex, steps: opts.steps.length, detail: `${target} rooms` });
        await waitOrFail(opts.windowSec * 1000, shards);
        const serverEnd = opts.probe ? await opts.probe.sample().catch(() => undefined) : undefined;
        const windows = await Promise.all(shards.map((s) => s.endWindow()));
        return judge(opts, shape, stepIndex, target, windows, shards, serverStart, serverEnd, baselineServer);
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
    summaries = await Promise.all(shards.map((s) => s.close()));
  } finally {
    // Closing is idempotent: after a failure this stops whatever still runs (and kills failed children).
    await Promise.allSettled(shards.map((s) => s.close()));
  }
  const knee = kneeOf(steps);
  return {
    target: opts.connector.name,
    scenario: opts.scenario,
    description: shape.description,
    mode,
    srtp: mode === 'webrtc' || opts.srtp,
    ...(mode === 'webrtc' || opts.srtp ? { srtpSuite } : {}),
    steps,
    knee,
    joins: summaries.flatMap((s) => s.joins),
    joinFailures: summaries.reduce((n, s) => n + s.joinFailures, 0),
    errors: summaries.flatMap((s) => s.errors).slice(0, 50),
    stopReason,
    // webrtc runs are one process: its participants are all here.
    ...(mode === 'webrtc' && local ? { webrtc: webrtcSummary(local.participants) } : {}),
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

/** Adds up the shards' windows: counts summed, histograms merged bucket by bucket. */
function mergeWindows(windows: readonly ShardWindow[]) {
  const sum = (f: (w: ShardWindow) => number) => windows.reduce((s, w) => s + f(w), 0);
  const hist = (f: (w: ShardWindow) => HistogramSnapshot) => Histogram.fromSnapshots(windows.map(f));
  return {
    // Each shard measured the same window on its own clock; their lengths differ by IPC latency only.
    sec: sum((w) => w.sec) / windows.length,
    participants: sum((w) => w.participants),
    publishers: sum((w) => w.publishers),
    expectedConsumers: sum((w) => w.expectedConsumers),
    consumers: sum((w) => w.consumers),
    videoConsumers: sum((w) => w.videoConsumers),
    topLayer: sum((w) => w.topLayer),
    stalled: sum((w) => w.stalled),
    sentPackets: sum((w) => w.sentPackets),
    sentBytes: sum((w) => w.sentBytes),
    recvPackets: sum((w) => w.recvPackets),
    recvBytes: sum((w) => w.recvBytes),
    unique: sum((w) => w.unique),
    expected: sum((w) => w.expected),
    recovered: sum((w) => w.recovered),
    expectedBytes: sum((w) => w.expectedBytes),
    nacks: sum((w) => w.nacks),
    plis: sum((w) => w.plis),
    nacksSent: sum((w) => w.nacksSent),
    framesLate: sum((w) => w.framesLate),
    srtpFailures: sum((w) => w.srtpFailures),
    sessionsLost: sum((w) => w.sessionsLost),
    cpuUs: sum((w) => w.cpuUs),
    loopUtilization: Math.max(...windows.map((w) => w.loopUtilization)),
    delay: hist((w) => w.delay),
    queue: hist((w) => w.queue),
    sendLate: hist((w) => w.sendLate),
    loopIntervals: hist((w) => w.loopIntervals),
  };
}

function judge(
  opts: RunOptions,
  shape: ScenarioShape,
  step: number,
  rooms: number,
  windows: readonly ShardWindow[],
  shards: readonly GeneratorShard[],
  a: ServerSample | undefined,
  b: ServerSample | undefined,
  baseline: ServerSample | undefined,
): StepResult {
  const w = mergeWindows(windows);
  const sec = w.sec;
  // A consumer that never appeared is a track nobody can see.
  const stalled = w.stalled + Math.max(0, w.expectedConsumers - w.consumers);
  const loss = w.expected > 0 ? Math.max(0, 1 - w.unique / w.expected) : 0;
  const receivedRatio = w.expectedBytes > 0 ? w.recvBytes / w.expectedBytes : 0;
  const delay = {
    ...histQuantiles(w.delay),
    max: w.delay.max,
    samples: w.delay.count,
  };

  const server: StepResult['server'] = { workerCpu: [], workerCpuTotal: 0 };
  if (a && b) {
    const wall = (b.atMs - a.atMs) / 1000;
    server.workerCpu = b.workerCpuSec.map((v, i) => (v - (a.workerCpuSec[i] ?? v)) / wall);
    server.workerCpuTotal = server.workerCpu.reduce((s, v) => s + v, 0);
    if (a.nodeCpuSec !== undefined && b.nodeCpuSec !== undefined) server.nodeCpu = (b.nodeCpuSec - a.nodeCpuSec) / wall;
    const rss = (b.nodeRssBytes ?? 0) + (b.workerRssBytes ?? 0);
    if (rss > 0) server.rssBytes = rss;
    if (b.eventLoopLagP99Ms !== undefined) server.eventLoopLagP99Ms = b.eventLoopLagP99Ms;
    const base = baseline ? (baseline.nodeRssBytes ?? 0) + (baseline.workerRssBytes ?? 0) : 0;
    if (rss > base && base > 0 && w.participants > 0) server.memoryPerParticipantBytes = (rss - base) / w.participants;
  }
  const workers = Math.max(1, server.workerCpu.length);
  const recvPps = w.recvPackets / sec;
  const recvMbps = (w.recvBytes * 8) / sec / 1e6;

  const failures: string[] = [];
  if (loss >= CRITERIA.maxLoss) failures.push(`loss ${(loss * 100).toFixed(2)} % ≥ 1 %`);
  if (receivedRatio < CRITERIA.minReceivedRatio)
    failures.push(`received ${(receivedRatio * 100).toFixed(1)} % of sent < 90 %`);
  if (stalled > CRITERIA.maxStalledTracks) failures.push(`${stalled} stalled track(s)`);
  if (!(delay.p95 < CRITERIA.maxDelayP95Ms)) failures.push(`delay p95 ${delay.p95.toFixed(1)} ms ≥ 20 ms`);
  const sessionsLost = w.sessionsLost;
  if (sessionsLost > 0) failures.push(`${sessionsLost} session(s) closed by the server`);
  // Frames the pacer had to skip mean the step's load was never offered: whatever the server did
  // with the rest, the step cannot pass (it would put the knee beyond what was measured).
  const framesLate = w.framesLate;
  if (framesLate > 0) failures.push(`the generator skipped ${framesLate} frames (it could not send this load)`);

  const result: StepResult = {
    target: opts.connector.name,
    scenario: shape.name,
    step,
    rooms,
    participants: w.participants,
    publishers: w.publishers,
    consumers: w.consumers,
    expectedConsumers: w.expectedConsumers,
    windowSec: sec,
    sentPps: w.sentPackets / sec,
    sentMbps: (w.sentBytes * 8) / sec / 1e6,
    receivedPps: recvPps,
    receivedMbps: recvMbps,
    expectedMbps: (w.expectedBytes * 8) / sec / 1e6,
    receivedRatio,
    loss,
    delayMs: delay,
    nackRate: w.nacks / sec,
    pliRate: w.plis / sec,
    subscriberNackRate: w.nacksSent / sec,
    recovered: w.recovered,
    stalledTracks: stalled,
    sessionsLost,
    framesLate,
    srtpFailures: w.srtpFailures,
    topLayerShare: w.videoConsumers ? w.topLayer / w.videoConsumers : 0,
    server,
    egressPerWorker: Array.from({ length: workers }, () => ({ pps: recvPps / workers, mbps: recvMbps / workers })),
    generator: {
      cpu: w.cpuUs / 1e6 / sec,
      eventLoopLagP99Ms: loopLagP99Ms(w.loopIntervals),
      loopUtilization: w.loopUtilization,
      delayClock: w.queue.count > 0 ? 'off-loop' : 'on-loop',
      ...(w.queue.count > 0 ? { queueMs: histQuantiles(w.queue) } : {}),
      sendLateMs: histQuantiles(w.sendLate),
      procs: windows.length,
      ...(windows.length > 1
        ? {
            perProc: windows.map((x, i) => ({
              pid: shards[i]!.pid,
              participants: x.participants,
              cpu: x.cpuUs / 1e6 / x.sec,
              loopUtilization: x.loopUtilization,
            })),
          }
        : {}),
    },
    pass: failures.length === 0,
    failures,
  };
  if (!result.pass) {
    const at = attribute(result);
    result.ranOut = at.ranOut;
    result.ranOutWhy = at.why;
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
