/**
 * Wires the parts of one Huizhen node together and owns their lifecycle.
 * Tests start it in-process; main.ts starts it for real.
 */
import { hkdfSync } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, HuizhenError } from '@huizhen/protocol';
import { AuditLog, type AuditSink } from './audit/AuditLog.js';
import { loadIssuers, type TrustedIssuer } from './auth/issuers.js';
import { PROJECT_ROOT, isLoopbackHost, type HuizhenConfig } from './config.js';
import { createApp } from './http/app.js';
import { loadTurnCredentials } from './media/turnCredentials.js';
import { WorkerPool } from './media/WorkerPool.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { EncryptedFileStore } from './records/RecordStore.js';
import { loadRecordsKey } from './records/recordsKey.js';
import { UrlSigner } from './records/signedUrls.js';
import { FileConsultStore } from './rooms/ConsultStore.js';
import { RoomManager, type RoomManagerOptions } from './rooms/RoomManager.js';
import { SignalingServer } from './signaling/SignalingServer.js';
import type { SignalingContext } from './signaling/SignalingContext.js';
import type { MediaRoomOptions } from './rooms/media/MediaRoom.js';
import { EdgeRooms } from './cluster/relay/EdgeRooms.js';
import { HomeRelay } from './cluster/relay/HomeRelay.js';
import { registerRelayMetrics } from './cluster/relay/relayMetrics.js';
import { drainNode } from './cluster/relay/drainNode.js';
import { PreflightService } from './preflight/PreflightService.js';
import { createVitalsMetrics } from './vitals/vitalsMetrics.js';
import { EncryptedVitalsStore } from './vitals/VitalsStore.js';
// --- evaluation
import { EncryptedEvaluationStore } from './evaluation/EvaluationStore.js';
import { EvaluationService } from './evaluation/EvaluationService.js';
import { AuditTap } from './webhooks/AuditTap.js';
import { WebhookService } from './webhooks/WebhookService.js';
// --- recording
import { createRecordingMetrics } from './recording/recordingMetrics.js';
import { RecordingService } from './recording/RecordingService.js';
import { RecordingUrlSigner } from './recording/recordingUrls.js';
// --- cluster
import { ClusterNode } from './cluster/ClusterNode.js';
import { JoiningPlacement } from './cluster/JoiningPlacement.js';
import { publishesLocalhost, resolveNodeId } from './cluster/clusterConfig.js';
import { ClusterMesh } from './cluster/mesh/ClusterMesh.js';
import { UpgradeRouter } from './http/upgrades.js';

export interface StartOptions {
  logger?: Logger;
  env?: Record<string, string | undefined>;
  // --- recording
  /** A capture for rooms to record with (tests of the consent workflow); without one, rooms cannot record. */
  recording?: RoomManagerOptions['recording'];
}

export class HuizhenServer {
  readonly config: HuizhenConfig;
  readonly logger: Logger;
  readonly pool: WorkerPool;
  readonly rooms: RoomManager;
  readonly metrics: Metrics;
  readonly issuers: ReadonlyMap<string, TrustedIssuer>;
  readonly audit: AuditSink;
  readonly preflight: PreflightService;
  // --- recording: absent when this node cannot record
  readonly recording: RecordingService | undefined;
  // --- cluster: absent in the embedded default (no REDIS_URL)
  readonly cluster: ClusterNode | undefined;
  /** Node links and room pipes: in cluster mode with cluster.linkSecret. */
  readonly #drain: (() => Promise<void>) | undefined;
  readonly mesh: ClusterMesh | undefined;
  readonly #http: HttpServer;
  readonly #signaling: SignalingServer;
  readonly #webhooks: WebhookService;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    config: HuizhenConfig;
    logger: Logger;
    pool: WorkerPool;
    rooms: RoomManager;
    metrics: Metrics;
    issuers: ReadonlyMap<string, TrustedIssuer>;
    audit: AuditSink;
    http: HttpServer;
    signaling: SignalingServer;
    preflight: PreflightService;
    webhooks: WebhookService;
    recording: RecordingService | undefined;
    cluster: ClusterNode | undefined;
    mesh: ClusterMesh | undefined;
    /** Cluster mode with node links: moves sessions and homes away before the node stops. */
    drain?: (() => Promise<void>) | undefined;
  }) {
    this.cluster = parts.cluster;
    this.mesh = parts.mesh;
    this.#drain = parts.drain;
    this.#webhooks = parts.webhooks;
    this.recording = parts.recording;
    this.preflight = parts.preflight;
    this.audit = parts.audit;
    this.config = parts.config;
    this.logger = parts.logger;
    this.pool = parts.pool;
    this.rooms = parts.rooms;
    this.metrics = parts.metrics;
    this.issuers = parts.issuers;
    this.#http = parts.http;
    this.#signaling = parts.signaling;
  }

  static async start(config: HuizhenConfig, options: StartOptions = {}): Promise<HuizhenServer> {
    const logger = options.logger ?? createLogger({ level: config.log.level });
    const issuers = loadIssuers(config.auth.issuers, options.env);
    // --- TURN
    const turn = loadTurnCredentials(config.turn, options.env);
    const auditLog = new AuditLog({ dir: config.audit.dir, maxFileBytes: config.audit.maxFileBytes });
    const store = new FileConsultStore(join(config.storage.dir, 'consults'));
    const recordsKey = loadRecordsKey(config.records, options.env);
    const recordStore = new EncryptedFileStore(join(config.storage.dir, 'records'), recordsKey);
    // A separate key for URL signatures, derived so one secret serves both.
    const signer = new UrlSigner(Buffer.from(hkdfSync('sha256', recordsKey, 'huizhen', 'record download urls', 32)));
    // --- vitals: encrypted at rest like records, in their own folder, under a key derived for them.
    const vitalsStore = new EncryptedVitalsStore(
      new EncryptedFileStore(
        join(config.storage.dir, 'vitals'),
        Buffer.from(hkdfSync('sha256', recordsKey, 'huizhen', 'vitals at rest', 32)),
      ),
    );
    const vitalsMetrics = createVitalsMetrics();
    const pool = await WorkerPool.create({
      workers: config.media.workers,
      logLevel: config.media.logLevel,
      listenIp: config.media.rtcListenIp,
      announcedAddress: config.media.rtcAnnouncedAddress,
      port: config.media.rtcPort,
      ...(config.media.iceProtocols ? { protocols: config.media.iceProtocols } : {}),
      logger,
    });
    // --- webhooks: derived from the audit trail, so the whole server writes to the tap
    let webhooks: WebhookService;
    try {
      webhooks = WebhookService.open({
        endpoints: config.webhooks,
        dir: join(config.storage.dir, 'webhooks'),
        env: options.env ?? process.env,
        logger,
        audit: { dir: config.audit.dir, seq: () => auditLog.seq },
      });
    } catch (err) {
      // A missing secret stops the start; the media workers must not outlive it.
      pool.close();
      throw err;
    }
    const audit: AuditSink =
      webhooks.endpointCount > 0 ? new AuditTap(auditLog, (entry) => webhooks.enqueue(entry), logger) : auditLog;
    // --- evaluation: encrypted at rest too (comments are the patient's words), under a key of its own.
    const evaluationDir = join(config.storage.dir, 'evaluations');
    const evaluations = new EvaluationService({
      config: config.evaluation,
      consults: store,
      audit,
      store: new EncryptedEvaluationStore(
        new EncryptedFileStore(
          evaluationDir,
          Buffer.from(hkdfSync('sha256', recordsKey, 'huizhen', 'evaluations at rest', 32)),
        ),
        evaluationDir,
      ),
    });
    // --- recording: encrypted at rest under a key derived for recordings; its URLs under another.
    const recordingMetrics = createRecordingMetrics();
    const recording = RecordingService.create({
      config: config.recording,
      storageDir: config.storage.dir,
      key: Buffer.from(hkdfSync('sha256', recordsKey, 'huizhen', 'recordings at rest', 32)),
      audit,
      logger,
      metrics: recordingMetrics,
    });
    const recordingUrls = new RecordingUrlSigner(
      Buffer.from(hkdfSync('sha256', recordsKey, 'huizhen', 'recording download urls', 32)),
    );
    // --- data channels: refusals are counted once the metrics (which read the rooms) exist
    let countData: (outcome: string, n?: number) => void = () => undefined;
    // The media settings of every room's router on this node (homed here or joined through it).
    const roomMedia: MediaRoomOptions = {
      maxIncomingBitrate: config.media.maxIncomingBitrate,
      initialOutgoingBitrate: config.media.initialOutgoingBitrate,
      ...(config.media.iceProtocols ? { iceProtocols: config.media.iceProtocols } : {}),
      ...(turn ? { turn } : {}),
      ...(config.data.enabled
        ? { sctp: { numStreams: config.data.numSctpStreams, maxMessageSize: config.data.maxSctpMessageSize } }
        : {}),
    };
    const rooms = new RoomManager({
      pool,
      logger,
      maxParticipants: config.rooms.maxParticipants,
      emptyRoomCloseMs: config.rooms.emptyRoomCloseMs,
      reconnectGraceMs: config.rooms.reconnectGraceMs,
      clockToleranceSec: config.auth.clockToleranceSec,
      store,
      audit,
      records: {
        store: recordStore,
        signer,
        maxBytes: config.records.maxBytes,
        urlTtlSec: config.records.urlTtlSec,
        retention: config.records.retention,
      },
      media: roomMedia,
      data: {
        enabled: config.data.enabled,
        maxMessageBytes: config.data.maxMessageBytes,
        rateLimitPerSec: config.data.rateLimitPerSec,
        rateLimitBurst: config.data.rateLimitBurst,
        restrictedTopics: config.data.restrictedTopics,
        maxSctpMessageSize: config.data.maxSctpMessageSize,
        count: (outcome, n) => countData(outcome, n),
      },
      vitals: { config: config.vitals, store: vitalsStore, counters: vitalsMetrics.counters },
      // --- recording: a test's own capture, else this node's (none when it cannot record)
      recording: options.recording ?? (recording ? { capture: recording.capture } : undefined),
    });
    const metrics = createMetrics(rooms, pool);
    countData = (outcome, n = 1) => metrics.dataMessages.inc({ outcome }, n);
    vitalsMetrics.register(metrics.registry);
    webhooks.metrics.register(metrics.registry);
    recordingMetrics.register(metrics.registry);
    pool.on('workerDied', () => metrics.workerDeaths.inc());
    let cluster: ClusterNode | undefined;
    let mesh: ClusterMesh | undefined;
    let edge: EdgeRooms | undefined;
    let drain: (() => Promise<void>) | undefined;
    const app = createApp({
      config,
      issuers,
      rooms,
      pool,
      metrics,
      logger,
      audit,
      store,
      signer,
      vitalsStore,
      evaluations,
      version: packageVersion(),
      recording,
      recordingUrls,
      // --- cluster: joined after listening (the node id may derive from the port)
      cluster: () => cluster?.health(),
    });
    const http = createServer(
      {
        // Slow senders are cut off: headers within seconds, a whole request within its budget.
        headersTimeout: config.server.headersTimeoutSec * 1000,
        requestTimeout: config.server.requestTimeoutSec * 1000,
        // How often those two are checked (Node's default, 30 s, would let a slow sender stay that long).
        connectionsCheckingInterval: Math.min(1000, config.server.headersTimeoutSec * 500),
      },
      app,
    );
    // --- pre-call check: the same TURN and ICE settings as rooms
    const preflight = new PreflightService({
      config: config.preflight,
      pool,
      registry: metrics.registry,
      audit,
      logger,
      ...(config.media.iceProtocols ? { iceProtocols: config.media.iceProtocols } : {}),
      ...(turn ? { turn } : {}),
    });
    // --- cluster: until the node has joined, no room may open here (it would have no home lease)
    const joining = config.redis.url ? new JoiningPlacement() : undefined;
    if (joining) rooms.setPlacement(joining);
    const upgrades = new UpgradeRouter(http);
    const signalingContext: SignalingContext = {
      config,
      issuers,
      rooms,
      metrics,
      logger,
      audit,
      preflight,
      // --- cluster: the node joins after listening; until then there is nobody else to tell
      otherNodes: async () => (cluster ? cluster.otherNodeUrls() : []),
    };
    const signaling = new SignalingServer(upgrades, signalingContext);
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(config.server.port, config.server.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      pool.close();
      webhooks.close();
      throw new Error(`cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // --- cluster: with REDIS_URL, join the cluster (a Redis that is away delays nothing: it is joined later)
    if (config.redis.url) {
      const port = (http.address() as AddressInfo).port;
      if (publishesLocalhost(config.server.host, config.cluster.publicUrl))
        logger.warn(
          'cluster mode on a wildcard address without a public URL: other nodes and clients are told to reach this node at localhost; set HUIZHEN_PUBLIC_URL (cluster.publicUrl)',
          { host: config.server.host, port },
        );
      const node = await ClusterNode.start({
        redisUrl: config.redis.url,
        config: config.cluster,
        nodeId: resolveNodeId(config.cluster.nodeId, port),
        url: config.cluster.publicUrl ?? listenUrl(config.server.host, port),
        mediaAddress: config.media.rtcAnnouncedAddress ?? config.media.rtcListenIp,
        load: () => {
          const c = rooms.counts();
          return { rooms: c.rooms, participants: c.participants };
        },
        evict: (room, reason, code) => rooms.rooms.get(room)?.close(reason, code),
        isOpen: (room) => rooms.isOpen(room),
        unusedHomeMs: config.rooms.emptyRoomCloseMs,
        logger,
      });
      joining?.joined(node);
      node.registerMetrics(metrics.registry);
      cluster = node;
      // --- cluster: node links, over which rooms' media will cross nodes, need the shared secret
      if (config.cluster.linkSecret) {
        mesh = new ClusterMesh(
          {
            nodeId: node.nodeId,
            secret: config.cluster.linkSecret,
            listenIp: config.media.rtcListenIp,
            announcedAddress: config.media.rtcAnnouncedAddress,
            routerFor: (room) => rooms.rooms.get(room)?.media.router ?? edge?.routerFor(room) ?? null,
            ...(config.data.enabled ? { sctp: { maxMessageSize: config.data.maxSctpMessageSize } } : {}),
            logger,
          },
          upgrades,
        );
        mesh.registerMetrics(metrics.registry);
        // --- cluster: any node takes any participant; rooms homed elsewhere are joined through this node
        edge = new EdgeRooms({
          links: mesh.links,
          pipes: mesh.pipes,
          pool,
          media: roomMedia,
          reconnectGraceMs: config.rooms.reconnectGraceMs,
          otherNodes: () => node.otherNodeUrls(),
          logger,
        });
        const relay = new HomeRelay({
          ctx: signalingContext,
          node: { id: node.nodeId, url: config.cluster.publicUrl ?? listenUrl(config.server.host, port) },
          links: mesh.links,
          pipes: mesh.pipes,
          urlOf: (id) => node.urlOf(id),
          logger,
        });
        const edgeRooms = edge;
        mesh.links.on('link', (link) => {
          edgeRooms.attach(link);
          relay.attach(link);
        });
        mesh.pipes.on('producerImported', (room, producer) => {
          const home = rooms.rooms.get(room);
          if (home) home.adoptRemoteTrack(producer);
          else if (!edgeRooms.adopt(room, producer)) producer.close();
        });
        signalingContext.draining = () => node.registry.state === 'draining';
        signalingContext.edge = {
          rooms: edgeRooms,
          homeFor: async (error, room) =>
            error instanceof HuizhenError && error.code === ErrorCode.ROOM_ON_OTHER_NODE
              ? node.homeOf(room)
              : undefined,
        };
        registerRelayMetrics(metrics.registry, { edge: edgeRooms, relay });
        drain = () =>
          drainNode({
            cluster: node,
            signaling,
            rooms,
            relay,
            edge: edgeRooms,
            timeoutMs: config.cluster.drainTimeoutSec * 1000,
            logger,
          });
      } else {
        logger.warn('cluster mode without cluster.linkSecret (HUIZHEN_CLUSTER_SECRET): no node links between nodes');
      }
    }
    const server = new HuizhenServer({
      cluster,
      mesh,
      drain,
      config,
      logger,
      pool,
      rooms,
      metrics,
      issuers,
      audit,
      http,
      signaling,
      preflight,
      webhooks,
      recording,
    });
    if (config.devTokens.enabled && !isLoopbackHost(config.server.host)) {
      logger.warn('dev tokens are enabled on a non-loopback address: anyone who can reach this port can mint tokens', {
        host: config.server.host,
      });
    }
    logger.info('listening', {
      host: config.server.host,
      port: server.port,
      workers: pool.workers.length,
      devTokens: config.devTokens.enabled,
      ...(cluster ? { node: cluster.nodeId } : {}),
    });
    return server;
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port;
  }

  /** The http(s) origin clients use. */
  get url(): string {
    return listenUrl(this.config.server.host, this.port);
  }

  /** Tells everyone, closes rooms, then stops the workers and the HTTP server. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.logger.info('shutting down');
      // --- cluster: sessions and homes move to other nodes first (drain); no new rooms come here
      await this.#drain?.().catch((error: unknown) => this.logger.error('drain failed', { error: error as Error }));
      await this.cluster?.drain();
      this.rooms.closeAll('The server is restarting; please rejoin in a moment.', ErrorCode.SERVER_SHUTTING_DOWN);
      this.preflight.close();
      await this.#signaling.close();
      this.mesh?.close();
      this.pool.close();
      await new Promise<void>((resolve) => {
        this.#http.close(() => resolve());
        this.#http.closeAllConnections();
      });
      // The rooms' last consult and records writes land before the process may exit.
      await this.rooms.idle();
      // --- webhooks: after the rooms' last audit entries; what is not delivered stays queued on disk
      this.#webhooks.close();
      // --- recording: queued compositions stay on disk for the next start
      this.recording?.close();
      // --- cluster: homes released, entry removed (a crash lets both lapse)
      await this.cluster?.close();
      this.logger.info('stopped');
    })();
    return this.#closing;
  }
}

/** The http origin of a listen address (a wildcard address is reached as localhost). */
function listenUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'server/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
