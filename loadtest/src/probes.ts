/**
 * What the server side costs: mediasoup worker CPU, Node process CPU and
 * memory, event-loop lag. Huizhen is read through its Prometheus /metrics
 * (what an operator sees), the bare baseline through the worker's own
 * resource usage. Worker memory comes from /proc when the worker runs here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { types } from 'mediasoup';
import { UnreachableError } from './errors.js';

export interface ServerSample {
  atMs: number;
  /** Cumulative CPU seconds per media worker. */
  workerCpuSec: number[];
  /** Cumulative CPU seconds of the signaling process (absent for the bare baseline). */
  nodeCpuSec?: number;
  nodeRssBytes?: number;
  workerRssBytes?: number;
  /** p99 event-loop lag since the previous scrape (prom-client resets it on every collect). */
  eventLoopLagP99Ms?: number;
}

export interface ServerProbe {
  readonly description: string;
  sample(): Promise<ServerSample>;
}

/** Parses the Prometheus text format into name{labels} → value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export class MetricsProbe implements ServerProbe {
  readonly description: string;
  readonly #url: string;
  readonly #pid: number | undefined;

  /** @param pid the server's process id when it runs on this machine (adds worker memory from /proc). */
  constructor(httpUrl: string, pid?: number) {
    this.#url = `${httpUrl}/metrics`;
    this.#pid = pid;
    this.description = `Prometheus ${this.#url}`;
  }

  async sample(): Promise<ServerSample> {
    let text: string;
    try {
      const res = await fetch(this.#url, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(`cannot read ${this.#url}: ${(err as Error).message}`);
    }
    const m = parsePrometheus(text);
    const workerCpuSec: number[] = [];
    for (const [k, v] of m) {
      const w = /^huizhen_worker_cpu_seconds_total\{worker="(\d+)"\}$/.exec(k);
      if (w) workerCpuSec[Number(w[1])] = v;
    }
    const sample: ServerSample = { atMs: performance.now(), workerCpuSec: workerCpuSec.filter((v) => v !== undefined) };
    const cpu = m.get('huizhen_process_cpu_seconds_total');
    if (cpu !== undefined) sample.nodeCpuSec = cpu;
    const rss = m.get('huizhen_process_resident_memory_bytes');
    if (rss !== undefined) sample.nodeRssBytes = rss;
    const lag = m.get('huizhen_nodejs_eventloop_lag_p99_seconds');
    // prom-client samples with a 10 ms timer and reports whole intervals; the lag is the excess.
    if (lag !== undefined) sample.eventLoopLagP99Ms = Math.max(0, lag * 1000 - 10);
    if (this.#pid !== undefined) {
      const workers = childPids(this.#pid);
      if (workers.length) sample.workerRssBytes = workers.reduce((s, pid) => s + (rssBytes(pid) ?? 0), 0);
    }
    return sample;
  }
}

export class WorkerProbe implements ServerProbe {
  readonly description = 'mediasoup worker resource usage';
  readonly #worker: types.Worker;

  constructor(worker: types.Worker) {
    this.#worker = worker;
  }

  async sample(): Promise<ServerSample> {
    const u = await this.#worker.getResourceUsage();
    const rss = rssBytes(this.#worker.pid);
    return {
      atMs: performance.now(),
      workerCpuSec: [(u.ru_utime + u.ru_stime) / 1000],
      ...(rss !== undefined ? { workerRssBytes: rss } : {}),
    };
  }
}

/** Resident memory of a local process, from /proc (Linux). */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU pinning with taskset (util-linux): server and generator on different cores where there are two or more. */
export interface Pinning {
  enabled: boolean;
  generatorCpu?: number;
  serverCpu?: number;
  note: string;
}

export function planPinning(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) return { enabled: false, note: `not pinned: only ${cores} core available` };
  if (!existsSync('/usr/bin/taskset') && !existsSync('/bin/taskset'))
    return { enabled: false, note: 'not pinned: taskset (util-linux) is not installed' };
  return {
    enabled: true,
    generatorCpu: 0,
    serverCpu: 1,
    note: `pinned with taskset: load generator on CPU 0, server under test (Node process and media worker) on CPU 1, of ${cores} cores`,
  };
}

/** Pins every thread of a process to one CPU; false when the kernel refused. */
export function pinProcess(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Cores the bench gives the server under test (its Node process and media worker share CPU 1). */
export const SERVER_CORES = 1;

/**
 * Default generator processes: one per core the server under test does not get, at least 1. On a
 * 2-core machine that is 1 (the generator on CPU 0, the server on CPU 1), as before.
 */
export function defaultGeneratorProcs(cores = availableParallelism()): number {
  return Math.max(1, cores - SERVER_CORES);
}

/**
 * CPUs for generator processes when pinned: the generator's own first, then every core but the
 * server's. Process i of the generator goes to entry i (wrapping when there are more processes).
 */
export function generatorCpus(pinning: Pinning, cores = availableParallelism()): number[] {
  if (!pinning.enabled || pinning.generatorCpu === undefined) return [];
  const rest = Array.from({ length: cores }, (_, i) => i).filter(
    (c) => c !== pinning.serverCpu && c !== pinning.generatorCpu,
  );
  return [pinning.generatorCpu, ...rest];
}
