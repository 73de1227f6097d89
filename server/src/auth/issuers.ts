/**
 * Key material for each trusted token issuer, loaded once at start. Dev
 * installs may have the server create its own HMAC secret on first run.
 */
import { createPublicKey, createSecretKey, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IssuerConfig } from '../config.js';
import { ConfigError } from '../config.js';

export interface TrustedIssuer {
  config: IssuerConfig;
  /** Returns the key for a token header's `kid` (ignored unless the issuer uses a JWKS). */
  keyFor(kid: string | undefined): KeyObject | undefined;
  /** The HMAC secret, for issuers the server itself signs with (dev tokens, CLI). */
  secret?: Buffer;
}

export function loadIssuers(
  configs: readonly IssuerConfig[],
  env: Record<string, string | undefined> = process.env,
): Map<string, TrustedIssuer> {
  const out = new Map<string, TrustedIssuer>();
  for (const config of configs) out.set(config.iss, loadIssuer(config, env));
  return out;
}

function loadIssuer(config: IssuerConfig, env: Record<string, string | undefined>): TrustedIssuer {
  const where = `issuer '${config.iss}'`;
  if (config.algorithm.startsWith('HS')) {
    const secret = loadSecret(config, env, where);
    if (secret.length < 32) throw new ConfigError(`${where}: the HMAC secret must be at least 32 bytes`);
    const key = createSecretKey(secret);
    return { config, secret, keyFor: () => key };
  }
  if (config.jwksFile) {
    const keys = loadJwks(config.jwksFile, where);
    return {
      config,
      keyFor: (kid) => (kid === undefined ? (keys.size === 1 ? [...keys.values()][0] : undefined) : keys.get(kid)),
    };
  }
  const pem = config.publicKey ?? readText(config.publicKeyFile!, where);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new ConfigError(`${where}: public key is not a valid PEM key: ${(err as Error).message}`);
  }
  checkKeyType(key, config.algorithm, where);
  return { config, keyFor: () => key };
}

function loadSecret(config: IssuerConfig, env: Record<string, string | undefined>, where: string): Buffer {
  if (config.secret) return Buffer.from(config.secret, 'utf8');
  if (config.secretEnv) {
    const value = env[config.secretEnv];
    if (!value) throw new ConfigError(`${where}: environment variable ${config.secretEnv} is not set`);
    return Buffer.from(value, 'utf8');
  }
  const file = config.secretFile!;
  if (!existsSync(file)) {
    if (!config.generateSecretIfMissing) throw new ConfigError(`${where}: secret file '${file}' does not exist`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // 'wx' so two processes starting at once never overwrite each other's secret.
    try {
      writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return Buffer.from(readText(file, where).trim(), 'utf8');
}

function loadJwks(file: string, where: string): Map<string, KeyObject> {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(file, where));
  } catch (err) {
    throw new ConfigError(`${where}: JWKS file '${file}' is not valid JSON: ${(err as Error).message}`);
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`${where}: JWKS file '${file}' has no keys`);
  const out = new Map<string, KeyObject>();
  keys.forEach((jwk: Record<string, unknown>, i) => {
    const kid = typeof jwk.kid === 'string' ? jwk.kid : String(i);
    try {
      out.set(kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    } catch (err) {
      throw new ConfigError(`${where}: JWKS key ${kid} is invalid: ${(err as Error).message}`);
    }
  });
  return out;
}

function checkKeyType(key: KeyObject, algorithm: string, where: string): void {
  const type = key.asymmetricKeyType;
  const ok = algorithm.startsWith('ES') ? type === 'ec' : type === 'rsa' || type === 'rsa-pss';
  if (!ok) throw new ConfigError(`${where}: a ${type} key cannot verify ${algorithm} tokens`);
}

function readText(file: string, where: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${where}: cannot read '${file}': ${(err as Error).message}`);
  }
}
