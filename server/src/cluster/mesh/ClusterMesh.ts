/**
 * This node's part of the cluster's media mesh: its node links (accepted at
 * `/cluster/link`, dialed to other nodes' public URLs) and the room pipes
 * they carry. It exists in cluster mode with `cluster.linkSecret` set.
 */
import type { types } from 'mediasoup';
import type { Registry } from 'prom-client';
import type { UpgradeRouter } from '../../http/upgrades.js';
import type { Logger } from '../../observability/logger.js';
import { registerLiveGauge } from '../../observability/metrics.js';
import { LINK_PATH, NodeLinks } from './NodeLinks.js';
import { RoomPipes } from './RoomPipes.js';

export interface ClusterMeshOptions {
  nodeId: string;
  secret: string;
  /** Where pipe transports listen, and the address other nodes are told (the node's media address). */
  listenIp: string;
  announcedAddress: string | null;
  routerFor: (room: string) => types.Router | null;
  /** Data channels are on: pipes carry SCTP too. */
  sctp?: { maxMessageSize: number };
  logger: Logger;
}

export class ClusterMesh {
  readonly links: NodeLinks;
  readonly pipes: RoomPipes;

  constructor(options: ClusterMeshOptions, upgrades: UpgradeRouter) {
    const logger = options.logger.child({ component: 'mesh' });
    this.links = new NodeLinks({ nodeId: options.nodeId, secret: options.secret, logger });
    this.pipes = new RoomPipes({
      listenIp: options.listenIp,
      ...(options.announcedAddress ? { announcedAddress: options.announcedAddress } : {}),
      routerFor: options.routerFor,
      ...(options.sctp ? { sctp: options.sctp } : {}),
      logger,
    });
    this.links.on('link', (link) => this.pipes.attach(link));
    upgrades.route(LINK_PATH, (req, socket, head) => this.links.accept(req, socket, head));
  }

  registerMetrics(registry: Registry): void {
    registerLiveGauge(registry, 'huizhen_cluster_node_links', 'Open node links to other nodes', () => this.links.size);
    registerLiveGauge(
      registry,
      'huizhen_cluster_pipe_transports',
      "Pipe transports carrying rooms' media to and from other nodes",
      () => this.pipes.transportCount,
    );
  }

  close(): void {
    this.links.close();
  }
}
