/**
 * Typed, validated configuration. Sources, later ones winning:
 *   1. config/default.json (the embedded single-node default)
 *   2. the JSON file named by HUIZHEN_CONFIG, deep-merged over it
 *   3. environment variables (ENV_OVERRIDES below)
 * Every value is checked at start; an error names the key and what is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ROLES,
  ValidationError,
  array,
  boolean,
  number,
  object,
  oneOf,
  optional,
  string,
  type Infer,
  type Validator,
} from '@huizhen/protocol';
import { LOG_LEVELS } from './observability/logger.js';

/** The repository root (server/dist/.. or server/src/..). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG_PATH = join(PROJECT_ROOT, 'config/default.json');

const nullable = <T>(inner: Validator<T>): Validator<T | null> => ({
  parse: (value, path) => (value === null ? null : inner.parse(value, path)),
});

const port = number({ integer: true, min: 0, max: 65535 });
const ms = (max: number) => number({ integer: true, min: 1, max });

const issuerSchema = object({
  /** The token `iss` this entry trusts. */
  iss: string({ min: 1, max: 256 }),
  /** The `aud` tokens from this issuer must carry. */
  audience: string({ min: 1, max: 256 }),
  /** Pinned signing algorithm: a token signed any other way is rejected. */
  algorithm: oneOf(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'PS256'] as const),
  /** HMAC secret inline (discouraged outside tests), from a file, or from an environment variable. */
  secret: optional(string({ min: 32, max: 4096 })),
  secretFile: optional(string({ min: 1, max: 1024 })),
  secretEnv: optional(string({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ })),
  /** Dev convenience: create a random secret in secretFile on first start. */
  generateSecretIfMissing: optional(boolean()),
  /** PEM public key for RS/ES/PS algorithms, inline or from a file. */
  publicKey: optional(string({ min: 1, max: 16384 })),
  publicKeyFile: optional(string({ min: 1, max: 1024 })),
  /** JWKS document on disk (keys selected by `kid`). */
  jwksFile: optional(string({ min: 1, max: 1024 })),
  /** Roles this issuer may grant; a token asking for another role is refused. */
  roles: array(oneOf(ROLES), { min: 1, max: ROLES.length }),
  /**
   * Service scopes this issuer may grant to systems (e.g. an appointment
   * system): rooms:write books rooms, rooms:read reads summaries and
   * opinions of any room. None unless listed.
   */
  scopes: optional(array(oneOf(['rooms:write', 'rooms:read'] as const), { max: 2 })),
  /** A readable name for logs and the UI (e.g. the hospital's name). */
  displayName: optional(string({ min: 1, max: 128 })),
});

const configSchema = object({
  $comment: optional(string({ max: 4096 })),
  server: object({
    host: string({ min: 1, max: 255 }),
    port,
    trustProxy: boolean(),
  }),
  media: object({
    /** 0 = one worker per CPU core. */
    workers: number({ integer: true, min: 0, max: 256 }),
    logLevel: oneOf(['debug', 'warn', 'error', 'none'] as const),
    rtcListenIp: string({ min: 1, max: 64 }),
    rtcAnnouncedAddress: nullable(string({ min: 1, max: 255 })),
    /** First UDP/TCP port; worker i listens on rtcPort + i. 0 = any free port. */
    rtcPort: port,
    maxIncomingBitrate: number({ integer: true, min: 100_000, max: 100_000_000 }),
    initialOutgoingBitrate: number({ integer: true, min: 100_000, max: 100_000_000 }),
  }),
  auth: object({
    clockToleranceSec: number({ integer: true, min: 0, max: 300 }),
    maxTokenLifetimeSec: number({ integer: true, min: 60, max: 7 * 86400 }),
    issuers: array(issuerSchema, { min: 1, max: 64 }),
  }),
  devTokens: object({
    enabled: boolean(),
    issuer: optional(string({ min: 1, max: 256 })),
    ttlSec: optional(number({ integer: true, min: 60, max: 86400 })),
  }),
  rooms: object({
    maxParticipants: number({ integer: true, min: 2, max: 1000 }),
    joinTimeoutMs: ms(300_000),
    emptyRoomCloseMs: ms(3_600_000),
    /** A dropped participant keeps identity, admission and media this long. */
    reconnectGraceMs: ms(600_000),
  }),
  /** Consult records (lifecycle, participants, opinions) and shared records. */
  storage: object({ dir: string({ min: 1, max: 1024 }) }),
  records: object({
    /** Largest upload, in bytes. */
    maxBytes: number({ integer: true, min: 1024, max: 512 * 1024 * 1024 }),
    /** Lifetime of a download URL. */
    urlTtlSec: number({ integer: true, min: 10, max: 3600 }),
    /** AES-256 key (32 bytes, base64) from a file or an environment variable. */
    // null clears a value inherited from the default config.
    keyFile: optional(nullable(string({ min: 1, max: 1024 }))),
    keyEnv: optional(nullable(string({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ }))),
    /** Dev convenience: create a random key in keyFile on first start. */
    generateKeyIfMissing: optional(boolean()),
    /** What happens to a consult's records when it ends. */
    retention: oneOf(['keep', 'delete'] as const),
  }),
  audit: object({
    dir: string({ min: 1, max: 1024 }),
    maxFileBytes: number({ integer: true, min: 1024, max: 1024 ** 3 }),
  }),
  signaling: object({
    maxMessageBytes: number({ integer: true, min: 1024, max: 1024 * 1024 }),
    rateLimitPerSec: number({ integer: true, min: 1, max: 10_000 }),
    rateLimitBurst: number({ integer: true, min: 1, max: 100_000 }),
    requestTimeoutMs: ms(120_000),
  }),
  /** Plain-RTP transports for the load generator (tokens with the `loadtest` claim). */
  loadTest: object({ enabled: boolean() }),
  log: object({ level: oneOf(LOG_LEVELS) }),
  redis: object({ url: nullable(string({ min: 1, max: 1024, pattern: /^rediss?:\/\// })) }),
});

export type HuizhenConfig = Infer<typeof configSchema>;
export type IssuerConfig = HuizhenConfig['auth']['issuers'][number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Environment variable → config key, with how to parse it. */
const ENV_OVERRIDES: { env: string; path: string[]; kind: 'int' | 'bool' | 'string' | 'nullableString' }[] = [
  { env: 'PORT', path: ['server', 'port'], kind: 'int' },
  { env: 'HOST', path: ['server', 'host'], kind: 'string' },
  { env: 'HUIZHEN_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'HUIZHEN_WORKERS', path: ['media', 'workers'], kind: 'int' },
  { env: 'HUIZHEN_RTC_PORT', path: ['media', 'rtcPort'], kind: 'int' },
  { env: 'HUIZHEN_RTC_LISTEN_IP', path: ['media', 'rtcListenIp'], kind: 'string' },
  { env: 'HUIZHEN_ANNOUNCED_ADDRESS', path: ['media', 'rtcAnnouncedAddress'], kind: 'nullableString' },
  { env: 'HUIZHEN_DEV_TOKENS', path: ['devTokens', 'enabled'], kind: 'bool' },
  { env: 'HUIZHEN_LOAD_TEST', path: ['loadTest', 'enabled'], kind: 'bool' },
  { env: 'REDIS_URL', path: ['redis', 'url'], kind: 'nullableString' },
  { env: 'HUIZHEN_DATA_DIR', path: ['storage', 'dir'], kind: 'string' },
  { env: 'HUIZHEN_AUDIT_DIR', path: ['audit', 'dir'], kind: 'string' },
];

export interface LoadConfigOptions {
  env?: Env;
  /** Extra overrides merged last (tests). */
  overrides?: unknown;
  /** Base directory for relative file paths in the config (default: project root). */
  baseDir?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): HuizhenConfig {
  const env = options.env ?? process.env;
  let merged: unknown = readJson(DEFAULT_CONFIG_PATH);
  const file = env.HUIZHEN_CONFIG;
  if (file) {
    const path = isAbsolute(file) ? file : resolve(process.cwd(), file);
    if (!existsSync(path)) throw new ConfigError(`HUIZHEN_CONFIG names '${path}', which does not exist`);
    merged = deepMerge(merged, readJson(path));
  }
  merged = deepMerge(merged, envOverrides(env));
  if (options.overrides !== undefined) merged = deepMerge(merged, options.overrides);
  return parseConfig(merged, options.baseDir ?? PROJECT_ROOT);
}

/** Validates a complete config object and resolves relative paths against baseDir. */
export function parseConfig(raw: unknown, baseDir: string = PROJECT_ROOT): HuizhenConfig {
  let config: HuizhenConfig;
  try {
    config = configSchema.parse(raw, '');
  } catch (err) {
    if (err instanceof ValidationError) throw new ConfigError(`invalid config: ${err.message}`);
    throw err;
  }
  for (const [i, issuer] of config.auth.issuers.entries()) {
    const where = `auth.issuers[${i}] (${issuer.iss})`;
    const hmac = issuer.algorithm.startsWith('HS');
    const secretSources = [issuer.secret, issuer.secretFile, issuer.secretEnv].filter((v) => v !== undefined).length;
    const keySources = [issuer.publicKey, issuer.publicKeyFile, issuer.jwksFile].filter((v) => v !== undefined).length;
    if (hmac && (secretSources !== 1 || keySources !== 0)) {
      throw new ConfigError(
        `invalid config: ${where}: ${issuer.algorithm} needs exactly one of secret, secretFile, secretEnv and no public key`,
      );
    }
    if (!hmac && (keySources !== 1 || secretSources !== 0)) {
      throw new ConfigError(
        `invalid config: ${where}: ${issuer.algorithm} needs exactly one of publicKey, publicKeyFile, jwksFile and no secret`,
      );
    }
    if (issuer.generateSecretIfMissing && !issuer.secretFile) {
      throw new ConfigError(`invalid config: ${where}: generateSecretIfMissing needs secretFile`);
    }
    for (const key of ['secretFile', 'publicKeyFile', 'jwksFile'] as const) {
      const value = issuer[key];
      if (value !== undefined && !isAbsolute(value)) issuer[key] = resolve(baseDir, value);
    }
  }
  const issuerNames = config.auth.issuers.map((i) => i.iss);
  if (new Set(issuerNames).size !== issuerNames.length)
    throw new ConfigError('invalid config: auth.issuers: two entries have the same iss');
  if (config.devTokens.enabled) {
    const devIssuer = config.devTokens.issuer;
    if (!devIssuer)
      throw new ConfigError('invalid config: devTokens.issuer is required when devTokens.enabled is true');
    const issuer = config.auth.issuers.find((i) => i.iss === devIssuer);
    if (!issuer) throw new ConfigError(`invalid config: devTokens.issuer '${devIssuer}' is not one of auth.issuers`);
    if (!issuer.algorithm.startsWith('HS'))
      throw new ConfigError(
        `invalid config: devTokens.issuer '${devIssuer}' must use an HS* algorithm (the server signs dev tokens with its secret)`,
      );
  }
  if (!isAbsolute(config.storage.dir)) config.storage.dir = resolve(baseDir, config.storage.dir);
  if (!isAbsolute(config.audit.dir)) config.audit.dir = resolve(baseDir, config.audit.dir);
  if ((config.records.keyFile == null) === (config.records.keyEnv == null)) {
    throw new ConfigError('invalid config: records needs exactly one of keyFile, keyEnv');
  }
  if (config.records.generateKeyIfMissing && !config.records.keyFile)
    throw new ConfigError('invalid config: records.generateKeyIfMissing needs records.keyFile');
  if (config.records.keyFile && !isAbsolute(config.records.keyFile))
    config.records.keyFile = resolve(baseDir, config.records.keyFile);
  if (config.signaling.rateLimitBurst < config.signaling.rateLimitPerSec) {
    throw new ConfigError('invalid config: signaling.rateLimitBurst must be >= signaling.rateLimitPerSec');
  }
  return config;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file '${path}': ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file '${path}' is not valid JSON: ${(err as Error).message}`);
  }
}

function envOverrides(env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { env: name, path, kind } of ENV_OVERRIDES) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    let value: unknown;
    switch (kind) {
      case 'int':
        if (!/^\d+$/.test(raw)) throw new ConfigError(`environment variable ${name}='${raw}' must be a whole number`);
        value = Number(raw);
        break;
      case 'bool':
        if (!['true', 'false', '1', '0'].includes(raw))
          throw new ConfigError(`environment variable ${name}='${raw}' must be true or false`);
        value = raw === 'true' || raw === '1';
        break;
      case 'nullableString':
        value = raw === 'null' ? null : raw;
        break;
      default:
        value = raw;
    }
    let node = out;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars are replaced whole. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}
