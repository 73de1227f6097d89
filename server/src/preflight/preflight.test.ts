/**
 * The pre-call loopback against a real mediasoup worker: it needs a token
 * verified exactly like a join, enters no room (a participant of the room the
 * token names sees nothing), is rate-limited per identity, is cut off at its
 * time cap, and leaves nothing behind.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseData } from '@huizhen/protocol';
import type { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { TEST_SECRET, startTestServer, type TestServer } from '../testing/testServer.js';

let t: TestServer;
let capped: TestServer;
let withTurn: TestServer;
const TURN_SECRET = 'turn-secret-for-preflight-tests-0123456789';

beforeAll(async () => {
  const secretFile = join(mkdtempSync(join(tmpdir(), 'huizhen-preflight-')), 'turn.secret');
  writeFileSync(secretFile, TURN_SECRET);
  [t, capped, withTurn] = await Promise.all([
    startTestServer({ preflight: { perIdentityPerMinute: 2, perIpPerMinute: 1000, maxDurationMs: 20_000 } }),
    startTestServer({ preflight: { maxDurationMs: 1500 }, media: { iceProtocols: ['tcp'] } }),
    startTestServer({ turn: { urls: ['turn:127.0.0.1:3478?transport=udp'], secretFile, ttlSec: 3600 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([t.close(), capped.close(), withTurn.close()]);
});

const routers = (s: TestServer) => s.server.pool.workers.reduce((n, w) => n + w.routers, 0);

async function start(
  s: TestServer,
  token: string,
): Promise<{ c: SignalingTestClient; res: ResponseData['startPreflight'] }> {
  const c = await s.connect();
  const res = await c.request('startPreflight', { protocolVersion: 1, token });
  return { c, res };
}

/** An Opus track as a browser would describe it (mediasoup takes it without any packet flowing yet). */
const opusTrack = {
  mid: '0',
  codecs: [
    {
      mimeType: 'audio/opus',
      payloadType: 111,
      clockRate: 48000,
      channels: 2,
      parameters: { useinbandfec: 1 },
      rtcpFeedback: [{ type: 'transport-cc', parameter: '' }],
    },
  ],
  headerExtensions: [],
  encodings: [{ ssrc: 11223344 }],
  rtcp: { cname: 'preflight-test', reducedSize: true },
};

describe('preflight needs a valid token, verified like a join', () => {
  const sign = (payload: object, options: jwt.SignOptions = {}, key: string = TEST_SECRET) =>
    jwt.sign(
      { sub: 'pt-guess', room: 'r', role: 'patient', exp: Math.floor(Date.now() / 1000) + 600, ...payload },
      key,
      { issuer: 'huizhen-test', audience: 'huizhen', algorithm: 'HS256', ...options },
    );

  it.each([
    ['garbage', 'not-a-token', 'TOKEN_INVALID'],
    ['a wrong key', sign({}, {}, 'another-secret-that-is-long-enough-to-sign'), 'TOKEN_INVALID'],
    ['an unknown issuer', sign({}, { issuer: 'somewhere-else' }), 'ISSUER_UNKNOWN'],
    ['a wrong audience', sign({}, { audience: 'someone-else' }), 'TOKEN_INVALID'],
    ['an expired token', sign({ exp: Math.floor(Date.now() / 1000) - 3600 }), 'TOKEN_EXPIRED'],
    ['another algorithm', sign({}, { algorithm: 'HS512' }), 'TOKEN_INVALID'],
  ])('refuses %s and creates nothing', async (_what, token, code) => {
    const before = routers(t);
    const c = await t.connect();
    const res = await c.call('startPreflight', { protocolVersion: 1, token });
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.code).toBe(code);
    expect(routers(t)).toBe(before);
    expect(t.server.preflight.active).toBe(0);
    c.close();
  });

  it('refuses a connection that has joined a room, and a join after a preflight', async () => {
    const doctor = await t.connect();
    await doctor.join(t.token('dr-pf-1', 'doctor', 'pf-both'));
    const res = await doctor.call('startPreflight', {
      protocolVersion: 1,
      token: t.token('dr-pf-1', 'doctor', 'pf-both'),
    });
    expect(res.ok ? null : res.error.code).toBe('ALREADY_JOINED');

    const { c } = await start(t, t.token('pt-pf-1', 'patient', 'pf-both'));
    const join = await c.call('join', { protocolVersion: 1, token: t.token('pt-pf-1', 'patient', 'pf-both') });
    expect(join.ok ? null : join.error.code).toBe('ALREADY_JOINED');
    // Room methods are not open to a preflight connection either.
    const chat = await c.call('sendChat', { text: 'hello' });
    expect(chat.ok ? null : chat.error.code).toBe('NOT_JOINED');
    c.close();
    doctor.close();
  });
});

describe('the loopback', () => {
  it('works for any role, loops a track back to the same connection, and is invisible to the room it names', async () => {
    const doctor = await t.connect();
    await doctor.join(t.token('dr-pf-2', 'doctor', 'pf-clinic'));
    const roomRouters = routers(t);
    const room = t.server.rooms.rooms.get('pf-clinic');
    const countsBefore = t.server.rooms.counts();

    // An observer may not publish in a room; in the check it may (its media goes nowhere).
    const { c, res } = await start(t, t.token('pt-pf-2', 'observer', 'pf-clinic'));
    expect(res.sendTransport.id).not.toBe(res.recvTransport.id);
    expect(res.sendTransport.iceCandidates.length).toBeGreaterThan(0);
    expect(res.routerRtpCapabilities.codecs?.some((codec) => codec.mimeType === 'audio/opus')).toBe(true);
    expect(res.maxDurationMs).toBe(20_000);
    expect(res.maxBitrate).toBe(1_500_000);
    expect(routers(t)).toBe(roomRouters + 1);
    expect(t.server.preflight.active).toBe(1);

    const produced = await c.request('preflightProduce', {
      transportId: res.sendTransport.id,
      kind: 'audio',
      rtpParameters: opusTrack,
      rtpCapabilities: res.routerRtpCapabilities,
    });
    expect(produced.consumer).toMatchObject({ producerId: produced.producerId, kind: 'audio' });
    await c.request('preflightResumeConsumer', { consumerId: produced.consumer.consumerId });
    const again = await c.call('preflightProduce', {
      transportId: res.sendTransport.id,
      kind: 'audio',
      rtpParameters: opusTrack,
      rtpCapabilities: res.routerRtpCapabilities,
    });
    expect(again.ok ? null : again.error.code).toBe('INVALID_STATE');
    const stats = await c.request('preflightStats', {});
    expect(stats.transports.map((s) => (s as { direction: string }).direction)).toEqual(['send', 'recv']);

    // The room the token names: nobody new, no track, no notification, no new room anywhere.
    await new Promise((r) => setTimeout(r, 300));
    expect(room?.participants.size).toBe(1);
    expect(t.server.rooms.counts()).toEqual(countsBefore);
    expect(doctor.notifications).toEqual([]);
    const rooms = await fetch(`${t.url}/api/rooms`, {
      headers: { authorization: `Bearer ${t.token('dr-pf-2', 'doctor', 'pf-clinic')}` },
    });
    expect(JSON.stringify(await rooms.text())).not.toContain('pt-pf-2');

    const ended = await c.request('endPreflight', {});
    expect(ended.durationMs).toBeGreaterThan(0);
    expect(routers(t)).toBe(roomRouters);
    expect(t.server.preflight.active).toBe(0);
    expect((await c.call('preflightStats', {})).ok).toBe(false);
    c.close();
    doctor.close();
  });

  it('tears everything down when the socket closes, and audits start and end without the token', async () => {
    const before = routers(t);
    const token = t.token('pt-pf-3', 'patient', 'pf-audit');
    const { c } = await start(t, token);
    expect(routers(t)).toBe(before + 1);
    c.close();
    await c.waitClosed();
    await t.server.pool.workers[0]!.worker.dump(); // a round trip to the worker, after the close
    await new Promise((r) => setTimeout(r, 200));
    expect(routers(t)).toBe(before);
    expect(t.server.preflight.active).toBe(0);
    expect(t.server.rooms.rooms.has('pf-audit')).toBe(false);

    const dir = join(t.scratch, 'audit');
    const audit = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    expect(audit).not.toContain(token);
    const entries = audit
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; actor?: { identity: string }; details?: { reason?: string } })
      .filter((e) => e.actor?.identity === 'pt-pf-3');
    expect(entries.map((e) => e.event)).toEqual(['preflight_started', 'preflight_ended']);
    expect(entries[1]?.details?.reason).toBe('closed');
    expect(JSON.stringify(entries)).not.toContain('pf-audit');

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_preflight_starts_total\{outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/huizhen_preflight_duration_seconds_count\{reason="closed"\} [1-9]/);
  });

  it('is rate-limited per identity, not per room claim', async () => {
    const token = (room: string) => t.token('pt-pf-4', 'patient', room);
    for (const room of ['pf-rate-a', 'pf-rate-b']) {
      const { c } = await start(t, token(room));
      await c.request('endPreflight', {});
      c.close();
    }
    const c = await t.connect();
    const third = await c.call('startPreflight', { protocolVersion: 1, token: token('pf-rate-c') });
    expect(third.ok ? null : third.error.code).toBe('RATE_LIMITED');
    expect(t.server.preflight.active).toBe(0);
    // Someone else is not affected.
    const other = await c.call('startPreflight', {
      protocolVersion: 1,
      token: t.token('pt-pf-5', 'patient', 'pf-rate-c'),
    });
    expect(other.ok).toBe(true);
    c.close();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/huizhen_preflight_starts_total\{outcome="RATE_LIMITED"\} [1-9]/);
  });
});

describe('the time cap', () => {
  it('ends the check, tells the client why and closes the socket', async () => {
    const before = routers(capped);
    const { c, res } = await start(capped, capped.token('pt-pf-6', 'patient', 'pf-cap'));
    expect(res.maxDurationMs).toBe(1500);
    const ended = await c.notification('preflightEnded', () => true, 10_000);
    expect(ended.reason).toBe('timeLimit');
    expect(ended.durationMs).toBeGreaterThanOrEqual(1400);
    const closed = await c.waitClosed(5000);
    expect(closed.code).toBe(1000);
    expect(routers(capped)).toBe(before);
    expect(capped.server.preflight.active).toBe(0);
  });
});

describe('TURN and ICE settings', () => {
  it('hands out TURN credentials that expire shortly after the check', async () => {
    const res = await start(withTurn, withTurn.token('pt-pf-7', 'patient', 'pf-turn', { ttlSec: 3000 }));
    const server = res.res.iceServers?.[0];
    expect(server?.urls).toEqual(['turn:127.0.0.1:3478?transport=udp']);
    const expiry = Number(server?.username?.split(':')[0]);
    const now = Math.floor(Date.now() / 1000);
    // The check's cap (30 s by default) plus a minute, not the TURN ttl (an hour) nor the token's life.
    expect(expiry).toBeGreaterThan(now + 30);
    expect(expiry).toBeLessThanOrEqual(now + 30 + 60 + 2);
    expect(server?.credential).toBe(createHmac('sha1', TURN_SECRET).update(server!.username!).digest('base64'));
    expect(server?.username).not.toContain('pt-pf-7');
    res.c.close();
  });

  it('offers only TCP candidates when the server is configured for ICE over TCP only', async () => {
    const { c, res } = await start(capped, capped.token('pt-pf-8', 'patient', 'pf-tcp'));
    expect(res.iceServers).toBeUndefined();
    for (const t of [res.sendTransport, res.recvTransport]) {
      const protocols = new Set(t.iceCandidates.map((candidate) => (candidate as { protocol: string }).protocol));
      expect([...protocols]).toEqual(['tcp']);
    }
    c.close();
  });
});
