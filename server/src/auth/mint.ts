/**
 * The one place a Huizhen join token is signed: the server's dev tokens and
 * operator CLI, the test server, the load generator and the browser tests'
 * partner issuer all come here. jsonwebtoken does the crypto; the algorithm is
 * pinned by the caller's issuer, never taken from the claims. This module
 * imports nothing else from the server, so the load generator can load it alone.
 */
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export type SigningAlgorithm = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

export interface TokenSigner {
  iss: string;
  audience: string;
  algorithm: SigningAlgorithm;
  /** An HMAC secret, or a private key for RS/ES issuers. */
  key: KeyObject | Buffer | string;
  kid?: string;
}

export interface JoinTokenClaims {
  identity: string;
  name?: string;
  room: string;
  role: string;
  grants?: string[];
  ttlSec: number;
  /** A load-generator credential (the server honours it only when loadTest.enabled). */
  loadTest?: boolean;
  roomKind?: 'consult' | 'clinic' | 'rounds';
  capacity?: number;
}

export function mintToken(signer: TokenSigner, claims: JoinTokenClaims): string {
  const payload: Record<string, unknown> = {
    name: claims.name ?? claims.identity,
    room: claims.room,
    role: claims.role,
  };
  if (claims.grants) payload.grants = claims.grants;
  if (claims.loadTest) payload.loadtest = true;
  if (claims.roomKind) payload.kind = claims.roomKind;
  if (claims.capacity) payload.capacity = claims.capacity;
  return jwt.sign(payload, signer.key, {
    algorithm: signer.algorithm,
    subject: claims.identity,
    issuer: signer.iss,
    audience: signer.audience,
    expiresIn: claims.ttlSec,
    ...(signer.kid ? { keyid: signer.kid } : {}),
  });
}
