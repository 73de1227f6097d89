/**
 * Typed, validated configuration. Sources, later ones winning:
 *   1. config/default.json (the embedded single-node default)
 *   2. the JSON file named by HUIZHEN_CONFIG, deep-merged over it
 *   3. environment variables (ENV_OVERRIDES below)
 * Every value is checked at start; an error names the key and what is wrong.
 */
import { isWildcardOrigin } from './http/origins.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProtocolValidationError, parseWith } from '@huizhen/protocol';
import { configSchema, type HuizhenConfig } from './configSchema.js';
import { checkWebhooksConfig } from './webhooks/webhookConfig.js';

export type { HuizhenConfig, IssuerConfig } from './configSchema.js';

/** The repository root (server/dist/.. or server/src/..). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG_PATH = join(PROJECT_ROOT, 'config/default.json');

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/** Environment variable → config key, with how to parse it. */
const ENV_OVERRIDES: { env: string; path: string[]; kind: 'int' | 'bool' | 'string' | 'nullableString' | 'list' }[] = [
  { env: 'PORT', path: ['server', 'port'], kind: 'int' },
  { env: 'HOST', path: ['server', 'host'], kind: 'string' },
  { env: 'HUIZHEN_ALLOWED_ORIGINS', path: ['server', 'allowedOrigins'], kind: 'list' },
  { env: 'HUIZHEN_LOG_LEVEL', path: ['log', 'level'], kind: 'string' },
  { env: 'HUIZHEN_WORKERS', path: ['media', 'workers'], kind: 'int' },
  { env: 'HUIZHEN_RTC_PORT', path: ['media', 'rtcPort'], kind: 'int' },
  { env: 'HUIZHEN_RTC_LISTEN_IP', path: ['media', 'rtcListenIp'], kind: 'string' },
  { env: 'HUIZHEN_ANNOUNCED_ADDRESS', path: ['media', 'rtcAnnouncedAddress'], kind: 'nullableString' },
  { env: 'HUIZHEN_DEV_TOKENS', path: ['devTokens', 'enabled'], kind: 'bool' },
  { env: 'HUIZHEN_LOAD_TEST', path: ['loadTest', 'enabled'], kind: 'bool' },
  { env: 'REDIS_URL', path: ['redis', 'url'], kind: 'nullableString' },
  { env: 'HUIZHEN_NODE_ID', path: ['cluster', 'nodeId'], kind: 'nullableString' },
  { env: 'HUIZHEN_PUBLIC_URL', path: ['cluster', 'publicUrl'], kind: 'nullableString' },
  { env: 'HUIZHEN_CLUSTER_SECRET', path: ['cluster', 'linkSecret'], kind: 'nullableString' },
  { env: 'HUIZHEN_DATA_DIR', path: ['storage', 'dir'], kind: 'string' },
  { env: 'HUIZHEN_AUDIT_DIR', path: ['audit', 'dir'], kind: 'string' },
  { env: 'HUIZHEN_RECONNECT_GRACE_MS', path: ['rooms', 'reconnectGraceMs'], kind: 'int' },
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
    config = parseWith(configSchema, raw);
  } catch (err) {
    if (err instanceof ProtocolValidationError) throw new ConfigError(`invalid config: ${err.message}`);
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
  // --- cluster: other nodes reach this node's pipe transports at the media address; a wildcard is no address
  if (
    config.redis.url &&
    config.cluster.linkSecret &&
    (config.media.rtcListenIp === '0.0.0.0' || config.media.rtcListenIp === '::') &&
    !config.media.rtcAnnouncedAddress
  )
    throw new ConfigError(
      `invalid config: media.rtcListenIp is the wildcard '${config.media.rtcListenIp}' in cluster mode; set media.rtcAnnouncedAddress (HUIZHEN_ANNOUNCED_ADDRESS) to the address other nodes and clients reach this node's media at`,
    );
  if (!isAbsolute(config.storage.dir)) config.storage.dir = resolve(baseDir, config.storage.dir);
  if (!isAbsolute(config.audit.dir)) config.audit.dir = resolve(baseDir, config.audit.dir);
  if ((config.records.keyFile == null) === (config.records.keyEnv == null)) {
    throw new ConfigError('invalid config: records needs exactly one of keyFile, keyEnv');
  }
  if (config.records.generateKeyIfMissing && !config.records.keyFile)
    throw new ConfigError('invalid config: records.generateKeyIfMissing needs records.keyFile');
  if (config.records.keyFile && !isAbsolute(config.records.keyFile))
    config.records.keyFile = resolve(baseDir, config.records.keyFile);
  // --- TURN
  if (config.turn) {
    if ((config.turn.secretFile === undefined) === (config.turn.secretEnv === undefined))
      throw new ConfigError(
        'invalid config: turn needs exactly one of secretFile, secretEnv (the secret shared with coturn)',
      );
    if (config.turn.secretFile && !isAbsolute(config.turn.secretFile))
      config.turn.secretFile = resolve(baseDir, config.turn.secretFile);
    if (config.media.iceProtocols && !config.media.iceProtocols.includes('udp'))
      throw new ConfigError(
        "invalid config: turn needs 'udp' in media.iceProtocols (coturn relays to the media server over UDP)",
      );
  }
  // --- origins: any-port entries are a development convenience, never on a reachable server
  const wildcards = config.server.allowedOrigins.filter(isWildcardOrigin);
  if (wildcards.length > 0 && !isLoopbackHost(config.server.host))
    throw new ConfigError(
      `invalid config: server.allowedOrigins: '${wildcards[0]}' allows any port, which only a loopback server (server.host 127.0.0.1 or localhost) may; list the exact origins of your apps, or [] (HUIZHEN_ALLOWED_ORIGINS=self) for this server's own only`,
    );
  config.server.allowedOrigins = config.server.allowedOrigins.map((o) => o.toLowerCase());
  // --- webhooks
  const webhooksProblem = checkWebhooksConfig(config.webhooks, baseDir);
  if (webhooksProblem) throw new ConfigError(`invalid config: ${webhooksProblem}`);
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
      case 'list':
        // 'self' alone: only the server's own origin (an empty variable means "not set").
        value = (raw === 'self' ? '' : raw)
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== '');
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

/** A server listening only on the loopback interface: the embedded development default. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
