/**
 * TURN REST credentials: the function itself (format, expiry cap, a known
 * answer), the config that enables it, and what a participant receives over
 * real signaling (join, admitted, refreshToken, getIceServers) — and that none
 * of it reaches the log.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../observability/logger.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import { loadTurnCredentials, TurnCredentials, turnPassword, turnUserFor } from './turnCredentials.js';

const SECRET = 'north-ward-shared-turn-secret';
const URLS = ['turn:127.0.0.1:3478?transport=udp', 'turn:127.0.0.1:3478?transport=tcp', 'turns:turn.example.org:443'];

describe('turnPassword', () => {
  it('is base64(HMAC-SHA1(secret, username)) (known answer)', () => {
    // Precomputed independently:
    //   printf '%s' '1764629600:hz_example' | openssl dgst -sha1 -hmac 'north-ward-shared-turn-secret' -binary | base64
    expect(turnPassword(SECRET, '1764629600:hz_example')).toBe('1rDsDGquiAxued294zpXdywv1pI=');
    //   printf '%s' 'hz:test' | openssl dgst -sha1 -hmac 'key' -binary | base64
    expect(turnPassword('key', 'hz:test')).toBe('I9FRxICeWHe0r1WvuQqR6V5fP8k=');
  });

  it('agrees with openssl for a freshly issued username', () => {
    const turn = new TurnCredentials({ secret: SECRET, urls: URLS, ttlSec: 3600 });
    const { iceServers } = turn.issue({ issuer: 'his', identity: 'patient:42', tokenExpiresAt: 2_000_000_000 });
    const username = iceServers[0]!.username!;
    let expected: string;
    try {
      const mac = execFileSync('openssl', ['dgst', '-sha1', '-hmac', SECRET, '-binary'], { input: username });
      expected = mac.toString('base64');
    } catch {
      return; // no openssl binary: the known answers above still hold
    }
    expect(iceServers[0]!.credential).toBe(expected);
  });
});

describe('TurnCredentials.issue', () => {
  const turn = new TurnCredentials({ secret: SECRET, urls: URLS, ttlSec: 3600 });
  const now = 1_764_626_000;

  it('makes username = <expiry>:<pseudonym> that coturn can split, for identities with ":"', () => {
    const issued = turn.issue(
      { issuer: 'https://sso.x', identity: 'urn:pid:patient:42', tokenExpiresAt: now + 86400 },
      now,
    );
    const [server] = issued.iceServers;
    expect(server!.urls).toEqual(URLS);
    expect(server!.username).toMatch(/^\d+:hz_[A-Za-z0-9_-]{22}$/);
    const [expiry, user, ...rest] = server!.username!.split(':');
    expect(rest).toEqual([]);
    expect(Number(expiry)).toBe(now + 3600);
    expect(user).toBe(turnUserFor(SECRET, 'https://sso.x', 'urn:pid:patient:42'));
    // The identity itself never appears in what the TURN server sees.
    expect(server!.username).not.toContain('patient');
    expect(server!.credential).toBe(turnPassword(SECRET, server!.username!));
    expect(issued.iceServersExpireIn).toBe(3600);
  });

  it('is stable per person and differs between people and issuers', () => {
    const a = turnUserFor(SECRET, 'his', 'p1');
    expect(turnUserFor(SECRET, 'his', 'p1')).toBe(a);
    expect(turnUserFor(SECRET, 'his', 'p2')).not.toBe(a);
    expect(turnUserFor(SECRET, 'other-his', 'p1')).not.toBe(a);
    expect(turnUserFor('another-secret-value', 'his', 'p1')).not.toBe(a);
  });

  it('never outlives the token: expiry = min(now + ttl, token expiry)', () => {
    const short = turn.issue({ issuer: 'his', identity: 'p', tokenExpiresAt: now + 600 }, now);
    expect(short.expiresAt).toBe(now + 600);
    expect(short.iceServersExpireIn).toBe(600);
    expect(short.iceServers[0]!.username!.startsWith(`${now + 600}:`)).toBe(true);
    // A later refresh with the same token cannot push the expiry out.
    const later = turn.issue({ issuer: 'his', identity: 'p', tokenExpiresAt: now + 600 }, now + 500);
    expect(later.expiresAt).toBe(now + 600);
    expect(later.iceServersExpireIn).toBe(100);
    // An expired token gets credentials that are already expired (coturn refuses them).
    const gone = turn.issue({ issuer: 'his', identity: 'p', tokenExpiresAt: now - 10 }, now);
    expect(gone.iceServersExpireIn).toBe(0);
  });

  it('does not print the secret when serialised, and the logger redacts credentials', () => {
    expect(JSON.stringify({ turn })).not.toContain(SECRET);
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
    const issued = turn.issue({ issuer: 'his', identity: 'p', tokenExpiresAt: now + 600 }, now);
    logger.info('careless', { iceServers: issued.iceServers, credential: issued.iceServers[0]!.credential, turn });
    expect(lines.join('\n')).not.toContain(issued.iceServers[0]!.credential!);
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});

describe('turn config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'huizhen-turn-'));
  const secretFile = join(dir, 'turn.secret');
  writeFileSync(secretFile, SECRET + '\n');

  it('is off in the embedded default', () => {
    const config = loadConfig({ env: {} });
    expect(config.turn ?? null).toBeNull();
    expect(loadTurnCredentials(config.turn, {})).toBeUndefined();
  });

  it('loads the secret from a file or the environment', () => {
    const fromFile = loadConfig({ env: {}, overrides: { turn: { urls: URLS, secretFile, ttlSec: 600 } } });
    expect(loadTurnCredentials(fromFile.turn, {})).toBeInstanceOf(TurnCredentials);
    const fromEnv = loadConfig({ env: {}, overrides: { turn: { urls: URLS, secretEnv: 'TURN_SECRET', ttlSec: 600 } } });
    expect(loadTurnCredentials(fromEnv.turn, { TURN_SECRET: SECRET })).toBeInstanceOf(TurnCredentials);
    expect(() => loadTurnCredentials(fromEnv.turn, {})).toThrow(/TURN_SECRET \(the TURN secret\) is not set/);
  });

  it('refuses a turn block without exactly one secret source', () => {
    expect(() => loadConfig({ env: {}, overrides: { turn: { urls: URLS, ttlSec: 600 } } })).toThrow(
      /turn needs exactly one of secretFile, secretEnv/,
    );
    expect(() =>
      loadConfig({ env: {}, overrides: { turn: { urls: URLS, ttlSec: 600, secretFile, secretEnv: 'X' } } }),
    ).toThrow(ConfigError);
  });

  it('names a bad URL, ttl or key', () => {
    const bad = (turn: unknown) => () => loadConfig({ env: {}, overrides: { turn } });
    expect(bad({ urls: ['http://turn.example.org'], secretFile, ttlSec: 600 })).toThrow(/turn\.urls\[0\]/);
    expect(bad({ urls: ['turns:turn.example.org:443?transport=udp'], secretFile, ttlSec: 600 })).toThrow(
      /turn\.urls\[0\]/,
    );
    expect(bad({ urls: [], secretFile, ttlSec: 600 })).toThrow(/turn\.urls/);
    expect(bad({ urls: URLS, secretFile, ttlSec: 5 })).toThrow(/turn\.ttlSec: must be >= 60/);
    expect(bad({ urls: URLS, secretFile, ttlSec: 600, secret: 'inline' })).toThrow(/turn/);
  });

  it('refuses a missing, empty or short secret file', () => {
    const config = (file: string) =>
      loadConfig({ env: {}, overrides: { turn: { urls: URLS, secretFile: file, ttlSec: 600 } } }).turn;
    expect(() => loadTurnCredentials(config(join(dir, 'nope')), {})).toThrow(/does not exist/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => loadTurnCredentials(config(join(dir, 'empty')), {})).toThrow(/is empty/);
    writeFileSync(join(dir, 'short'), 'abc\n');
    expect(() => loadTurnCredentials(config(join(dir, 'short')), {})).toThrow(/at least 16 characters/);
  });

  it('refuses TURN when the media server offers no UDP', () => {
    expect(() =>
      loadConfig({
        env: {},
        overrides: { media: { iceProtocols: ['tcp'] }, turn: { urls: URLS, secretFile, ttlSec: 600 } },
      }),
    ).toThrow(/turn needs 'udp' in media.iceProtocols/);
  });
});

describe('iceServers over signaling', () => {
  let t: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huizhen-turn-srv-'));
    const secretFile = join(dir, 'turn.secret');
    writeFileSync(secretFile, SECRET);
    t = await startTestServer({ turn: { urls: URLS, secretFile, ttlSec: 300 } });
  });
  afterAll(() => t?.close());

  const checkServers = (data: { iceServers?: { username?: string; credential?: string }[] }, maxExpiry: number) => {
    const [server] = data.iceServers ?? [];
    expect(server).toBeDefined();
    const expiry = Number(server!.username!.split(':')[0]);
    expect(expiry).toBeLessThanOrEqual(maxExpiry);
    expect(expiry).toBeGreaterThan(Date.now() / 1000);
    expect(server!.credential).toBe(turnPassword(SECRET, server!.username!));
  };

  it('hands them out at join, admission, token refresh and on request, capped by the token', async () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    const doctor = await t.connect();
    const joined = await doctor.join(t.token('dr-turn', 'doctor', 'turn-1'));
    checkServers(joined, nowSec() + 300);
    expect(joined.iceServersExpireIn).toBeGreaterThan(290);

    // A patient in the lobby gets them at join and again when admitted.
    const patient = await t.connect();
    const waiting = await patient.join(t.token('pt:turn:1', 'patient', 'turn-1', { ttlSec: 120 }));
    expect(waiting.admission).toBe('waiting');
    checkServers(waiting, nowSec() + 120);
    await doctor.request('admit', { identity: 'pt:turn:1' });
    const admitted = await patient.notification('admitted');
    checkServers(admitted, nowSec() + 120);
    expect(admitted.iceServersExpireIn).toBeLessThanOrEqual(120);

    // A refresh with a longer token: capped by ttl, and by the new token only.
    const refreshed = await patient.request('refreshToken', {
      token: t.token('pt:turn:1', 'patient', 'turn-1', { ttlSec: 90 }),
    });
    checkServers(refreshed, nowSec() + 90);
    const again = await patient.request('getIceServers', {});
    checkServers(again, nowSec() + 90);

    // Nothing of it in the log.
    const log = t.logs.join('\n');
    for (const s of [admitted, refreshed, again, joined, waiting])
      expect(log).not.toContain(s.iceServers![0]!.credential!);
    expect(log).not.toContain(SECRET);
  });

  it('replays an admission missed while away with fresh credentials, not the ones of the moment', async () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    const doctor = await t.connect();
    await doctor.join(t.token('dr-turn-2', 'doctor', 'turn-2'));
    const patient = await t.connect();
    const waiting = await patient.join(t.token('pt-turn-2', 'patient', 'turn-2', { ttlSec: 200 }));
    expect(waiting.admission).toBe('waiting');
    const seen = Math.max(0, ...patient.notifications.map((n) => (n as { seq?: number }).seq ?? 0));
    patient.ws.terminate();
    await doctor.request('admit', { identity: 'pt-turn-2' });
    const again = await t.connect();
    const resumed = await again.join(t.token('pt-turn-2', 'patient', 'turn-2', { ttlSec: 60 }), {
      resumeSessionId: waiting.sessionId,
      resumeFromSeq: seen,
    });
    expect(resumed.resumed).toBe(true);
    const admitted = await again.notification('admitted');
    // Minted at the replay, so capped by the token it resumed with (60 s), not the one it had (200 s).
    checkServers(admitted, nowSec() + 60);
    expect(admitted.iceServersExpireIn).toBeLessThanOrEqual(60);
  });

  it('refuses getIceServers before joining', async () => {
    const c = await t.connect();
    expect(await c.call('getIceServers', {})).toMatchObject({ ok: false, error: { code: 'NOT_JOINED' } });
  });
});
