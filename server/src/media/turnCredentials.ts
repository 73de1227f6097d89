/**
 * Time-limited TURN credentials for coturn's `--use-auth-secret` mode
 * (draft-uberti-behave-turn-rest-00): the server and coturn share one secret;
 * each participant gets
 *
 *   username   = <expiry, unix seconds>:<user>
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * and coturn recomputes the credential and refuses a username whose expiry has
 * passed. Nothing is stored: a credential is valid until its expiry, which is
 * never later than the token the participant joined (or refreshed) with.
 *
 * The <user> part is a keyed pseudonym of (issuer, identity), not the identity:
 * identities may contain ':' (coturn splits the username at ':'), may be long
 * (STUN usernames are short), and a patient's identity must not land in the
 * TURN server's logs. The pseudonym is stable per person, so a coturn log line
 * can still be matched to a participant with `turnUserFor()`.
 */
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IceServer } from '@huizhen/protocol';
import { ConfigError } from '../config.js';
import type { HuizhenConfig } from '../configSchema.js';

export type TurnConfig = NonNullable<HuizhenConfig['turn']>;

export interface TurnCredentialsOptions {
  /** The secret shared with coturn (`static-auth-secret`). */
  secret: string;
  /** turn:/turns: URLs handed to clients. */
  urls: readonly string[];
  /** Longest lifetime of one credential. */
  ttlSec: number;
}

/** ICE servers for one participant and how long they stay valid. */
export interface IssuedIceServers {
  iceServers: IceServer[];
  /** Seconds from now. */
  iceServersExpireIn: number;
  /** Unix seconds. */
  expiresAt: number;
}

/** The person a credential is for, and until when their token is valid (unix seconds). */
export interface TurnSubject {
  issuer: string;
  identity: string;
  tokenExpiresAt: number;
}

/** base64(HMAC-SHA1(secret, username)), the REST credential coturn recomputes. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/**
 * The stable pseudonym of a person in TURN usernames: 22 base64url characters
 * of HMAC-SHA256 over issuer and identity, keyed with the TURN secret (so it
 * cannot be reversed by hashing a list of identities without the secret).
 */
export function turnUserFor(secret: string, issuer: string, identity: string): string {
  const digest = createHmac('sha256', secret).update(`huizhen-turn-user\0${issuer}\0${identity}`, 'utf8').digest();
  return 'hz_' + digest.subarray(0, 16).toString('base64url');
}

export class TurnCredentials {
  readonly #secret: string;
  readonly #urls: string[];
  readonly #ttlSec: number;

  constructor(options: TurnCredentialsOptions) {
    if (options.secret.length === 0) throw new Error('TURN secret must not be empty');
    this.#secret = options.secret;
    this.#urls = [...options.urls];
    this.#ttlSec = options.ttlSec;
  }

  /**
   * Fresh credentials for `subject`, valid until now + ttlSec or the token's
   * expiry, whichever comes first. `nowSec` is for tests.
   */
  issue(subject: TurnSubject, nowSec: number = Math.floor(Date.now() / 1000)): IssuedIceServers {
    const expiresAt = Math.max(nowSec, Math.min(nowSec + this.#ttlSec, Math.floor(subject.tokenExpiresAt)));
    const username = `${expiresAt}:${turnUserFor(this.#secret, subject.issuer, subject.identity)}`;
    return {
      iceServers: [{ urls: [...this.#urls], username, credential: turnPassword(this.#secret, username) }],
      iceServersExpireIn: expiresAt - nowSec,
      expiresAt,
    };
  }

  /** Never print the secret, whatever logs this object. */
  toJSON(): Record<string, unknown> {
    return { urls: this.#urls, ttlSec: this.#ttlSec };
  }
}

/** Reads the shared secret from the configured file or environment variable. */
export function loadTurnCredentials(
  config: HuizhenConfig['turn'],
  env: Record<string, string | undefined> = process.env,
): TurnCredentials | undefined {
  if (!config) return undefined;
  let secret: string;
  if (config.secretEnv) {
    const value = env[config.secretEnv];
    if (!value || value.trim() === '')
      throw new ConfigError(`turn: environment variable ${config.secretEnv} (the TURN secret) is not set`);
    secret = value.trim();
  } else {
    const file = config.secretFile!;
    if (!existsSync(file)) throw new ConfigError(`turn: secret file '${file}' does not exist`);
    try {
      secret = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(`turn: cannot read secret file '${file}': ${(err as Error).message}`);
    }
    if (secret === '') throw new ConfigError(`turn: secret file '${file}' is empty`);
  }
  if (secret.length < 16) throw new ConfigError('turn: the TURN secret must be at least 16 characters');
  return new TurnCredentials({ secret, urls: config.urls, ttlSec: config.ttlSec });
}
