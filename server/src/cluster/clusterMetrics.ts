/**
 * Cluster mode's part of /metrics: node id and state, rooms homed here,
 * Redis reachability, round trip and errors. Registered only in cluster mode.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerLiveGauge } from '../observability/metrics.js';
import type { ClusterNode } from './ClusterNode.js';

export function registerClusterMetrics(registry: Registry, node: ClusterNode): void {
  new Gauge({
    name: 'huizhen_cluster_node_info',
    help: 'This node in the cluster: 1, labelled with its id and state (active or draining)',
    labelNames: ['node', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ node: node.nodeId, state: node.registry.state }, 1);
    },
  });
  const live = (name: string, help: string, read: () => number) => registerLiveGauge(registry, name, help, read);
  live('huizhen_cluster_registered', 'Whether this node is live in the registry (1) or not (0)', () =>
    node.registry.registered ? 1 : 0,
  );
  live('huizhen_cluster_rooms_homed', 'Rooms whose home lease this node holds', () => node.directory.leases.size);
  live('huizhen_cluster_redis_up', 'Whether Redis answers (1) or not (0)', () => (node.connection.up ? 1 : 0));
  // Counters read from the connection's own counts (it outlives no registry).
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  total(
    'huizhen_cluster_redis_errors_total',
    'Redis commands that failed (timeouts, lost connection, errors)',
    () => node.connection.stats.errors,
  );
  total(
    'huizhen_cluster_redis_outages_total',
    'Times the Redis connection went down',
    () => node.connection.stats.outages,
  );
  const rtt = new Histogram({
    name: 'huizhen_cluster_redis_round_trip_seconds',
    help: 'PING round trip to Redis',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  node.connection.onRoundTrip((seconds) => rtt.observe(seconds));
}
