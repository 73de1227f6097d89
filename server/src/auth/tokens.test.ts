import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { parseConfig, loadConfig } from '../config.js';
import { loadIssuers } from './issuers.js';
import { mintAccessToken, verifyAccessToken } from './tokens.js';

const SECRET = 'a-very-long-test-secret-of-at-least-32-bytes!!';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const issuers = loadIssuers(
  parseConfig({
    ...loadConfig({ env: {} }),
    auth: {
      clockToleranceSec: 0,
      maxTokenLifetimeSec: 86400,
      issuers: [
        {
          iss: 'county',
          audience: 'huizhen',
          algorithm: 'HS256',
          secret: SECRET,
          roles: ['doctor', 'patient', 'specialist'],
        },
        { iss: 'tertiary', audience: 'huizhen', algorithm: 'RS256', publicKey: rsaPublicPem, roles: ['specialist'] },
        {
          iss: 'partner',
          audience: 'huizhen',
          algorithm: 'ES256',
          publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          roles: ['specialist'],
        },
      ],
    },
    devTokens: { enabled: false },
  }).auth.issuers,
);

const opts = { clockToleranceSec: 0, maxTokenLifetimeSec: 86400 };
const claims = { sub: 'dr-wang', name: 'Dr Wang', room: 'consult-1', role: 'doctor' };
const sign = (payload: object, key: jwt.Secret, options: jwt.SignOptions) =>
  jwt.sign(payload, key, { expiresIn: 600, ...options });
const verify = (token: string) => verifyAccessToken(token, issuers, opts);
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'NO_ERROR';
};

describe('verifyAccessToken', () => {
  it('accepts a well-formed token and returns its claims', () => {
    const token = sign(claims, SECRET, { algorithm: 'HS256', issuer: 'county', audience: 'huizhen' });
    expect(verify(token)).toMatchObject({
      identity: 'dr-wang',
      name: 'Dr Wang',
      room: 'consult-1',
      role: 'doctor',
      issuer: 'county',
    });
  });

  it('accepts RS256 and ES256 tokens from their own issuers', () => {
    const spec = { ...claims, role: 'specialist' };
    expect(
      verify(sign(spec, rsa.privateKey, { algorithm: 'RS256', issuer: 'tertiary', audience: 'huizhen' })).issuer,
    ).toBe('tertiary');
    expect(
      verify(sign(spec, ec.privateKey, { algorithm: 'ES256', issuer: 'partner', audience: 'huizhen' })).issuer,
    ).toBe('partner');
  });

  it('rejects an expired token with TOKEN_EXPIRED', () => {
    const token = jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET, {
      algorithm: 'HS256',
      issuer: 'county',
      audience: 'huizhen',
    });
    expect(code(() => verify(token))).toBe('TOKEN_EXPIRED');
  });

  it('rejects a wrong audience or a tampered issuer', () => {
    expect(
      code(() => verify(sign(claims, SECRET, { algorithm: 'HS256', issuer: 'county', audience: 'other-app' }))),
    ).toBe('TOKEN_INVALID');
    expect(
      code(() => verify(sign(claims, SECRET, { algorithm: 'HS256', issuer: 'elsewhere', audience: 'huizhen' }))),
    ).toBe('ISSUER_UNKNOWN');
  });

  it("rejects alg 'none'", () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...claims, iss: 'county', aud: 'huizhen', exp: Math.floor(Date.now() / 1000) + 600 }),
    ).toString('base64url');
    expect(code(() => verify(`${header}.${body}.`))).toBe('TOKEN_INVALID');
  });

  it('rejects HS/RS confusion: an HS256 token signed with the RSA public key', () => {
    const forged = [
      Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
      Buffer.from(
        JSON.stringify({
          ...claims,
          role: 'specialist',
          iss: 'tertiary',
          aud: 'huizhen',
          exp: Math.floor(Date.now() / 1000) + 600,
        }),
      ).toString('base64url'),
    ].join('.');
    const sig = createHmac('sha256', rsaPublicPem).update(forged).digest('base64url');
    expect(code(() => verify(`${forged}.${sig}`))).toBe('TOKEN_INVALID');
  });

  it('rejects a token signed with the wrong key', () => {
    expect(
      code(() =>
        verify(
          sign(claims, 'another-secret-that-is-long-enough-1234', {
            algorithm: 'HS256',
            issuer: 'county',
            audience: 'huizhen',
          }),
        ),
      ),
    ).toBe('TOKEN_INVALID');
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(
      code(() =>
        verify(
          sign({ ...claims, role: 'specialist' }, otherRsa.privateKey, {
            algorithm: 'RS256',
            issuer: 'tertiary',
            audience: 'huizhen',
          }),
        ),
      ),
    ).toBe('TOKEN_INVALID');
  });

  it('refuses a role the issuer may not grant', () => {
    const token = sign({ ...claims, role: 'doctor' }, rsa.privateKey, {
      algorithm: 'RS256',
      issuer: 'tertiary',
      audience: 'huizhen',
    });
    expect(code(() => verify(token))).toBe('PERMISSION_DENIED');
  });

  it('rejects missing or malformed claims', () => {
    const base = { algorithm: 'HS256', issuer: 'county', audience: 'huizhen' } as const;
    expect(code(() => verify(sign({ ...claims, role: 'surgeon' }, SECRET, base)))).toBe('TOKEN_INVALID');
    expect(code(() => verify(sign({ ...claims, room: '../etc' }, SECRET, base)))).toBe('TOKEN_INVALID');
    expect(code(() => verify(sign({ name: 'x', room: 'r', role: 'doctor' }, SECRET, base)))).toBe('TOKEN_INVALID');
    expect(code(() => verify(jwt.sign(claims, SECRET, base)))).toBe('TOKEN_INVALID'); // no exp
    expect(code(() => verify('garbage'))).toBe('TOKEN_INVALID');
  });

  it('rejects tokens that live longer than the server allows', () => {
    const token = sign(claims, SECRET, {
      algorithm: 'HS256',
      issuer: 'county',
      audience: 'huizhen',
      expiresIn: 30 * 86400,
    });
    expect(code(() => verify(token))).toBe('TOKEN_INVALID');
  });

  it('refuses an iat in the future used to stretch a token’s life', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ ...claims, iat: now + 10 * 365 * 86400, exp: now + 10 * 365 * 86400 + 60 }, SECRET, {
      algorithm: 'HS256',
      issuer: 'county',
      audience: 'huizhen',
    });
    expect(code(() => verify(token))).toBe('TOKEN_INVALID');
    const noIat = jwt.sign({ ...claims, exp: now + 30 * 86400 }, SECRET, {
      algorithm: 'HS256',
      issuer: 'county',
      audience: 'huizhen',
      noTimestamp: true,
    });
    expect(code(() => verify(noIat))).toBe('TOKEN_INVALID');
  });

  it('round-trips tokens minted by the server', () => {
    const token = mintAccessToken(issuers.get('county')!, {
      identity: 'pt-1',
      room: 'consult-1',
      role: 'patient',
      ttlSec: 300,
    });
    expect(verify(token)).toMatchObject({ identity: 'pt-1', role: 'patient', room: 'consult-1' });
  });
});
