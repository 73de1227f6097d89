/**
 * The signaling server against a real mediasoup worker: join/leave
 * bookkeeping, and hostile or malformed input that must get a typed error or
 * a clean close without disturbing anyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';

let t: TestServer;
const connect = () => t.connect();

beforeAll(async () => {
  t = await startTestServer({
    signaling: { rateLimitPerSec: 20, rateLimitBurst: 40, maxMessageBytes: 16384 },
    rooms: { emptyRoomCloseMs: 200 },
  });
});
afterAll(() => t.close());

describe('join and leave', () => {
  it('tracks participants and tells the others', async () => {
    const doctor = await connect();
    const joined = await doctor.join(t.token('dr-li', 'doctor', 'bookkeeping', { name: 'Dr Li' }));
    if (joined.admission !== 'admitted') throw new Error('a doctor is admitted at once');
    expect(joined.room.id).toBe('bookkeeping');
    expect(joined.participant).toMatchObject({ identity: 'dr-li', name: 'Dr Li', role: 'doctor', tracks: [] });
    expect(joined.participants).toEqual([]);
    expect(joined.routerRtpCapabilities).toHaveProperty('codecs');
    expect(t.server.rooms.rooms.get('bookkeeping')?.participants.size).toBe(1);

    const specialist = await connect();
    const second = await specialist.join(t.token('sp-zhao', 'specialist', 'bookkeeping'));
    if (second.admission !== 'admitted') throw new Error('a specialist is admitted at once');
    expect(second.participants.map((p) => p.identity)).toEqual(['dr-li']);
    expect((await doctor.notification('participantJoined')).participant.identity).toBe('sp-zhao');

    await specialist.request('leave', {});
    expect(await doctor.notification('participantLeft')).toEqual({ identity: 'sp-zhao', reason: 'left' });
    expect(t.server.rooms.rooms.get('bookkeeping')?.participants.size).toBe(1);

    // A dropped socket leaves after the reconnect grace period.
    specialist.close();
    doctor.close();
    await doctor.waitClosed();
    await expect.poll(() => t.server.rooms.rooms.get('bookkeeping')?.participants.size ?? 0, { timeout: 4000 }).toBe(0);
    // The empty room is closed after its grace period, and its router with it.
    await expect.poll(() => t.server.rooms.rooms.has('bookkeeping'), { timeout: 3000 }).toBe(false);
  });

  it('refuses a token for another room', async () => {
    const c = await connect();
    const res = await c.call('join', { protocolVersion: 1, token: t.token('x', 'doctor', 'room-a'), room: 'room-b' });
    expect(res).toMatchObject({ ok: false, error: { code: 'TOKEN_ROOM_MISMATCH' } });
  });

  it('refuses an unknown protocol version and a second join', async () => {
    const c = await connect();
    expect(await c.call('join', { protocolVersion: 99, token: t.token('x', 'doctor', 'v') })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED_PROTOCOL' },
    });
    await c.join(t.token('x', 'doctor', 'v'));
    expect(await c.call('join', { protocolVersion: 1, token: t.token('x', 'doctor', 'v') })).toMatchObject({
      ok: false,
      error: { code: 'ALREADY_JOINED' },
    });
  });

  it('replaces an older session of the same identity', async () => {
    const first = await connect();
    await first.join(t.token('sp-1', 'specialist', 'dup'));
    const second = await connect();
    await second.join(t.token('sp-1', 'specialist', 'dup'));
    expect((await first.notification('sessionClosed')).code).toBe('DUPLICATE_IDENTITY');
    expect((await first.waitClosed()).code).toBe(4003);
    expect(t.server.rooms.rooms.get('dup')?.participants.size).toBe(1);
  });

  it('checks permissions on the server: an observer cannot publish', async () => {
    const c = await connect();
    await c.join(t.token('trainee', 'observer', 'perm'));
    expect(await c.call('createTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    const recv = await c.call('createTransport', { direction: 'recv' });
    expect(recv.ok).toBe(true);
  });

  it('refuses to act on transports that are not the caller’s', async () => {
    const a = await connect();
    await a.join(t.token('a', 'doctor', 'own'));
    const transport = await a.request('createTransport', { direction: 'send' });
    const b = await connect();
    await b.join(t.token('b', 'doctor', 'own'));
    const res = await b.call('restartIce', { transportId: transport.id });
    expect(res).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});

describe('load-test transports', () => {
  it('are refused to ordinary tokens', async () => {
    const c = await connect();
    await c.join(t.token('dr-plain', 'doctor', 'plain'));
    expect(await c.call('createPlainTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
  });

  it('are offered to load-test tokens and never aimed at a foreign address', async () => {
    const c = await connect();
    await c.join(t.token('gen-1', 'doctor', 'plain', { loadTest: true }));
    const recv = await c.request('createPlainTransport', { direction: 'recv', srtp: true });
    expect(recv).toMatchObject({
      ip: '127.0.0.1',
      port: expect.any(Number),
      srtpParameters: { cryptoSuite: 'AES_CM_128_HMAC_SHA1_80' },
    });
    const refused = await c.call('connectPlainTransport', {
      transportId: recv.id,
      ip: '203.0.113.9',
      port: 5000,
      srtpParameters: recv.srtpParameters,
    });
    expect(refused).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    await c.request('connectPlainTransport', {
      transportId: recv.id,
      ip: '127.0.0.1',
      port: 5000,
      srtpParameters: recv.srtpParameters,
    });
  });

  it('are off when the server disables load testing', async () => {
    const off = await startTestServer({ loadTest: { enabled: false } });
    try {
      const c = await SignalingTestClient.connect(off.wsUrl);
      await c.join(off.token('gen-2', 'doctor', 'plain', { loadTest: true }));
      expect(await c.call('createPlainTransport', { direction: 'send' })).toMatchObject({
        ok: false,
        error: { code: 'PERMISSION_DENIED' },
      });
      c.close();
    } finally {
      await off.close();
    }
  });
});

describe('bad input', () => {
  /** A room with two joined participants that must not notice anything. */
  async function bystanders(room: string) {
    const a = await connect();
    const b = await connect();
    await a.join(t.token('bystander-a', 'doctor', room));
    await b.join(t.token('bystander-b', 'specialist', room));
    await a.request('createTransport', { direction: 'send' });
    return { a, b };
  }

  async function stillFine({ a, b }: { a: SignalingTestClient; b: SignalingTestClient }, room: string) {
    expect(a.closed).toBeUndefined();
    expect(b.closed).toBeUndefined();
    expect((await a.request('createTransport', { direction: 'recv' })).id).toBeTruthy();
    const present = t.server.rooms.rooms.get(room)?.participants;
    expect(present?.has('bystander-a') && present.has('bystander-b')).toBe(true);
    const left = b.notifications
      .filter((n) => n.notification === 'participantLeft')
      .map((n) => (n.data as { identity: string }).identity);
    expect(left).not.toContain('bystander-a');
  }

  it('answers malformed JSON, unknown methods and wrong types with typed errors', async () => {
    const side = await bystanders('bad-json');
    const c = await connect();
    c.sendRaw('{"id": 1, "method": "join", ');
    c.sendRaw('[1,2,3]');
    c.sendRaw('"just a string"');
    expect(await c.call('fly' as never, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await c.call('join', { protocolVersion: '1', token: 5 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST' },
    });
    expect(await c.call('join', { protocolVersion: 1, token: 'x', extra: true })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST', message: expect.stringContaining('data.extra') },
    });
    await c.join(t.token('c', 'doctor', 'bad-json'));
    expect(
      await c.call('produce', { transportId: 'nope', kind: 'video', source: 'camera', rtpParameters: { codecs: 'x' } }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const send = await c.request('createTransport', { direction: 'send' });
    const bogus = await c.call('produce', {
      transportId: send.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: { codecs: 'not-an-array' },
    });
    expect(bogus).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(
      await c.call('produce', { transportId: send.id, kind: 'audio', source: 'camera', rtpParameters: {} }),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: { j: {} } } } } } } } } } };
    expect(await c.call('setRtpCapabilities', { rtpCapabilities: deep })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST' },
    });
    const malformed = c.responses.filter((r) => r.id === null).map((r) => r.error?.code);
    expect(malformed).toEqual(['MALFORMED_MESSAGE', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    await stillFine(side, 'bad-json');
  });

  it('closes a connection that sends a message over the size limit', async () => {
    const side = await bystanders('too-big');
    const c = await connect();
    c.sendRaw(JSON.stringify({ id: 1, method: 'join', data: { protocolVersion: 1, token: 'x'.repeat(20_000) } }));
    expect((await c.waitClosed()).code).toBe(1009);
    await stillFine(side, 'too-big');
  });

  it('answers binary garbage with MALFORMED_MESSAGE, then closes a persistent sender', async () => {
    const side = await bystanders('binary');
    const c = await connect();
    c.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff]));
    await c.waitFor(() => c.responses.find((r) => r.error?.code === 'MALFORMED_MESSAGE'));
    for (let i = 0; i < 30; i++) c.sendRaw(Buffer.from([i, 0xff, 0x00]));
    expect((await c.waitClosed()).code).toBe(4000);
    await stillFine(side, 'binary');
  });

  it('rate-limits a flood from one socket and finally closes it', async () => {
    const side = await bystanders('flood');
    const c = await connect();
    await c.join(t.token('flooder', 'doctor', 'flood'));
    for (let i = 0; i < 300; i++) c.sendRaw(JSON.stringify({ id: 1000 + i, method: 'getStats', data: {} }));
    await c.waitFor(() => c.responses.find((r) => r.error?.code === 'RATE_LIMITED'), 5000, 'a RATE_LIMITED answer');
    expect((await c.waitClosed()).code).toBe(4002);
    // The flooder's session is gone; the others are untouched.
    // After the reconnect grace period (1 s in tests) the flooder is gone.
    await expect
      .poll(() => t.server.rooms.rooms.get('flood')?.participants.has('flooder'), { timeout: 4000 })
      .toBe(false);
    await stillFine(side, 'flood');
  });

  it('closes a connection that never joins', async () => {
    const quick = await startTestServer({ rooms: { joinTimeoutMs: 300 } });
    try {
      const c = await SignalingTestClient.connect(quick.wsUrl);
      expect((await c.waitClosed()).code).toBe(4001);
    } finally {
      await quick.close();
    }
  });

  it('closes a connection that keeps guessing tokens', async () => {
    const c = await connect();
    for (let i = 0; i < 4; i++)
      expect(await c.call('join', { protocolVersion: 1, token: `guess.${i}.x` })).toMatchObject({
        ok: false,
        error: { code: 'TOKEN_INVALID' },
      });
    c.sendRaw(JSON.stringify({ id: 99, method: 'join', data: { protocolVersion: 1, token: 'guess.5.x' } }));
    expect((await c.waitClosed()).code).toBe(4000);
  });

  it('still enforces the join deadline after a refused join', async () => {
    const quick = await startTestServer({ rooms: { joinTimeoutMs: 400 } });
    try {
      const host = await quick.connect();
      await host.join(quick.token('dr-lock', 'doctor', 'locked-out'));
      await host.request('setLocked', { locked: true });
      const c = await quick.connect();
      expect(
        await c.call('join', { protocolVersion: 1, token: quick.token('pt-out', 'patient', 'locked-out') }),
      ).toMatchObject({ ok: false, error: { code: 'ROOM_LOCKED' } });
      expect((await c.waitClosed()).code).toBe(4001);
    } finally {
      await quick.close();
    }
  });

  it('never writes tokens to the log', async () => {
    const token = t.token('logcheck', 'doctor', 'logs');
    const c = await connect();
    await c.join(token);
    await c.call('join', { protocolVersion: 1, token });
    expect(t.logs.join('\n')).not.toContain(token);
    expect(t.logs.join('\n')).not.toContain(token.split('.')[2]);
  });
});

describe('http', () => {
  it('serves health, metrics and dev tokens with validation', async () => {
    const health = await fetch(`${t.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', workers: 1 });

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    for (const name of [
      'huizhen_rooms',
      'huizhen_participants',
      'huizhen_producers',
      'huizhen_consumers',
      'huizhen_worker_cpu_seconds_total',
      'huizhen_join_duration_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }

    const ok = await fetch(`${t.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'pt-9', name: '病人', role: 'patient', room: 'http-room' }),
    });
    expect(ok.status).toBe(200);
    const { token } = (await ok.json()) as { token: string };
    const c = await connect();
    expect((await c.join(token)).participant).toMatchObject({ identity: 'pt-9', name: '病人', role: 'patient' });

    const bad = await fetch(`${t.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'x', name: 'x', role: 'admin', room: 'r' }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    const notJson = await fetch(`${t.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'MALFORMED_MESSAGE' } });
  });

  it('has no dev token endpoint when dev tokens are off', async () => {
    const prod = await startTestServer({ devTokens: { enabled: false } });
    try {
      const res = await fetch(`${prod.url}/api/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
    } finally {
      await prod.close();
    }
  });
});
