/** What signaling handlers need from the server, passed explicitly (no globals). */
import type { AuditSink } from '../audit/AuditLog.js';
import type { HuizhenConfig } from '../config.js';
import type { TrustedIssuer } from '../auth/issuers.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { RoomManager } from '../rooms/RoomManager.js';
import type { PreflightService } from '../preflight/PreflightService.js';

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
}
