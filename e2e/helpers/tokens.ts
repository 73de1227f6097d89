/**
 * A partner hospital's identity system, for tests: an RSA key pair made in the
 * test, the config entry that makes a Huizhen server trust it, and RS256 join
 * tokens signed with its private key (what the hospital would issue).
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface PartnerIssuer {
  iss: string;
  /** The `auth.issuers` entry for the server's config. */
  config: Record<string, unknown>;
  /** An RS256 join token, signed the way the partner's own system would. */
  token(claims: { sub: string; name: string; room: string; role: string; ttlSec?: number }): string;
}

export function makePartnerIssuer(iss: string, roles: string[]): PartnerIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    iss,
    config: {
      iss,
      audience: 'huizhen',
      algorithm: 'RS256',
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      roles,
      displayName: 'Partner tertiary hospital',
    },
    token: ({ sub, name, room, role, ttlSec = 600 }) => {
      const now = Math.floor(Date.now() / 1000);
      return signRs256({ iss, aud: 'huizhen', sub, name, room, role, iat: now, exp: now + ttlSec }, privateKey);
    },
  };
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

function signRs256(payload: Record<string, unknown>, key: KeyObject): string {
  const head = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(head).sign(key);
  return `${head}.${b64url(signature)}`;
}
