/**
 * The HTTP front door of a real node: origins (CORS for the API, the /ws
 * handshake) and bodies judged by their declared length before they are read.
 */
import { connect, type Socket } from 'node:net';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, ErrorCode } from '@huizhen/protocol';
import { ConfigError, loadConfig } from '../config.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../testing/testServer.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({
    server: { allowedOrigins: ['https://his.example-hospital.cn', 'http://localhost:*'], headersTimeoutSec: 1 },
  });
}, 60_000);
afterAll(() => t.close());

const bookingToken = () =>
  jwt.sign({ scope: 'rooms:write' }, TEST_SECRET, {
    algorithm: 'HS256',
    issuer: 'huizhen-test',
    audience: 'huizhen',
    subject: 'his',
    expiresIn: 60,
  });

/** Sends raw bytes and collects what comes back until the server closes or `waitMs` passes. */
function raw(head: string, body = '', waitMs = 10_000): Promise<{ text: string; closed: boolean }> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('connect', () => socket.write(head + body));
    socket.on('timeout', () => reject(new Error('socket timeout')));
  });
}

describe('origins', () => {
  it('answers a CORS preflight for an allowed origin, with that origin and the headers a page needs', async () => {
    const res = await fetch(`${t.url}/api/dev/token`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:5173',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('vary')).toMatch(/Origin/);
  });

  it('serves an allowed origin and the server itself, and refuses any other with ORIGIN_NOT_ALLOWED', async () => {
    const mint = (origin?: string) =>
      fetch(`${t.url}/api/dev/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(origin ? { Origin: origin } : {}) },
        body: JSON.stringify({ identity: 'dr-o', name: 'Dr O', role: 'doctor', room: 'origin-1' }),
      });
    const allowed = await mint('https://his.example-hospital.cn');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://his.example-hospital.cn');
    expect((await mint(t.url)).status).toBe(200);
    expect((await mint()).status).toBe(200);
    for (const evil of [
      'https://evil.example',
      'https://his.example-hospital.cn.evil.example',
      'http://localhost.evil:80',
    ]) {
      const refused = await mint(evil);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.ORIGIN_NOT_ALLOWED);
    }
    const preflight = await fetch(`${t.url}/api/rooms`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(403);
  });

  it('closes /ws from an unlisted origin with a reason, and lets allowed ones join', async () => {
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const ws = new WebSocket(t.wsUrl, { origin: 'https://evil.example' });
      ws.on('error', () => undefined);
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    expect(closed.code).toBe(CloseCode.ORIGIN_NOT_ALLOWED);
    expect(closed.reason).toMatch(/origin not allowed/);

    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(t.wsUrl, { origin: 'http://localhost:4000' });
      ws.on('open', () => {
        ws.send(JSON.stringify({ id: 1, method: 'ping', data: {} }));
      });
      ws.on('message', () => {
        ws.close();
        resolve(true);
      });
      ws.on('close', () => resolve(false));
    });
    expect(opened).toBe(true);
  });

  it('refuses any-port origins on a server reachable beyond loopback, and takes HUIZHEN_ALLOWED_ORIGINS', () => {
    expect(() => loadConfig({ env: { HOST: '0.0.0.0' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { HOST: '0.0.0.0' } })).toThrow(/allows any port/);
    expect(loadConfig({ env: { HOST: '0.0.0.0', HUIZHEN_ALLOWED_ORIGINS: 'self' } }).server.allowedOrigins).toEqual([]);
    expect(
      loadConfig({ env: { HUIZHEN_ALLOWED_ORIGINS: 'https://A.example, https://b.example:8443' } }).server
        .allowedOrigins,
    ).toEqual(['https://a.example', 'https://b.example:8443']);
    expect(() => loadConfig({ env: { HUIZHEN_ALLOWED_ORIGINS: '*' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { HUIZHEN_ALLOWED_ORIGINS: 'https://a.example/path' } })).toThrow(ConfigError);
  });
});

describe('bodies judged before they are read', () => {
  it('answers an unauthenticated booking at once: a huge declared body with 413, a small one with 401, unread', async () => {
    const huge = await raw(
      'POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n',
      '{"room":',
      5_000,
    );
    expect(huge.text).toMatch(/^HTTP\/1\.1 413/);
    expect(huge.closed).toBe(true);
    // 4000 bytes declared, 8 sent: the token is checked before the JSON parser would wait for the rest.
    const small = await raw(
      'POST /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n',
      '{"room":',
      5_000,
    );
    expect(small.text).toMatch(/^HTTP\/1\.1 401/);
    expect(small.text).toMatch(/TOKEN_/);
  });

  it('refuses an authenticated booking or record upload whose declared length is over the limit, and closes', async () => {
    const booking = await raw(
      `POST /api/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bookingToken()}\r\nContent-Type: application/json\r\nContent-Length: 1000000000000000\r\n\r\n`,
      '{"room":',
    );
    expect(booking.text).toMatch(/^HTTP\/1\.1 413/);
    expect(booking.text).toMatch(/MESSAGE_TOO_LARGE/);
    expect(booking.closed).toBe(true);

    const upload = await raw(
      `POST /api/rooms/r1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.token('dr-u', 'doctor', 'r1')}\r\nContent-Type: application/pdf\r\nContent-Length: 26214401\r\n\r\n`,
      'x'.repeat(1024),
    );
    // Not joined, so the token check answers first; either way no byte beyond the first KB is waited for.
    expect(upload.text).toMatch(/^HTTP\/1\.1 (403|413)/);

    const anyRoute = await raw(
      'POST /api/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n',
      'x'.repeat(100),
    );
    expect(anyRoute.text).toMatch(/^HTTP\/1\.1 413/);
    expect(anyRoute.closed).toBe(true);
  });

  it('closes a connection whose headers trickle in slower than headersTimeoutSec', async () => {
    const { closed, text } = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ', '', 8_000);
    expect(closed).toBe(true);
    expect(text === '' || /^HTTP\/1\.1 408/.test(text)).toBe(true);
  });
});
