/**
 * Connection quality over real signaling and a real worker: who is told
 * about whose link (clinicians and the person themselves, never another
 * patient), what a client may report, and what a receive transport starts with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignalingTestClient } from '../../testing/SignalingTestClient.js';
import { startTestServer, type TestServer } from '../../testing/testServer.js';
import { RECV_START_BITRATE } from './LinkMonitor.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function clinicWithTwoPatients(room: string) {
  const doctor = await t.connect();
  await doctor.join(t.token(`dr-${room}`, 'doctor', room, { kind: 'clinic' }));
  const patients: SignalingTestClient[] = [];
  for (const name of ['p1', 'p2']) {
    const p = await t.connect();
    await p.join(t.token(`${name}-${room}`, 'patient', room));
    await doctor.request('admit', { identity: `${name}-${room}` });
    await p.notification('admitted');
    patients.push(p);
  }
  return { doctor, p1: patients[0]!, p2: patients[1]! };
}

describe('connection quality', () => {
  it('tells clinicians and the participant themselves, never another patient', async () => {
    const room = 'lq-audience';
    const { doctor, p1, p2 } = await clinicWithTwoPatients(room);
    const live = t.server.rooms.rooms.get(room)!;
    const participant = live.participants.get(`p1-${room}`)!;
    live.media.links.emit('quality', participant, { quality: 'poor', downlink: 'poor', rttMs: 640 });
    live.media.links.emit('audioOnly', participant, true, 'downlink');

    const isP1 = (d: { identity: string }) => d.identity === `p1-${room}`;
    await expect(doctor.notification('connectionQualityChanged', isP1)).resolves.toMatchObject({
      quality: 'poor',
      rttMs: 640,
    });
    await expect(p1.notification('connectionQualityChanged', isP1)).resolves.toMatchObject({ quality: 'poor' });
    await expect(doctor.notification('audioOnlyChanged', isP1)).resolves.toEqual({
      identity: `p1-${room}`,
      audioOnly: true,
      reason: 'network',
      direction: 'downlink',
    });
    await p1.notification('audioOnlyChanged', isP1);
    await sleep(200);
    expect(p2.notifications.filter((n) => n.notification === 'connectionQualityChanged')).toEqual([]);
    expect(p2.notifications.filter((n) => n.notification === 'audioOnlyChanged')).toEqual([]);
  });

  it('shows a lost link as reconnecting to everyone, and its return as reconnected', async () => {
    const room = 'lq-lost';
    const { doctor, p1, p2 } = await clinicWithTwoPatients(room);
    const live = t.server.rooms.rooms.get(room)!;
    const participant = live.participants.get(`p1-${room}`)!;
    live.media.links.emit('quality', participant, { quality: 'lost' });
    const isP1 = (d: { identity: string }) => d.identity === `p1-${room}`;
    await doctor.notification('participantReconnecting', isP1);
    await p2.notification('participantReconnecting', isP1);
    live.media.links.emit('quality', participant, { quality: 'poor' });
    await doctor.notification('participantReconnected', isP1);
    // Never a leave, and the participant is not told they are reconnecting.
    expect(doctor.notifications.some((n) => n.notification === 'participantLeft')).toBe(false);
    expect(p1.notifications.some((n) => n.notification === 'participantReconnecting')).toBe(false);
  });

  it('accepts a bounded client report from admitted participants only', async () => {
    const room = 'lq-report';
    const doctor = await t.connect();
    await doctor.join(t.token(`dr-${room}`, 'doctor', room));
    await expect(doctor.call('reportQuality', { rttMs: 80, inboundLoss: 0.01, sentFps: 30 })).resolves.toMatchObject({
      ok: true,
    });
    const bad = await doctor.call('reportQuality', { inboundLoss: 3 });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    const waiting = await t.connect();
    await waiting.join(t.token(`pt-${room}`, 'patient', room));
    const refused = await waiting.call('reportQuality', { rttMs: 80 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_ADMITTED' } });
  });

  it('caps what a new receive transport is sent until its estimate grows', async () => {
    const room = 'lq-recv';
    const doctor = await t.connect();
    await doctor.join(t.token(`dr-${room}`, 'doctor', room));
    const recv = await doctor.request('createTransport', { direction: 'recv' });
    const live = t.server.rooms.rooms.get(room)!;
    const participant = live.participants.get(`dr-${room}`)!;
    const transport = participant.media.transportById(recv.id)!.transport;
    const [stats] = await transport.getStats();
    expect(stats?.maxOutgoingBitrate).toBe(RECV_START_BITRATE);
    // A transport that never connected is not a lost link: no verdict yet.
    await live.media.links.sampleAll();
    expect(live.media.links.quality(participant)).toBeUndefined();
  });
});
