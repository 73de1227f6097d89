/**
 * Server cost of both nodes as one probe for the engine: each node's /metrics
 * (worker CPU from the worker's resource usage; Node CPU; worker RSS from
 * /proc under the node's pid), its workers listed node a first, then node b,
 * and each node's own last sample kept for per-node figures.
 */
import { MetricsProbe, type ServerProbe, type ServerSample } from '../probes.js';
import type { ClusterNodeProcess, NodeId } from './nodes.js';

export class ClusterProbe implements ServerProbe {
  readonly description: string;
  readonly #probes: { id: NodeId; probe: MetricsProbe }[];
  /** Each node's own last sample (the engine samples at the window's edges; the bench reads these there). */
  last: { id: NodeId; sample: ServerSample }[] = [];

  constructor(nodes: readonly ClusterNodeProcess[]) {
    this.#probes = nodes.map((n) => ({ id: n.id, probe: new MetricsProbe(n.httpUrl, n.server.child.pid) }));
    this.description = `Prometheus /metrics of nodes ${nodes.map((n) => n.id).join(', ')}`;
  }

  async sample(): Promise<ServerSample> {
    const samples = await Promise.all(this.#probes.map((p) => p.probe.sample()));
    this.last = samples.map((sample, i) => ({ id: this.#probes[i]!.id, sample }));
    const sum = (f: (s: ServerSample) => number | undefined) =>
      samples.some((s) => f(s) !== undefined) ? samples.reduce((t, s) => t + (f(s) ?? 0), 0) : undefined;
    const out: ServerSample = { atMs: samples[0]!.atMs, workerCpuSec: samples.flatMap((s) => s.workerCpuSec) };
    const nodeCpu = sum((s) => s.nodeCpuSec);
    if (nodeCpu !== undefined) out.nodeCpuSec = nodeCpu;
    const nodeRss = sum((s) => s.nodeRssBytes);
    if (nodeRss !== undefined) out.nodeRssBytes = nodeRss;
    const workerRss = sum((s) => s.workerRssBytes);
    if (workerRss !== undefined) out.workerRssBytes = workerRss;
    const lags = samples.map((s) => s.eventLoopLagP99Ms).filter((v): v is number => v !== undefined);
    if (lags.length) out.eventLoopLagP99Ms = Math.max(...lags);
    return out;
  }
}
