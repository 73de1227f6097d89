/**
 * Access-token verification. The issuer is looked up from the (unverified)
 * `iss`, then the token is verified with that issuer's key and its single
 * pinned algorithm, audience and expiry. Only then are the claims trusted.
 */
import jwt from 'jsonwebtoken';
import { ErrorCode, ROLES, ROOM_KINDS, type Role, type RoomKind } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';
import type { TrustedIssuer } from './issuers.js';
import { mintToken, type SigningAlgorithm } from './mint.js';
import { isPermission } from './permissions.js';

export interface TokenClaims {
  /** Stable identity of the person (`sub`). */
  identity: string;
  name: string;
  room: string;
  role: Role;
  /** Optional narrowing of the role's permissions. */
  grants?: string[];
  issuer: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** A load-generator credential (honoured only when loadTest.enabled). */
  loadTest: boolean;
  /** Room kind and capacity asked for by the token that opens the room (clinicians only). */
  roomKind?: RoomKind;
  capacity?: number;
}

export interface VerifyOptions {
  clockToleranceSec: number;
  maxTokenLifetimeSec: number;
  /** Seconds since the epoch; tests may fix it. */
  now?: number;
}

const IDENTITY = /^[A-Za-z0-9_.@:-]{1,128}$/;
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;

const invalid = (why: string) => new HuizhenError(ErrorCode.TOKEN_INVALID, `The access token is invalid: ${why}.`);

/** Signature, pinned algorithm, issuer, audience, expiry and lifetime; returns the verified payload. */
function verifyJwt(
  token: string,
  issuers: ReadonlyMap<string, TrustedIssuer>,
  options: VerifyOptions,
): { payload: jwt.JwtPayload; issuer: TrustedIssuer } {
  if (typeof token !== 'string' || token.length === 0) throw invalid('it is empty');
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) throw invalid('it is not a JWT');
  const iss = decoded.payload.iss;
  if (typeof iss !== 'string') throw invalid('it has no issuer (iss)');
  const issuer = issuers.get(iss);
  if (!issuer)
    throw new HuizhenError(
      ErrorCode.ISSUER_UNKNOWN,
      `Tokens from issuer '${truncate(iss)}' are not trusted by this server.`,
    );
  if (decoded.header.alg !== issuer.config.algorithm) {
    throw invalid(
      `it is signed with ${truncate(String(decoded.header.alg))}, but issuer '${iss}' signs with ${issuer.config.algorithm}`,
    );
  }
  const key = issuer.keyFor(typeof decoded.header.kid === 'string' ? decoded.header.kid : undefined);
  if (!key) throw invalid(`no key of issuer '${iss}' matches its kid`);

  let payload: jwt.JwtPayload;
  try {
    const verified = jwt.verify(token, key, {
      algorithms: [issuer.config.algorithm],
      audience: issuer.config.audience,
      issuer: iss,
      clockTolerance: options.clockToleranceSec,
      ...(options.now !== undefined ? { clockTimestamp: options.now } : {}),
    });
    if (typeof verified === 'string') throw invalid('its payload is not an object');
    payload = verified;
  } catch (err) {
    if (err instanceof HuizhenError) throw err;
    if (err instanceof jwt.TokenExpiredError)
      throw new HuizhenError(ErrorCode.TOKEN_EXPIRED, 'The access token has expired; ask the app for a new one.');
    if (err instanceof jwt.NotBeforeError) throw invalid('it is not valid yet (nbf)');
    const message = (err as Error).message;
    if (/audience/.test(message)) throw invalid(`it is not meant for this server (aud)`);
    throw invalid(message.replace(/^jwt /, ''));
  }

  if (typeof payload.exp !== 'number') throw invalid('it has no expiry (exp)');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > now + options.clockToleranceSec)
    throw invalid('it claims to be issued in the future (iat)');
  const issuedAt = typeof payload.iat === 'number' ? payload.iat : now;
  // Both from issue time and from now, so a forged iat cannot stretch a token's life.
  if (payload.exp - issuedAt > options.maxTokenLifetimeSec || payload.exp - now > options.maxTokenLifetimeSec) {
    throw invalid(`its lifetime exceeds the ${options.maxTokenLifetimeSec} s this server accepts`);
  }
  return { payload, issuer };
}

export type ServiceScope = 'rooms:write' | 'rooms:read' | 'vitals:read' | 'recordings:read';

export interface ServiceClaims {
  /** The calling system, e.g. the hospital's appointment service. */
  service: string;
  issuer: string;
}

/**
 * Tokens for systems rather than people (an appointment system booking rooms):
 * same verification, a `scope` claim with the needed scope, and an issuer that
 * the config allows to grant that scope.
 */
export function verifyServiceToken(
  token: string,
  issuers: ReadonlyMap<string, TrustedIssuer>,
  options: VerifyOptions,
  needed: ServiceScope,
): ServiceClaims {
  const { payload, issuer } = verifyJwt(token, issuers, options);
  const scope = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
  if (!scope.includes(needed))
    throw new HuizhenError(ErrorCode.PERMISSION_DENIED, `This token's scope does not include ${needed}.`);
  if (!(issuer.config.scopes ?? []).includes(needed)) {
    throw new HuizhenError(ErrorCode.PERMISSION_DENIED, `Issuer '${issuer.config.iss}' may not grant ${needed}.`);
  }
  if (typeof payload.sub !== 'string' || !IDENTITY.test(payload.sub))
    throw invalid('its subject (sub) is missing or malformed');
  return { service: payload.sub, issuer: issuer.config.iss };
}

export function verifyAccessToken(
  token: string,
  issuers: ReadonlyMap<string, TrustedIssuer>,
  options: VerifyOptions,
): TokenClaims {
  const { payload, issuer } = verifyJwt(token, issuers, options);
  const iss = issuer.config.iss;
  const { sub, name, room, role, grants, loadtest, kind, capacity } = payload as Record<string, unknown>;
  if (kind !== undefined && !(ROOM_KINDS as readonly unknown[]).includes(kind))
    throw invalid('its kind claim is not a known room kind');
  if (
    capacity !== undefined &&
    (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 2 || capacity > 1000)
  ) {
    throw invalid('its capacity claim must be a whole number from 2 to 1000');
  }
  if (typeof sub !== 'string' || !IDENTITY.test(sub)) throw invalid('its subject (sub) is missing or malformed');
  if (typeof room !== 'string' || !ROOM.test(room)) throw invalid('its room claim is missing or malformed');
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
    throw invalid('its role claim is missing or unknown');
  if (!(issuer.config.roles as readonly string[]).includes(role)) {
    throw new HuizhenError(ErrorCode.PERMISSION_DENIED, `Issuer '${iss}' may not grant the role '${role}'.`);
  }
  if (name !== undefined && (typeof name !== 'string' || name.length > 128))
    throw invalid('its name claim is malformed');
  if (
    grants !== undefined &&
    (!Array.isArray(grants) || grants.length > 32 || !grants.every((g) => typeof g === 'string' && isPermission(g)))
  ) {
    throw invalid('its grants claim is malformed');
  }
  return {
    identity: sub,
    name: typeof name === 'string' && name.trim() ? name.trim() : sub,
    room,
    role: role as Role,
    ...(grants !== undefined ? { grants: grants as string[] } : {}),
    issuer: iss,
    expiresAt: payload.exp as number,
    loadTest: loadtest === true,
    ...(kind !== undefined ? { roomKind: kind as RoomKind } : {}),
    ...(capacity !== undefined ? { capacity: capacity as number } : {}),
  };
}

export interface MintOptions {
  identity: string;
  name?: string;
  room: string;
  role: Role;
  grants?: string[];
  ttlSec: number;
  loadTest?: boolean;
  roomKind?: RoomKind;
  capacity?: number;
}

/** Signs a token with an HMAC issuer's secret (dev tokens and the operator CLI). */
export function mintAccessToken(issuer: TrustedIssuer, options: MintOptions): string {
  if (!issuer.secret) throw new Error(`issuer '${issuer.config.iss}' has no secret this server can sign with`);
  if (!IDENTITY.test(options.identity))
    throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'identity must be 1-128 characters of A-Z a-z 0-9 _ . @ : -');
  if (!ROOM.test(options.room))
    throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'room must be 1-64 characters of A-Z a-z 0-9 _ -');
  return mintToken(
    {
      iss: issuer.config.iss,
      audience: issuer.config.audience,
      algorithm: issuer.config.algorithm as SigningAlgorithm,
      key: issuer.secret,
    },
    options,
  );
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
