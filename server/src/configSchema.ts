/**
 * The shape of the server configuration, in zod (the same zod and error
 * sentences as the wire protocol: `server.port: must be <= 65535`). Rules that
 * span keys (one secret source per issuer, ...) are checked in config.ts.
 */
import { ORIGIN_PATTERN } from './http/origins.js';
import { DATA_TOPIC_PATTERN, ROLES, arr, num, oneOf, str } from '@huizhen/protocol';
import * as z from 'zod/mini';
import { LOG_LEVELS } from './observability/logger.js';
import { vitalsConfigSchema } from './vitals/vitalsConfig.js';
// --- evaluation
import { evaluationConfigSchema } from './evaluation/evaluationConfig.js';
import { webhooksConfigSchema } from './webhooks/webhookConfig.js';
// --- recording
import { recordingConfigSchema } from './recording/recordingConfig.js';
// --- cluster
import { clusterConfigSchema } from './cluster/clusterConfig.js';

const port = num({ integer: true, min: 0, max: 65535 });
const ms = (max: number) => num({ integer: true, min: 1, max });

const issuerSchema = z.strictObject({
  /** The token `iss` this entry trusts. */
  iss: str({ min: 1, max: 256 }),
  /** The `aud` tokens from this issuer must carry. */
  audience: str({ min: 1, max: 256 }),
  /** Pinned signing algorithm: a token signed any other way is rejected. */
  algorithm: oneOf(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'] as const),
  /** HMAC secret inline (discouraged outside tests), from a file, or from an environment variable. */
  secret: z.optional(str({ min: 32, max: 4096 })),
  secretFile: z.optional(str({ min: 1, max: 1024 })),
  secretEnv: z.optional(str({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ })),
  /** Dev convenience: create a random secret in secretFile on first start. */
  generateSecretIfMissing: z.optional(z.boolean()),
  /** PEM public key for RS/ES/PS algorithms, inline or from a file. */
  publicKey: z.optional(str({ min: 1, max: 16384 })),
  publicKeyFile: z.optional(str({ min: 1, max: 1024 })),
  /** JWKS document on disk (keys selected by `kid`). */
  jwksFile: z.optional(str({ min: 1, max: 1024 })),
  /** Roles this issuer may grant; a token asking for another role is refused. */
  roles: arr(oneOf(ROLES), { min: 1, max: ROLES.length }),
  /**
   * Service scopes this issuer may grant to systems (e.g. an appointment
   * system): rooms:write books rooms, rooms:read reads summaries and
   * opinions of any room, vitals:read reads any room's vitals (FHIR Bundle),
   * recordings:read lists and downloads any room's recordings.
   * None unless listed.
   */
  scopes: z.optional(arr(oneOf(['rooms:write', 'rooms:read', 'vitals:read', 'recordings:read'] as const), { max: 4 })),
  /** A readable name for logs and the UI (e.g. the hospital's name). */
  displayName: z.optional(str({ min: 1, max: 128 })),
});

// --- TURN
/** turn:host[:port][?transport=udp|tcp] or turns:host[:port][?transport=tcp] (host name, IPv4 or [IPv6]). */
const TURN_URL =
  /^(turn:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?|turns:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=tcp)?)$/;

/** coturn with `use-auth-secret`: time-limited credentials from a shared secret. Absent: no TURN. */
const turnSchema = z.strictObject({
  /** e.g. turn:turn.example.org:3478?transport=udp, ...?transport=tcp, turns:turn.example.org:443?transport=tcp */
  urls: arr(str({ min: 6, max: 512, pattern: TURN_URL }), { min: 1, max: 8 }),
  /** The secret shared with coturn (`static-auth-secret`), from a file or an environment variable. */
  secretFile: z.optional(str({ min: 1, max: 1024 })),
  secretEnv: z.optional(str({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ })),
  /** Longest lifetime of a credential; never beyond the participant's token. */
  ttlSec: num({ integer: true, min: 60, max: 7 * 86400 }),
});

export const configSchema = z.strictObject({
  $comment: z.optional(str({ max: 4096 })),
  server: z.strictObject({
    host: str({ min: 1, max: 255 }),
    port,
    trustProxy: z.boolean(),
    /**
     * Web origins besides the server's own that may call the API and open /ws: exact
     * (`https://his.example-hospital.cn`), or any port (`http://localhost:*`) on a loopback server only.
     */
    allowedOrigins: arr(str({ min: 8, max: 300, pattern: ORIGIN_PATTERN }), { max: 100 }),
    /** A request's headers must arrive within this (slow-header attacks hold connections otherwise). */
    headersTimeoutSec: num({ integer: true, min: 1, max: 120 }),
    /** A whole request, body included, must arrive within this (a 25 MB record on a slow uplink needs time). */
    requestTimeoutSec: num({ integer: true, min: 5, max: 3600 }),
  }),
  media: z.strictObject({
    /** 0 = one worker per CPU core. */
    workers: num({ integer: true, min: 0, max: 256 }),
    logLevel: oneOf(['debug', 'warn', 'error', 'none'] as const),
    rtcListenIp: str({ min: 1, max: 64 }),
    rtcAnnouncedAddress: z.nullable(str({ min: 1, max: 255 })),
    /** First UDP/TCP port; worker i listens on rtcPort + i. 0 = any free port. */
    rtcPort: port,
    maxIncomingBitrate: num({ integer: true, min: 100_000, max: 100_000_000 }),
    initialOutgoingBitrate: num({ integer: true, min: 100_000, max: 100_000_000 }),
    /**
     * Which ICE candidates the server offers: ['udp', 'tcp'] (default), or
     * ['tcp'] where only TCP reaches the server. TURN relays need 'udp'.
     */
    iceProtocols: z.optional(arr(oneOf(['udp', 'tcp'] as const), { min: 1, max: 2 })),
  }),
  auth: z.strictObject({
    clockToleranceSec: num({ integer: true, min: 0, max: 300 }),
    maxTokenLifetimeSec: num({ integer: true, min: 60, max: 7 * 86400 }),
    issuers: arr(issuerSchema, { min: 1, max: 64 }),
  }),
  devTokens: z.strictObject({
    enabled: z.boolean(),
    issuer: z.optional(str({ min: 1, max: 256 })),
    ttlSec: z.optional(num({ integer: true, min: 60, max: 86400 })),
  }),
  rooms: z.strictObject({
    maxParticipants: num({ integer: true, min: 2, max: 1000 }),
    joinTimeoutMs: ms(300_000),
    emptyRoomCloseMs: ms(3_600_000),
    /** A dropped participant keeps identity, admission and media this long. */
    reconnectGraceMs: ms(600_000),
  }),
  /** Consult records (lifecycle, participants, opinions) and shared records. */
  storage: z.strictObject({ dir: str({ min: 1, max: 1024 }) }),
  records: z.strictObject({
    /** Largest upload, in bytes. */
    maxBytes: num({ integer: true, min: 1024, max: 512 * 1024 * 1024 }),
    /** Lifetime of a download URL. */
    urlTtlSec: num({ integer: true, min: 10, max: 3600 }),
    /** AES-256 key (32 bytes, base64) from a file or an environment variable. */
    // null clears a value inherited from the default config.
    keyFile: z.optional(z.nullable(str({ min: 1, max: 1024 }))),
    keyEnv: z.optional(z.nullable(str({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ }))),
    /** Dev convenience: create a random key in keyFile on first start. */
    generateKeyIfMissing: z.optional(z.boolean()),
    /** What happens to a consult's records when it ends. */
    retention: oneOf(['keep', 'delete'] as const),
  }),
  audit: z.strictObject({
    dir: str({ min: 1, max: 1024 }),
    maxFileBytes: num({ integer: true, min: 1024, max: 1024 ** 3 }),
  }),
  signaling: z.strictObject({
    maxMessageBytes: num({ integer: true, min: 1024, max: 1024 * 1024 }),
    rateLimitPerSec: num({ integer: true, min: 1, max: 10_000 }),
    rateLimitBurst: num({ integer: true, min: 1, max: 100_000 }),
    requestTimeoutMs: ms(120_000),
  }),
  // --- pre-call check: a media loopback outside every room, for any valid token
  preflight: z.strictObject({
    enabled: z.boolean(),
    /** The server ends a check after this long, whatever the client does. */
    maxDurationMs: num({ integer: true, min: 1000, max: 300_000 }),
    /** Bits per second a check may send (and is sent back); far above it for 3 s ends the check. */
    maxBitrate: num({ integer: true, min: 100_000, max: 20_000_000 }),
    /** Checks one person (issuer + subject) may start per minute. */
    perIdentityPerMinute: num({ integer: true, min: 1, max: 1000 }),
    /** Checks one IP address may start per minute (clinics share an address: keep it generous). */
    perIpPerMinute: num({ integer: true, min: 1, max: 100_000 }),
    /** Checks running at once on this node. */
    maxConcurrent: num({ integer: true, min: 1, max: 10_000 }),
  }),
  // --- data channels
  /**
   * App data over SCTP (room.data): the server consumes every client's data,
   * checks it and re-sends it. Limits are per participant.
   */
  data: z
    .strictObject({
      /** Off: transports get no SCTP association and produceData is refused. */
      enabled: z.boolean(),
      /** Largest payload of one message, in bytes. */
      maxMessageBytes: num({ integer: true, min: 16, max: 256 * 1024 }),
      /** Messages per second one participant may publish (all topics together), sustained ... */
      rateLimitPerSec: num({ integer: true, min: 1, max: 10_000 }),
      /** ... and at once. */
      rateLimitBurst: num({ integer: true, min: 1, max: 100_000 }),
      /**
       * Topics nobody may publish unless a module of the server registered a
       * policy for them: exact names ("vitals") or prefixes ending in '.' ("huizhen.").
       */
      restrictedTopics: arr(str({ min: 1, max: 64, pattern: DATA_TOPIC_PATTERN }), { max: 64 }),
      /** SCTP streams each way on a transport (one per data channel). */
      numSctpStreams: z.strictObject({
        OS: num({ integer: true, min: 1, max: 65535 }),
        MIS: num({ integer: true, min: 1, max: 65535 }),
      }),
      /** Largest SCTP message a transport accepts; must leave room for the envelope around maxMessageBytes. */
      maxSctpMessageSize: num({ integer: true, min: 1024, max: 1024 * 1024 }),
    })
    .check(
      z.refine((d) => d.maxMessageBytes + 4096 <= d.maxSctpMessageSize, {
        message: 'maxSctpMessageSize must exceed maxMessageBytes by at least 4096 (the envelope)',
        path: ['maxSctpMessageSize'],
      }),
    ),
  /** Plain-RTP transports for the load generator (tokens with the `loadtest` claim). */
  loadTest: z.strictObject({ enabled: z.boolean() }),
  log: z.strictObject({ level: oneOf(LOG_LEVELS) }),
  /** Cluster mode's Redis (REDIS_URL); null: one node, no Redis (the embedded default). */
  redis: z.strictObject({ url: z.nullable(str({ min: 1, max: 1024, pattern: /^rediss?:\/\// })) }),
  // --- cluster
  /** Node id, leases, timeouts and drain deadline of cluster mode (cluster/clusterConfig.ts). */
  cluster: clusterConfigSchema,
  // --- TURN (null or absent: no TURN, the embedded default)
  turn: z.optional(z.nullable(turnSchema)),
  // --- vitals
  /** Wearable vitals: freshness, rate limits, what is stored, alert thresholds (vitals/vitalsConfig.ts). */
  vitals: vitalsConfigSchema,
  // --- evaluation
  /** The patient's evaluation after a consult: how long it stays open (evaluation/evaluationConfig.ts). */
  evaluation: evaluationConfigSchema,
  // --- webhooks
  /** Signed, durable event deliveries to the hospital's systems (webhooks/webhookConfig.ts). */
  webhooks: webhooksConfigSchema,
  // --- recording
  /** Consult recording with everyone's consent: ffmpeg, URL lifetime, retention (recording/recordingConfig.ts). */
  recording: recordingConfigSchema,
});

export type HuizhenConfig = z.infer<typeof configSchema>;
export type IssuerConfig = HuizhenConfig['auth']['issuers'][number];
