/**
 * The shape of the server configuration, in zod (the same zod and error
 * sentences as the wire protocol: `server.port: must be <= 65535`). Rules that
 * span keys (one secret source per issuer, ...) are checked in config.ts.
 */
import { ROLES, arr, num, oneOf, str } from '@huizhen/protocol';
import * as z from 'zod/mini';
import { LOG_LEVELS } from './observability/logger.js';
import { vitalsConfigSchema } from './vitals/vitalsConfig.js';

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
   * opinions of any room, vitals:read reads any room's vitals (FHIR Bundle).
   * None unless listed.
   */
  scopes: z.optional(arr(oneOf(['rooms:write', 'rooms:read', 'vitals:read'] as const), { max: 3 })),
  /** A readable name for logs and the UI (e.g. the hospital's name). */
  displayName: z.optional(str({ min: 1, max: 128 })),
});

export const configSchema = z.strictObject({
  $comment: z.optional(str({ max: 4096 })),
  server: z.strictObject({
    host: str({ min: 1, max: 255 }),
    port,
    trustProxy: z.boolean(),
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
  /** Plain-RTP transports for the load generator (tokens with the `loadtest` claim). */
  loadTest: z.strictObject({ enabled: z.boolean() }),
  log: z.strictObject({ level: oneOf(LOG_LEVELS) }),
  redis: z.strictObject({ url: z.nullable(str({ min: 1, max: 1024, pattern: /^rediss?:\/\// })) }),
  // --- vitals
  /** Wearable vitals: freshness, rate limits, what is stored, alert thresholds (vitals/vitalsConfig.ts). */
  vitals: vitalsConfigSchema,
});

export type HuizhenConfig = z.infer<typeof configSchema>;
export type IssuerConfig = HuizhenConfig['auth']['issuers'][number];
