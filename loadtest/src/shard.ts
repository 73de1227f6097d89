/**
 * A generator shard: a set of whole rooms whose synthetic participants live in
 * one process, with their own pacer, collector and receive threads. The run
 * (engine.ts) drives every shard through the same step: join these rooms,
 * open a window, close it and hand back the window's counts and raw histogram
 * buckets, which the run adds up before it judges the step. The in-process
 * shard is localShard.ts; child-process shards are childShard.ts.
 */
import type { HistogramSnapshot } from './histogram.js';
import type { MediaMode } from './paths.js';
import type { SrtpSuite } from './rtp/srtp.js';
import type { ScenarioName } from './scenarios.js';

/** One room given to a shard; all its members (and so all its media) stay there. */
export interface RoomAssignment {
  roomId: string;
  /** Prefix of its members' identities. */
  prefix: string;
}

/** What a shard needs besides its connector; plain data, so a child process gets the same. */
export interface ShardConfig {
  scenario: ScenarioName;
  roundsListeners?: number;
  mode: MediaMode;
  srtp: boolean;
  srtpSuite: SrtpSuite;
  /** rtp mode: receive sockets on worker threads. */
  offLoopReceive: boolean;
  /** Joins in flight at once in this shard. */
  joinConcurrency: number;
}

export interface ShardJoinResult {
  /** Participants that joined and failed in this call. */
  joined: number;
  failures: number;
}

/** One shard's figures over one window: counts to add up, histograms as raw buckets to merge. */
export interface ShardWindow {
  /** The window's length on the shard's own clock. */
  sec: number;
  participants: number;
  publishers: number;
  expectedConsumers: number;
  consumers: number;
  videoConsumers: number;
  /** Video consumers on the top simulcast layer at the window's end. */
  topLayer: number;
  /** Consumers that received nothing in the window's last part. */
  stalled: number;
  sentPackets: number;
  sentBytes: number;
  recvPackets: number;
  recvBytes: number;
  unique: number;
  expected: number;
  recovered: number;
  /** Bytes the subscribed sources sent in the window (what subscribers should have received). */
  expectedBytes: number;
  nacks: number;
  plis: number;
  nacksSent: number;
  framesLate: number;
  srtpFailures: number;
  /** Sessions the server closed since the run began (not per window, as a single process reports it). */
  sessionsLost: number;
  /** CPU of the shard's process (all its threads), in µs. */
  cpuUs: number;
  /** Busy share of the shard process's main loop. */
  loopUtilization: number;
  delay: HistogramSnapshot;
  queue: HistogramSnapshot;
  sendLate: HistogramSnapshot;
  /** Event-loop timer intervals (loopLag.ts). */
  loopIntervals: HistogramSnapshot;
}

export interface JoinSample {
  wsOpenMs: number;
  joinedMs: number;
  /** Every transport can carry media (webrtc: ICE + DTLS done). */
  connectedMs?: number;
  readyMs: number;
  firstRtpMs?: number;
}

/** What a shard hands back when it stops. */
export interface ShardSummary {
  joins: JoinSample[];
  joinFailures: number;
  errors: string[];
}

export interface GeneratorShard {
  readonly index: number;
  /** The process the shard's participants run in. */
  readonly pid: number;
  /** Rejects when the shard can no longer take part (its process died or answered garbage); never resolves. */
  readonly failure: Promise<never>;
  /** Joins the rooms' members (hosts first, as a room is opened by its first clinician). */
  join(rooms: readonly RoomAssignment[]): Promise<ShardJoinResult>;
  /** Marks the window's start: counters noted, histograms and CPU/loop figures reset. */
  beginWindow(): Promise<void>;
  /** The window since beginWindow(). */
  endWindow(): Promise<ShardWindow>;
  /** Stops every participant and says what the shard saw; safe to call more than once. */
  close(): Promise<ShardSummary>;
}

/** Runs `jobs` with at most `limit` in flight. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<PromiseSettledResult<T>[]> {
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
