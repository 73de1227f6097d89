/**
 * A media worker that dies takes only its own rooms down, cleanly: their
 * participants are told why, metrics count it, health says degraded.
 */
import { describe, expect, it } from 'vitest';
import { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { startTestServer } from '../testing/testServer.js';

describe('worker death', () => {
  it('closes the rooms on the dead worker and keeps the others running', async () => {
    const t = await startTestServer({ media: { workers: 2 } });
    try {
      const a = await SignalingTestClient.connect(t.wsUrl);
      await a.join(t.token('dr-a', 'doctor', 'room-a'));
      const b = await SignalingTestClient.connect(t.wsUrl);
      await b.join(t.token('dr-b', 'doctor', 'room-b'));
      const roomA = t.server.rooms.rooms.get('room-a')!;
      const roomB = t.server.rooms.rooms.get('room-b')!;
      // Least-loaded placement puts the two rooms on different workers.
      expect(roomA.worker.index).not.toBe(roomB.worker.index);

      process.kill(roomA.worker.worker.pid, 'SIGKILL');

      expect(await a.notification('sessionClosed')).toMatchObject({ code: 'MEDIA_ERROR' });
      expect((await a.waitClosed()).code).toBe(4004);
      await expect.poll(() => t.server.rooms.rooms.has('room-a')).toBe(false);
      expect(b.closed).toBeUndefined();
      expect((await b.request('createTransport', { direction: 'recv' })).id).toBeTruthy();

      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/huizhen_worker_deaths_total 1/);
      expect(metrics).toMatch(/huizhen_media_workers 1/);
      expect(t.logs.some((l) => l.includes('"media worker died"'))).toBe(true);
      // New rooms go to the surviving worker.
      const c = await SignalingTestClient.connect(t.wsUrl);
      await c.join(t.token('dr-c', 'doctor', 'room-c'));
      expect(t.server.rooms.rooms.get('room-c')!.worker.index).toBe(roomB.worker.index);
      // With every worker gone, joins are refused with MEDIA_ERROR, not INTERNAL.
      process.kill(roomB.worker.worker.pid, 'SIGKILL');
      await expect.poll(() => t.server.pool.workers.length).toBe(0);
      const d = await t.connect();
      expect(await d.call('join', { protocolVersion: 1, token: t.token('dr-d', 'doctor', 'room-d') })).toMatchObject({
        ok: false,
        error: { code: 'MEDIA_ERROR' },
      });
      expect((await fetch(`${t.url}/healthz`)).status).toBe(503);
      a.close();
      b.close();
      c.close();
    } finally {
      await t.close();
    }
  });
});
