/**
 * Memory per participant, idle and publishing apart, on a Huizhen server the
 * tool started with its inspector on loopback:
 *
 * 1. warm-up: one consult joins idle and leaves, one consult publishes for 2 s and leaves
 *    (lazy modules, JIT code and the first router are not any participant's cost);
 * 2. baseline; then N **idle** participants: consult rooms of doctor + patient, WebSocket open,
 *    `join` answered, the patient admitted from the lobby by the doctor; no `setRtpCapabilities`,
 *    no transports. Their rooms (one per two participants) are part of their cost;
 * 3. all leave (`leave`, then the socket closes); the residue is what stays: their empty rooms are kept
 *    for `rooms.emptyRoomCloseMs` (30 s by default, so a consult can resume), the rest would be a leak;
 * 4. M **publishing** participants over that baseline: the consult scenario's participants
 *    (send + recv plain SRTP transports, opus + 3-layer VP8 simulcast, each subscribed to the
 *    other's audio and video), media flowing while sampled.
 *
 * Every sample is taken after two full GCs in the server (CDP `HeapProfiler.collectGarbage`),
 * three times 300 ms apart, and the minimum of each figure is kept: garbage made between the GC and
 * the read (heartbeats, metrics) only ever adds, so the minimum is the closest to live memory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector, Pacer, SyntheticParticipant } from './participant.js';
import { scenarioShape } from './engine.js';
import { childPids, rssBytes } from './probes.js';
import { heapDiff, heapGroups, type HeapGroup } from './heapDiff.js';
import type { InspectorClient, ProcessMemory } from './inspector.js';
import type { SfuConnector, SfuSession } from './sfu.js';
import { DEFAULT_SRTP_SUITE, type SrtpSuite } from './rtp/srtp.js';

export interface MemorySample extends ProcessMemory {
  /** Resident memory of the server's media workers (its child processes). */
  workerRss: number;
  atMs: number;
}

export interface MemoryPhase {
  what: 'idle' | 'publishing' | 'idle, after leaving';
  participants: number;
  rooms: number;
  before: MemorySample;
  after: MemorySample;
  /** Growth ÷ participants, bytes. */
  perParticipant: { heapUsed: number; external: number; nodeRss: number; workerRss: number };
}

export interface MemoryResult {
  method: string;
  idle: MemoryPhase;
  /** The idle participants' residue once they left (same baseline; ÷ the idle count). */
  afterLeaving: MemoryPhase;
  publishing?: MemoryPhase;
  /** Heap snapshot diff, baseline → N idle: per-participant self bytes by constructor. */
  idleHeapDiff?: HeapGroup[];
  /** The same after they all left: what stayed behind. */
  leftHeapDiff?: HeapGroup[];
  snapshots?: { before: string; idle: string; left?: string };
  errors: string[];
}

export interface MemoryOptions {
  connector: SfuConnector;
  inspector: InspectorClient;
  serverPid: number;
  /** Open signaling connections on the server (to wait until leavers are gone). */
  connections: () => Promise<number>;
  idle: number;
  publishing: number;
  srtpSuite?: SrtpSuite;
  runId: string;
  /** Where to write the two heap snapshots (baseline, idle); none when absent. */
  snapshotDir?: string;
  log?: (s: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const MEMORY_METHOD =
  'server started by the tool with --inspect on loopback; each sample after two full GCs (CDP HeapProfiler.collectGarbage), ' +
  'min of 3 samples 300 ms apart; heapUsed/external/rss from process.memoryUsage() in the server, worker RSS from /proc; ' +
  'idle = consult rooms of doctor + patient, joined and admitted over the WebSocket, no transports; ' +
  'publishing = consult participants with plain SRTP transports, opus + 3-layer VP8 simulcast, subscribed to each other; ' +
  'per participant = growth over the baseline ÷ participants (rooms included, one per two participants)';

async function sampleOnce(inspector: InspectorClient, pid: number): Promise<MemorySample> {
  const m = await inspector.memoryAfterGc();
  const workerRss = childPids(pid).reduce((s, p) => s + (rssBytes(p) ?? 0), 0);
  return { ...m, workerRss, atMs: performance.now() };
}

export async function sampleMemory(inspector: InspectorClient, pid: number, times = 3): Promise<MemorySample> {
  let best: MemorySample | undefined;
  for (let i = 0; i < times; i++) {
    if (i) await sleep(300);
    const s = await sampleOnce(inspector, pid);
    best = best
      ? {
          heapUsed: Math.min(best.heapUsed, s.heapUsed),
          heapTotal: Math.min(best.heapTotal, s.heapTotal),
          external: Math.min(best.external, s.external),
          arrayBuffers: Math.min(best.arrayBuffers, s.arrayBuffers),
          rss: Math.min(best.rss, s.rss),
          workerRss: Math.min(best.workerRss, s.workerRss),
          atMs: s.atMs,
        }
      : s;
  }
  return best!;
}

function phase(
  what: MemoryPhase['what'],
  participants: number,
  rooms: number,
  before: MemorySample,
  after: MemorySample,
): MemoryPhase {
  const per = (a: number, b: number) => (participants ? (a - b) / participants : 0);
  return {
    what,
    participants,
    rooms,
    before,
    after,
    perParticipant: {
      heapUsed: per(after.heapUsed, before.heapUsed),
      external: per(after.external, before.external),
      nodeRss: per(after.rss, before.rss),
      workerRss: per(after.workerRss, before.workerRss),
    },
  };
}

/** Runs `jobs` with at most `limit` in flight; the first failure rejects. */
async function pool(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/** Consult rooms of doctor + patient that only join (the doctor admits the patient). */
async function joinIdle(connector: SfuConnector, participants: number, prefix: string): Promise<SfuSession[]> {
  const sessions: SfuSession[] = [];
  const rooms = Math.ceil(participants / 2);
  const jobs = Array.from({ length: rooms }, (_, r) => async () => {
    const room = `${prefix}-${r}`;
    const req = (role: 'doctor' | 'patient') => ({ identity: `${room}-${role}`, room, role, kind: 'consult' as const });
    sessions.push(await connector.connect(req('doctor'), { startedAt: performance.now() }));
    if (sessions.length < participants)
      sessions.push(await connector.connect(req('patient'), { startedAt: performance.now() }));
  });
  try {
    await pool(jobs, 8);
  } catch (err) {
    for (const s of sessions) s.close();
    throw err;
  }
  return sessions;
}

async function startPublishing(
  connector: SfuConnector,
  participants: number,
  prefix: string,
  suite: SrtpSuite,
  pacer: Pacer,
  collector: Collector,
): Promise<SyntheticParticipant[]> {
  const shape = scenarioShape('consults');
  const all: SyntheticParticipant[] = [];
  const jobs = Array.from({ length: Math.ceil(participants / 2) }, (_, r) => async () => {
    const members = shape
      .plans(`${prefix}-${r}`, `${prefix}-${r}`)
      .map((plan) => new SyntheticParticipant(plan, { srtp: true, srtpSuite: suite, pacer, collector }));
    all.push(...members);
    await members[0]!.start(connector);
    await Promise.all(members.slice(1).map((m) => m.start(connector)));
  });
  try {
    await pool(jobs, 4);
  } catch (err) {
    for (const p of all) p.stop();
    throw err;
  }
  return all;
}

async function waitConnections(opts: MemoryOptions, atMost: number): Promise<void> {
  const until = performance.now() + 15_000;
  while (performance.now() < until && (await opts.connections()) > atMost) await sleep(200);
  // Rooms close and transports go a moment after their last socket.
  await sleep(1500);
}

export async function measureMemory(opts: MemoryOptions): Promise<MemoryResult> {
  const log = opts.log ?? (() => undefined);
  const suite = opts.srtpSuite ?? DEFAULT_SRTP_SUITE;
  const { inspector, serverPid: pid } = opts;
  const base = await opts.connections();
  const errors: string[] = [];

  log('memory: warm-up (one idle consult, one publishing consult)');
  for (const s of await joinIdle(opts.connector, 2, `${opts.runId}-wi`)) s.close();
  {
    const pacer = new Pacer();
    const warm = await startPublishing(opts.connector, 2, `${opts.runId}-wp`, suite, pacer, new Collector());
    await sleep(2000);
    pacer.stop();
    for (const p of warm) p.stop();
  }
  await waitConnections(opts, base);

  const s0 = await sampleMemory(inspector, pid);
  let snapBefore: string | undefined;
  if (opts.snapshotDir) snapBefore = await inspector.heapSnapshot();
  log(`memory: ${opts.idle} idle participants (${Math.ceil(opts.idle / 2)} consult rooms)`);
  const idle = await joinIdle(opts.connector, opts.idle, `${opts.runId}-i`);
  await sleep(2000);
  const s1 = await sampleMemory(inspector, pid);
  const result: MemoryResult = {
    method: MEMORY_METHOD,
    idle: phase('idle', idle.length, Math.ceil(idle.length / 2), s0, s1),
    afterLeaving: phase('idle, after leaving', idle.length, 0, s0, s0),
    errors,
  };
  if (opts.snapshotDir && snapBefore) {
    const snapIdle = await inspector.heapSnapshot();
    mkdirSync(opts.snapshotDir, { recursive: true });
    const before = join(opts.snapshotDir, 'baseline.heapsnapshot');
    const after = join(opts.snapshotDir, `idle-${idle.length}.heapsnapshot`);
    writeFileSync(before, snapBefore);
    writeFileSync(after, snapIdle);
    result.snapshots = { before, idle: after };
    result.idleHeapDiff = heapDiff(heapGroups(snapBefore), heapGroups(snapIdle)).map((g) => ({
      name: g.name,
      count: g.count / idle.length,
      selfBytes: g.selfBytes / idle.length,
    }));
  }
  // A real leave: a bare close would keep each session for its reconnect grace.
  await pool(
    idle.map((s) => () => (s.leave ? s.leave().catch(() => s.close()) : Promise.resolve(s.close()))),
    16,
  );
  await waitConnections(opts, base);
  const s2 = await sampleMemory(inspector, pid);
  result.afterLeaving = phase('idle, after leaving', idle.length, 0, s0, s2);
  if (opts.snapshotDir && snapBefore) {
    const snapLeft = await inspector.heapSnapshot();
    const left = join(opts.snapshotDir, `left-${idle.length}.heapsnapshot`);
    writeFileSync(left, snapLeft);
    result.snapshots!.left = left;
    result.leftHeapDiff = heapDiff(heapGroups(snapBefore), heapGroups(snapLeft)).map((g) => ({
      name: g.name,
      count: g.count / idle.length,
      selfBytes: g.selfBytes / idle.length,
    }));
  }

  if (opts.publishing > 0) {
    log(`memory: ${opts.publishing} publishing participants (${Math.ceil(opts.publishing / 2)} consult rooms)`);
    const pacer = new Pacer();
    const collector = new Collector();
    const pubs = await startPublishing(opts.connector, opts.publishing, `${opts.runId}-p`, suite, pacer, collector);
    try {
      await sleep(3000);
      const s3 = await sampleMemory(inspector, pid);
      result.publishing = phase('publishing', pubs.length, Math.ceil(pubs.length / 2), s2, s3);
      errors.push(...collector.errors);
    } finally {
      pacer.stop();
      for (const p of pubs) p.stop();
    }
  }
  return result;
}

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

export function memoryTable(m: MemoryResult): string {
  const rows = [m.idle, m.afterLeaving, ...(m.publishing ? [m.publishing] : [])];
  const lines = [
    'memory per participant   n     Node heap used   Node external   Node RSS     worker RSS',
    ...rows.map(
      (p) =>
        `${p.what.padEnd(22)} ${String(p.participants).padStart(4)}  ${kb(p.perParticipant.heapUsed).padStart(15)}  ${kb(
          p.perParticipant.external,
        ).padStart(14)}  ${kb(p.perParticipant.nodeRss).padStart(10)}  ${kb(p.perParticipant.workerRss).padStart(12)}`,
    ),
    `  baseline after GC: heap used ${(m.idle.before.heapUsed / 1048576).toFixed(1)} MiB, Node RSS ${(m.idle.before.rss / 1048576).toFixed(1)} MiB, worker RSS ${(m.idle.before.workerRss / 1048576).toFixed(1)} MiB`,
  ];
  if (m.idleHeapDiff?.length) {
    lines.push('  idle heap growth by constructor (self bytes and count per participant):');
    for (const g of m.idleHeapDiff.slice(0, 12))
      lines.push(`    ${kb(g.selfBytes).padStart(9)}  ${g.count.toFixed(1).padStart(6)}  ${g.name}`);
  }
  if (m.leftHeapDiff?.length) {
    lines.push('  left behind after they all left, by constructor (self bytes and count per participant):');
    for (const g of m.leftHeapDiff.slice(0, 12))
      lines.push(`    ${kb(g.selfBytes).padStart(9)}  ${g.count.toFixed(1).padStart(6)}  ${g.name}`);
  }
  return lines.join('\n');
}
