/**
 * `huizhen-loadtest cluster`: what crossing nodes costs. Starts its own Redis
 * and two Huizhen nodes in cluster mode on loopback, then runs the same
 * consults and clinic load twice: every participant on node a, and each room
 * split (its host on a, the others on b, tracks piped between the routers).
 * Per run: media worker CPU per forwarded packet over both nodes, Redis
 * commands per join and per room-minute, Redis CPU; per scenario the split ÷
 * single ratio. Writes DIR/cluster-<timestamp>/report.json + report.txt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario, type ScenarioName } from '../engine.js';
import { LoadTestError, UsageError } from '../errors.js';
import { pinProcess, planPinning, type ServerSample } from '../probes.js';
import { machineInfo } from '../report.js';
import { DEFAULT_SRTP_SUITE, SRTP_SUITES, isSrtpSuite, type SrtpSuite } from '../rtp/srtp.js';
import { HuizhenConnector, parseTargetUrl, type SfuConnector } from '../sfu.js';
import { PROJECT_ROOT, spawnedServerTokens } from '../spawnedServer.js';
import { HmacTokenSource } from '../tokens.js';
import { ClusterProbe } from './clusterProbe.js';
import {
  clusterTable,
  compareLayouts,
  layoutRun,
  overallRatio,
  redisPhase,
  type ClusterReport,
  type IdleRedis,
  type Layout,
  type LayoutRun,
  type RedisPhase,
  type ScenarioComparison,
} from './figures.js';
import {
  ClusterNodes,
  readGauges,
  waitForGauges,
  type ClusterNodeProcess,
  type NodeGauges,
  type NodeId,
} from './nodes.js';
import { NoLobbyConnector } from './noLobbyConnector.js';
import { RedisInfo, startBenchRedis, type RedisSample } from './redis.js';
import { redisBenchmark } from './redisBenchmark.js';
import { SplitConnector } from './splitConnector.js';

export const CLUSTER_USAGE = `  huizhen-loadtest cluster [--consults N] [--clinics N] [--warmup S] [--window S] [--no-srtp]
        [--srtp-suite SUITE] [--no-lobby] [--no-redis-benchmark] [--out DIR]
      Starts its own redis-server and two Huizhen nodes in cluster mode on loopback and runs the
      same consults (default 5 rooms) and clinic (default 1 room) load twice: all participants on
      node a (alone), then each room split (host on a, the others on b, tracks piped between the nodes).
      The patient and the observer wait in the lobby and are admitted by the host across the nodes, as in
      a real consult; --no-lobby lets them in as clinicians (no admission step).
      Reports worker CPU per forwarded packet (both nodes) and the split ÷ single ratio, Redis
      commands per join and per room-minute and Redis CPU; writes DIR/cluster-<timestamp>/report.json + .txt.`;

export interface ClusterOptions {
  consults: number;
  clinics: number;
  warmupSec: number;
  windowSec: number;
  /** Seconds of the idle cluster measured before the runs (Redis background rate). */
  idleSec: number;
  srtp: boolean;
  srtpSuite: SrtpSuite;
  redisBenchmark: boolean;
  /** The lobby roles (patient, observer) wait for admission (false: --no-lobby, see noLobbyConnector.ts). */
  lobby: boolean;
  out: string;
}

export function parseClusterArgs(argv: string[]): ClusterOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        consults: { type: 'string' },
        clinics: { type: 'string' },
        warmup: { type: 'string' },
        window: { type: 'string' },
        idle: { type: 'string' },
        'no-srtp': { type: 'boolean' },
        'srtp-suite': { type: 'string' },
        'no-redis-benchmark': { type: 'boolean' },
        'no-lobby': { type: 'boolean' },
        out: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nusage:\n${CLUSTER_USAGE}`);
  }
  const num = (name: keyof typeof values, fallback: number, min: number, max: number, whole: boolean) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(v) || v < min || v > max || (whole && !Number.isInteger(v)))
      throw new UsageError(
        `--${name} must be a ${whole ? 'whole ' : ''}number from ${min} to ${max} (got '${String(raw)}')`,
      );
    return v;
  };
  const suite = values['srtp-suite'] ?? DEFAULT_SRTP_SUITE;
  if (!isSrtpSuite(suite)) throw new UsageError(`unknown --srtp-suite '${suite}' (one of ${SRTP_SUITES.join(', ')})`);
  const o: ClusterOptions = {
    consults: num('consults', 5, 0, 200, true),
    clinics: num('clinics', 1, 0, 50, true),
    warmupSec: num('warmup', 2, 0, 60, false),
    windowSec: num('window', 10, 1, 600, false),
    idleSec: num('idle', 5, 1, 60, false),
    srtp: values['no-srtp'] !== true,
    srtpSuite: suite,
    redisBenchmark: values['no-redis-benchmark'] !== true,
    lobby: values['no-lobby'] !== true,
    out: values.out ?? join(PROJECT_ROOT, 'loadtest/reports'),
  };
  if (o.consults + o.clinics === 0) throw new UsageError('--consults and --clinics are both 0: nothing to run');
  return o;
}

/** A little over the cluster's default registry renewal (cluster.renewEveryMs, 1 s). */
const REGISTRY_SETTLE_MS = 1500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const timestamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');

interface Context {
  nodes: readonly ClusterNodeProcess[];
  info: RedisInfo;
  probe: ClusterProbe;
  home: SfuConnector;
  edge: SfuConnector;
  idle: IdleRedis;
  o: ClusterOptions;
  runId: string;
  log: (s: string) => void;
}

async function allGauges(nodes: readonly ClusterNodeProcess[]): Promise<{ a: NodeGauges; b: NodeGauges | null }> {
  const [a, b] = await Promise.all(nodes.map((n) => readGauges(n.httpUrl)));
  return { a: a!, b: b ?? null };
}

/** The idle cluster's Redis traffic over `sec` seconds. */
async function idleRedis(info: RedisInfo, sec: number): Promise<IdleRedis> {
  const a = await info.sample();
  await sleep(sec * 1000);
  const b = await info.sample();
  const p = redisPhase(a, b, { perSec: 0, cpu: 0 });
  return { sec: p.sec, commandsPerMin: (p.commands / p.sec) * 60, cpu: p.cpu, byCommand: p.byCommand };
}

function perNodeCpu(
  start: ClusterProbe['last'],
  end: ClusterProbe['last'],
  f: (s: ServerSample) => number | undefined,
): Record<NodeId, number> {
  const out = { a: 0, b: 0 } as Record<NodeId, number>;
  for (const e of end) {
    const s = start.find((x) => x.id === e.id);
    const wall = s ? (e.sample.atMs - s.sample.atMs) / 1000 : 0;
    const a = s ? f(s.sample) : undefined;
    const b = f(e.sample);
    if (a !== undefined && b !== undefined && wall > 0) out[e.id] = (b - a) / wall;
  }
  return out;
}

/** One scenario in one layout: a single step of `rooms` rooms, Redis sampled at the phase edges. */
async function runLayout(ctx: Context, scenario: ScenarioName, rooms: number, layout: Layout): Promise<LayoutRun> {
  const split = layout === 'split' ? new SplitConnector('huizhen-split', ctx.home, ctx.edge) : undefined;
  const connector = split ?? ctx.home;
  const redis: Partial<Record<'joinStart' | 'joinEnd' | 'windowStart' | 'windowEnd', Promise<RedisSample>>> = {};
  let gauges: Promise<{ a: NodeGauges; b: NodeGauges | null }> | undefined;
  let nodesAtStart: ClusterProbe['last'] = [];
  let nodesAtEnd: ClusterProbe['last'] = [];
  // The engine reports each phase as it enters it: joins start, joins done (warm-up), the window's start mark taken,
  // its end mark taken. The probe's last samples at those two marks are the engine's own.
  const run = await runScenario({
    connector,
    probe: ctx.probe,
    scenario,
    steps: [rooms],
    srtp: ctx.o.srtp,
    srtpSuite: ctx.o.srtpSuite,
    warmupSec: ctx.o.warmupSec,
    windowSec: ctx.o.windowSec,
    stopAtKnee: false,
    confirmFailures: false,
    deadlineMs: performance.now() + (ctx.o.warmupSec + ctx.o.windowSec + 90) * 1000,
    runId: `${ctx.runId}${scenario[0]}${layout[1]}`,
    onProgress: (p) => {
      if (p.phase === 'joining') redis.joinStart = ctx.info.sample();
      else if (p.phase === 'warming up') redis.joinEnd = ctx.info.sample();
      else if (p.phase === 'measuring') {
        redis.windowStart = ctx.info.sample();
        nodesAtStart = ctx.probe.last;
        gauges = allGauges(ctx.nodes);
      } else if (p.phase === 'done') {
        redis.windowEnd = ctx.info.sample();
        nodesAtEnd = ctx.probe.last;
        const r = p.result;
        if (r)
          ctx.log(
            `  ${scenario} ${layout}: ${r.participants} ppl, ${r.receivedPps.toFixed(0)} pkt/s, received ${(r.receivedRatio * 100).toFixed(0)} %, worker ${(r.server.workerCpuTotal * 100).toFixed(1)} %`,
          );
      }
    },
  });
  const [joinStart, joinEnd, windowStart, windowEnd] = await Promise.all([
    redis.joinStart,
    redis.joinEnd,
    redis.windowStart,
    redis.windowEnd,
  ]);
  if (!joinStart || !joinEnd || !windowStart || !windowEnd || !gauges)
    throw new LoadTestError('INTERNAL', `the ${scenario} ${layout} run ended before its window (${run.stopReason})`);
  const phase = (a: RedisSample, b: RedisSample): RedisPhase =>
    redisPhase(a, b, { perSec: ctx.idle.commandsPerMin / 60, cpu: ctx.idle.cpu });
  return layoutRun({
    scenario,
    layout,
    run,
    placed: split ? { a: split.placed.home, b: split.placed.edge } : { a: run.steps.at(-1)?.participants ?? 0, b: 0 },
    workerCpu: perNodeCpu(nodesAtStart, nodesAtEnd, (s) => s.workerCpuSec.reduce((t, v) => t + v, 0)),
    nodeCpu: perNodeCpu(nodesAtStart, nodesAtEnd, (s) => s.nodeCpuSec),
    gauges: await gauges,
    join: phase(joinStart, joinEnd),
    window: phase(windowStart, windowEnd),
  });
}

export async function clusterCommand(
  argv: string[],
  log: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<{ report: ClusterReport; files: { json: string; text: string } }> {
  const o = parseClusterArgs(argv);
  const t0 = performance.now();
  const loadStart = loadavg();
  const pinning = planPinning();
  if (pinning.enabled && !pinProcess(process.pid, pinning.generatorCpu!)) {
    pinning.enabled = false;
    pinning.note = 'not pinned: taskset could not set this process affinity';
  }
  const placement = pinning.enabled
    ? `generator on CPU ${pinning.generatorCpu}; the Huizhen nodes (Node process + media worker each) and redis-server share CPU ${pinning.serverCpu}` +
      ' (the single layout runs node a alone; in the split layout both workers take turns on that core, so its CPU per packet includes their context switches)'
    : pinning.note;
  log(`Huizhen cross-node bench: ${placement}; media ${o.srtp ? `SRTP ${o.srtpSuite}` : 'plain RTP'}`);
  const redis = await startBenchRedis(pinning.enabled ? pinning.serverCpu : undefined);
  const cluster = new ClusterNodes(pinning, redis.url);
  let info: RedisInfo | undefined;
  const notes: string[] = [];
  const scenarios: ScenarioComparison[] = [];
  const idle = {} as Record<Layout, IdleRedis>;
  let completed = false;
  try {
    const a = await cluster.start('a');
    info = await RedisInfo.connect(redis.port);
    const tokens = new HmacTokenSource(spawnedServerTokens());
    const connector = (url: string): SfuConnector => {
      const c = new HuizhenConnector(parseTargetUrl(url), tokens);
      return o.lobby ? c : new NoLobbyConnector(c);
    };
    const home = connector(a.httpUrl);
    const plan = (
      [
        ['consults', o.consults],
        ['clinic', o.clinics],
      ] as [ScenarioName, number][]
    ).filter(([, rooms]) => rooms > 0);
    const runs: Record<Layout, LayoutRun[]> = { single: [], split: [] };
    const runId = `c${Date.now().toString(36)}`;
    // single: node a alone (a one-node cluster, so a room can only be homed there); split: node b joins.
    for (const layout of ['single', 'split'] as const) {
      let edge = home;
      if (layout === 'split') {
        const b = await cluster.start('b');
        edge = connector(b.httpUrl);
      }
      const nodes = [...cluster.running];
      log(
        `${layout}: node${nodes.length > 1 ? 's' : ''} ${nodes.map((n) => `${n.id} ${n.httpUrl}`).join(', ')}; redis ${redis.url}`,
      );
      idle[layout] = await idleRedis(info, o.idleSec);
      const ctx: Context = {
        nodes,
        info,
        probe: new ClusterProbe(nodes),
        home,
        edge,
        idle: idle[layout],
        o,
        runId,
        log,
      };
      for (const [scenario, rooms] of plan) {
        runs[layout].push(await runLayout(ctx, scenario, rooms, layout));
        // The rooms close once their participants are gone (the nodes run with a short grace), so the
        // next run starts on an empty cluster and its Redis counts are its own.
        if (!(await waitForGauges(nodes, (g) => g.rooms === 0 && g.edgeRooms === 0 && g.pipeTransports === 0, 20_000)))
          notes.push(`after ${scenario} ${layout}: rooms or pipes were still open 20 s later`);
        // New rooms go to the node with the fewest participants in the registry, which nodes renew every
        // second: once it shows the empty cluster again, the next run's first room is homed where its host is.
        await sleep(REGISTRY_SETTLE_MS);
      }
    }
    for (const [k, single] of runs.single.entries()) scenarios.push(compareLayouts(single, runs.split[k]!));
    completed = true;
  } finally {
    info?.close();
    await cluster.stop();
    // On success Redis stays up for its own benchmark below.
    if (!completed) await redis.stop();
  }
  const benchmark = o.redisBenchmark
    ? await redisBenchmark(redis.port, pinning.enabled ? pinning.generatorCpu : undefined)
    : { skipped: 'not asked for (--no-redis-benchmark)' };
  await redis.stop();
  for (const s of scenarios)
    for (const l of [s.single, s.split]) if (!l.valid) notes.push(`${s.scenario} ${l.layout} is void: ${l.voidReason}`);
  const report: ClusterReport = {
    version: 1,
    createdAt: new Date().toISOString(),
    command: `huizhen-loadtest cluster ${argv.join(' ')}`.trim(),
    machine: machineInfo(),
    pinning,
    placement,
    srtp: o.srtp,
    ...(o.srtp ? { srtpSuite: o.srtpSuite } : {}),
    warmupSec: o.warmupSec,
    windowSec: o.windowSec,
    redis: { idle, benchmark },
    lobby: o.lobby,
    scenarios,
    overallRatio: overallRatio(scenarios),
    loadavg: { start: loadStart, end: loadavg() },
    tookSec: (performance.now() - t0) / 1000,
    notes,
  };
  report.notes.push(
    `load average at start ${loadStart.map((v) => v.toFixed(2)).join(' ')}, at end ${report.loadavg.end.map((v) => v.toFixed(2)).join(' ')}; took ${report.tookSec.toFixed(0)} s`,
  );
  const dir = join(o.out, `cluster-${timestamp()}`);
  mkdirSync(dir, { recursive: true });
  const files = { json: join(dir, 'report.json'), text: join(dir, 'report.txt') };
  writeFileSync(
    files.json,
    JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n',
  );
  const table = clusterTable(report);
  writeFileSync(files.text, `${report.command}\n${placement}\n\n${table}\n`);
  log('');
  log(table);
  log(`report: ${files.text}`);
  return { report, files };
}
