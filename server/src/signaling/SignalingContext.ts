/** What signaling handlers need from the server, passed explicitly (no globals). */
import type { AuditSink } from '../audit/AuditLog.js';
import type { HuizhenConfig } from '../config.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { PreflightService } from '../preflight/PreflightService.js';
import type { EdgeRooms } from '../cluster/relay/EdgeRooms.js';

export interface SignalingContext {
  config: HuizhenConfig;
  issuers: ReadonlyMap<string, TrustedIssuer>;
  rooms: RoomManager;
  metrics: Metrics;
  logger: Logger;
  audit: AuditSink;
  /** The pre-call check (media loopback outside every room). */
  preflight: PreflightService;
  /** Cluster mode: the other live nodes' public URLs (told to joiners for failover); absent: none. */
  otherNodes?: () => Promise<string[]>;
  /**
   * Cluster mode with node links: joins to rooms homed on another node go
   * through this node (set once the node has joined the cluster).
   */
  /** Cluster mode: the node is draining; new sessions go elsewhere (resumes and relayed joins still come). */
  draining?: () => boolean;
  edge?: {
    rooms: EdgeRooms;
    /** The home of a room whose opening here failed with `error`, if the join can be relayed there. */
    homeFor(error: unknown, room: string): Promise<{ id: string; url: string } | undefined>;
  };
}
