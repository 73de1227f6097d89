/**
 * A partner hospital's identity system, for tests: an RSA key pair made in the
 * test, the config entry that makes a Huizhen server trust it, and RS256 join
 * tokens signed with its private key (what the hospital would issue), through
 * the same minting module as every other Huizhen token.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mintToken } from '../../server/src/auth/mint.js';

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
      return mintToken(
        { iss, audience: 'huizhen', algorithm: 'RS256', key: privateKey },
        {
          identity: sub,
          name,
          room,
          role,
          ttlSec,
        },
      );
    },
  };
}
