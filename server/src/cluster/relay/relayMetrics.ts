/** The operator's view of relayed participants: how many of a node's rooms' people are on other nodes, and the reverse. */
import type { Registry } from 'prom-client';
import { registerLiveGauge } from '../../observability/metrics.js';
import type { EdgeRooms } from './EdgeRooms.js';
import type { HomeRelay } from './HomeRelay.js';

export function registerRelayMetrics(registry: Registry, parts: { edge: EdgeRooms; relay: HomeRelay }): void {
  registerLiveGauge(
    registry,
    'huizhen_cluster_remote_participants',
    'Participants of rooms homed on this node whose media is on another node',
    () => parts.relay.size,
  );
  registerLiveGauge(
    registry,
    'huizhen_cluster_edge_participants',
    'Participants whose media is on this node in rooms homed on another node',
    () => parts.edge.participants(),
  );
  registerLiveGauge(
    registry,
    'huizhen_cluster_edge_rooms',
    'Rooms homed on another node with participants connected to this one',
    () => parts.edge.size,
  );
}
