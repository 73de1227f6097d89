/**
 * The cross-node bench's figures: per run (one scenario in one layout) the
 * worker CPU per forwarded packet over both nodes, the Redis commands of the
 * join phase and of the measurement window, Redis CPU; per scenario the
 * split ÷ single ratio; and the report's text table.
 */
import type { RunResult, ScenarioName, StepResult } from '../engine.js';
import type { Pinning } from '../probes.js';
import type { NodeGauges, NodeId } from './nodes.js';
import { commandDelta, type RedisSample } from './redis.js';
import type { RedisBenchmarkResult } from './redisBenchmark.js';

export const LAYOUTS = ['single', 'split'] as const;
export type Layout = (typeof LAYOUTS)[number];

/** Received below this share of what the sources sent: the run's per-packet figure is void. */
export const MIN_RECEIVED_RATIO = 0.9;

export interface RedisPhase {
  sec: number;
  /** Every command Redis ran in the phase (the bench's INFO calls left out). */
  commands: number;
  /** What the idle cluster (registry renewals, no rooms) runs in as long: subtracted in the per-join / per-room figures. */
  idleCommands: number;
  /** Redis CPU (user + sys) over the phase, share of one core. */
  cpu: number;
  /** The idle cluster's Redis CPU share (its background, with redis-server's own timers). */
  idleCpu: number;
  byCommand: Record<string, number>;
}

export interface LayoutRun {
  scenario: ScenarioName;
  layout: Layout;
  rooms: number;
  participants: number;
  /** Participants connected to each node. */
  placed: Record<NodeId, number>;
  /** RTP the subscribers received per second (what the cluster forwarded to them; pipe hops not counted). */
  forwardedPps: number;
  receivedRatio: number;
  /** Media worker CPU over the window, share of one core, per node and summed. */
  workerCpu: Record<NodeId, number> & { total: number };
  /** Node (signaling) process CPU over the window, per node. */
  nodeCpu: Record<NodeId, number>;
  /** Worker CPU µs (both nodes) per packet delivered to a subscriber. */
  workerUsPerPacket: number;
  /** The running nodes' cluster gauges, read at the start of the window (b: null in the single layout, where it is not running). */
  gauges: { a: NodeGauges; b: NodeGauges | null };
  /**
   * Whether the gauges show the layout asked for. single: nothing relayed, no pipes. split: pipes on
   * both nodes, and every participant on the node that is not its room's home counted there as an
   * edge participant (and at the home as a remote one).
   */
  layoutVerified: boolean;
  redis: {
    /** perJoin / perRoom and cpuMsPerJoin are net of the idle cluster's background. */
    join: RedisPhase & { perJoin: number; perRoom: number; cpuMsPerJoin: number };
    /** perRoomMinute and cpuMsPerRoomMinute are net of the idle cluster's background. */
    window: RedisPhase & { perRoomMinute: number; cpuMsPerRoomMinute: number };
  };
  /** False when received < 90 % of expected (or the step failed to join everyone): its figures then say nothing. */
  valid: boolean;
  voidReason?: string;
  step: StepResult;
  errors: string[];
}

export interface ScenarioComparison {
  scenario: ScenarioName;
  single: LayoutRun;
  split: LayoutRun;
  /** split ÷ single worker CPU per forwarded packet; null when either run is void. */
  ratio: number | null;
}

export interface IdleRedis {
  sec: number;
  commandsPerMin: number;
  cpu: number;
  byCommand: Record<string, number>;
}

export interface ClusterReport {
  version: 1;
  createdAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string };
  pinning: Pinning;
  placement: string;
  srtp: boolean;
  srtpSuite?: string;
  warmupSec: number;
  windowSec: number;
  redis: {
    /** The idle cluster's own traffic (registry renewals, no rooms): node a alone, then a and b. */
    idle: Record<Layout, IdleRedis>;
    benchmark: RedisBenchmarkResult | { skipped: string };
  };
  /** Whether lobby roles waited for admission (false: --no-lobby, they joined as clinicians). */
  lobby: boolean;
  scenarios: ScenarioComparison[];
  /** Over every valid run: all worker CPU ÷ all forwarded packets, split ÷ single. */
  overallRatio: number | null;
  loadavg: { start: number[]; end: number[] };
  tookSec: number;
  notes: string[];
}

export function redisPhase(a: RedisSample, b: RedisSample, idle: { perSec: number; cpu: number }): RedisPhase {
  const sec = (b.atMs - a.atMs) / 1000;
  const d = commandDelta(a, b);
  return {
    sec,
    commands: d.total,
    idleCommands: idle.perSec * sec,
    cpu: sec > 0 ? (b.cpuSec - a.cpuSec) / sec : 0,
    idleCpu: idle.cpu,
    byCommand: d.byCommand,
  };
}

/** Redis CPU ms of a phase above the idle cluster's (0 when the load's share is below what the samples resolve). */
function netCpuMs(p: RedisPhase): number {
  return Math.max(0, p.cpu - p.idleCpu) * p.sec * 1000;
}

export interface LayoutInput {
  scenario: ScenarioName;
  layout: Layout;
  run: RunResult;
  placed: Record<NodeId, number>;
  workerCpu: Record<NodeId, number>;
  nodeCpu: Record<NodeId, number>;
  gauges: { a: NodeGauges; b: NodeGauges | null };
  join: RedisPhase;
  window: RedisPhase;
}

export function layoutRun(i: LayoutInput): LayoutRun {
  const step = i.run.steps.at(-1);
  if (!step) throw new Error(`the ${i.scenario} ${i.layout} run measured no step (${i.run.stopReason})`);
  const total = i.workerCpu.a + i.workerCpu.b;
  const { a, b } = i.gauges;
  const layoutVerified = b
    ? a.pipeTransports > 0 &&
      b.pipeTransports > 0 &&
      a.edgeParticipants + b.edgeParticipants >= step.rooms &&
      a.edgeParticipants + b.edgeParticipants === a.remoteParticipants + b.remoteParticipants &&
      a.roomsHomed + b.roomsHomed === step.rooms
    : i.layout === 'single' && a.remoteParticipants === 0 && a.edgeParticipants === 0 && a.pipeTransports === 0;
  const reasons: string[] = [];
  if (step.receivedRatio < MIN_RECEIVED_RATIO)
    reasons.push(`received ${(step.receivedRatio * 100).toFixed(1)} % of expected < 90 %`);
  if (i.run.joinFailures > 0) reasons.push(`${i.run.joinFailures} participant(s) failed to join`);
  if (!layoutVerified) reasons.push('the nodes’ gauges do not show the layout asked for');
  const perJoinNet = (i.join.commands - i.join.idleCommands) / Math.max(1, step.participants);
  const roomMinutes = (step.rooms * i.window.sec) / 60;
  return {
    scenario: i.scenario,
    layout: i.layout,
    rooms: step.rooms,
    participants: step.participants,
    placed: i.placed,
    forwardedPps: step.receivedPps,
    receivedRatio: step.receivedRatio,
    workerCpu: { ...i.workerCpu, total },
    nodeCpu: i.nodeCpu,
    workerUsPerPacket: step.receivedPps > 0 ? (total / step.receivedPps) * 1e6 : Number.NaN,
    gauges: i.gauges,
    layoutVerified,
    redis: {
      join: {
        ...i.join,
        perJoin: Math.max(0, perJoinNet),
        perRoom: Math.max(0, (i.join.commands - i.join.idleCommands) / Math.max(1, step.rooms)),
        cpuMsPerJoin: netCpuMs(i.join) / Math.max(1, step.participants),
      },
      window: {
        ...i.window,
        perRoomMinute: roomMinutes > 0 ? Math.max(0, (i.window.commands - i.window.idleCommands) / roomMinutes) : 0,
        cpuMsPerRoomMinute: roomMinutes > 0 ? netCpuMs(i.window) / roomMinutes : 0,
      },
    },
    valid: reasons.length === 0,
    ...(reasons.length ? { voidReason: reasons.join('; ') } : {}),
    step,
    errors: i.run.errors.slice(0, 5),
  };
}

export function compareLayouts(single: LayoutRun, split: LayoutRun): ScenarioComparison {
  const ratio =
    single.valid && split.valid && single.workerUsPerPacket > 0
      ? split.workerUsPerPacket / single.workerUsPerPacket
      : null;
  return { scenario: single.scenario, single, split, ratio };
}

/** All worker CPU ÷ all forwarded packets over the valid scenarios, split ÷ single. */
export function overallRatio(scenarios: readonly ScenarioComparison[]): number | null {
  const valid = scenarios.filter((s) => s.ratio !== null);
  if (!valid.length) return null;
  const cost = (l: Layout) => {
    const runs = valid.map((s) => s[l]);
    return runs.reduce((t, r) => t + r.workerCpu.total, 0) / runs.reduce((t, r) => t + r.forwardedPps, 0);
  };
  return cost('split') / cost('single');
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const fixed = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function clusterTable(r: ClusterReport): string {
  const head = [
    'scenario',
    'layout',
    'rooms',
    'ppl',
    'on a/b',
    'egress pps',
    'recv',
    'worker a',
    'worker b',
    'µs/pkt',
    'node a',
    'node b',
    'pipes a/b',
    'homes a/b',
    'redis cmd/join',
    'cmd/room-min',
    'redis cpu',
    'ok',
  ];
  const rows = r.scenarios.flatMap((s) =>
    [s.single, s.split].map((l) => [
      l.scenario,
      l.layout,
      String(l.rooms),
      String(l.participants),
      `${l.placed.a}/${l.placed.b}`,
      l.forwardedPps.toFixed(0),
      `${(l.receivedRatio * 100).toFixed(0)}%`,
      pct(l.workerCpu.a),
      pct(l.workerCpu.b),
      fixed(l.workerUsPerPacket, 2),
      pct(l.nodeCpu.a),
      pct(l.nodeCpu.b),
      `${l.gauges.a.pipeTransports}/${l.gauges.b?.pipeTransports ?? '-'}`,
      `${l.gauges.a.roomsHomed}/${l.gauges.b?.roomsHomed ?? '-'}`,
      fixed(l.redis.join.perJoin),
      fixed(l.redis.window.perRoomMinute),
      pct(l.redis.window.cpu),
      l.valid ? 'yes' : 'VOID',
    ]),
  );
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((v, c) => (c < 2 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  for (const s of r.scenarios)
    out.push(
      `${s.scenario}: worker CPU per forwarded packet split ÷ single = ${s.ratio === null ? 'void' : s.ratio.toFixed(2)}` +
        (s.ratio === null
          ? ` (${[s.single, s.split]
              .filter((l) => !l.valid)
              .map((l) => `${l.layout}: ${l.voidReason}`)
              .join('; ')})`
          : ` (${fixed(s.single.workerUsPerPacket, 2)} → ${fixed(s.split.workerUsPerPacket, 2)} µs)`),
    );
  out.push(`overall split ÷ single: ${r.overallRatio === null ? 'void' : r.overallRatio.toFixed(2)}`);
  const idle = r.redis.idle;
  out.push(
    `redis idle (no rooms): node a alone ${idle.single.commandsPerMin.toFixed(0)} commands/min, CPU ${pct(idle.single.cpu)}; ` +
      `a + b ${idle.split.commandsPerMin.toFixed(0)} commands/min, CPU ${pct(idle.split.cpu)}; ` +
      `net of it, Redis CPU ms per join ${r.scenarios.map((s) => `${s.scenario} ${fixed(s.single.redis.join.cpuMsPerJoin, 2)}/${fixed(s.split.redis.join.cpuMsPerJoin, 2)}`).join(', ')}, ` +
      `per room-minute ${r.scenarios.map((s) => `${s.scenario} ${fixed(s.single.redis.window.cpuMsPerRoomMinute, 1)}/${fixed(s.split.redis.window.cpuMsPerRoomMinute, 1)}`).join(', ')} (single/split)`,
  );
  const b = r.redis.benchmark;
  out.push(
    'skipped' in b
      ? `redis-benchmark: ${b.skipped}`
      : `redis-benchmark (${b.clients} clients): ${Object.entries(b.rps)
          .map(([k, v]) => `${k} ${v.toFixed(0)}/s`)
          .join(', ')}`,
  );
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}
