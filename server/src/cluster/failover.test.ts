/**
 * kill -9 of a room's home (real node processes, real mediasoup workers, one
 * real redis-server): another node takes the room's lease and rebuilds it
 * from the durable state. The people come back on that node the way the SDK
 * brings them back (a resume with their session id, which the new home knows
 * from the durable sessions): the admitted patient is not in the lobby again,
 * the chat history is intact, the lock and the ban still hold.
 * (sessionFailover.test.ts: the share, opinions, lobby and grace.)
 * Runs the built server (server/dist/main.js: `npm run build` first).
 */
import { ErrorCode } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolClient } from '../client/ProtocolClient.js';
import { startFailoverCluster, type FailoverCluster, type Joined } from './failover.testing.js';

let cluster: FailoverCluster;

beforeAll(async () => {
  cluster = await startFailoverCluster();
}, 60_000);
afterAll(() => cluster?.stop());

describe('failover: the home node is killed mid-call', () => {
  it('another node rebuilds the room; people come back with their admission, the chat, the lock and the bans', async () => {
    const { a, b, connect, joinOn, admit } = cluster;
    const room = 'failover-1';
    const tokens = {
      doctor: await a.token('dr-wang', 'doctor', room),
      patient: await a.token('patient-li', 'patient', room),
      family: await a.token('family-li', 'family', room),
      late: await a.token('patient-late', 'patient', room),
    };

    // --- the call on a (the room's home: the first join opens it there)
    const { client: doctor, joined: doctorJoin } = await joinOn(a, tokens.doctor);
    expect(doctorJoin.admission).toBe('admitted');
    expect(doctorJoin.clusterNodes).toEqual([b.url]);
    const { client: patient, joined: patientJoin } = await joinOn(a, tokens.patient);
    expect(patientJoin.admission).toBe('waiting');
    await admit(doctor, patient, 'patient-li');
    const { client: family, joined: familyJoin } = await joinOn(a, tokens.family);
    expect(familyJoin.admission).toBe('waiting');
    await admit(doctor, family, 'family-li');
    await doctor.request('removeParticipant', { identity: 'family-li' });
    const sent = await doctor.request('sendChat', { text: 'Please keep the inhaler at hand.' });
    await patient.request('sendChat', { text: 'I will.' });
    await doctor.request('setLocked', { locked: true });

    // --- kill -9 the home
    const killedAt = Date.now();
    await a.kill();
    await doctor.waitClosed();
    await patient.waitClosed();

    // The SDK's way back: resume on the next node; while a's room lease runs, b answers that the room
    // is homed on a (the SDK tries the next node); once b is the home it knows the session from the
    // durable state and the resume succeeds.
    let doctorBack: Joined | undefined;
    let doctorB: ProtocolClient;
    for (;;) {
      doctorB = await connect(b);
      const res = await doctorB.call('join', {
        protocolVersion: 1,
        token: tokens.doctor,
        resumeSessionId: doctorJoin.sessionId,
        resumeFromSeq: 1,
      });
      if (res.ok) {
        doctorBack = res.data;
        break;
      }
      expect(res.error.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
      expect(Date.now() - killedAt).toBeLessThan(3500);
      doctorB.close();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(doctorBack.resumed).toBe(true);
    const tookOverMs = Date.now() - killedAt;
    // a's lease (2.5 s) lapsed and b took the room over within 3 s of the kill.
    expect(tookOverMs).toBeLessThanOrEqual(3000);
    if (doctorBack.admission !== 'admitted') throw new Error('the doctor is not admitted on b');
    expect(doctorBack.participant.identity).toBe('dr-wang');
    expect(doctorBack.room.locked).toBe(true);
    expect(doctorBack.chatHistory.map((m) => m.text)).toEqual(['Please keep the inhaler at hand.', 'I will.']);
    expect(doctorBack.chatHistory[0]).toEqual(sent.message);
    expect(doctorBack.clusterNodes).toEqual([]);

    // The admitted patient comes back straight into the room (not the lobby), in a locked room: they were
    // there all along for the doctor, reconnecting.
    expect(doctorBack.participants.map((p) => p.identity)).toEqual(['patient-li']);
    const patientB = await connect(b);
    const patientBack = (await patientB.join(tokens.patient, {
      resumeSessionId: patientJoin.sessionId,
      resumeFromSeq: 1,
    })) as Joined;
    expect(patientBack.resumed).toBe(true);
    expect(patientBack.admission).toBe('admitted');
    await doctorB.notification('participantReconnected', (d) => d.identity === 'patient-li');
    // A fresh join of the same person still works as before (it replaces the session; nobody sees a leave).
    const patientAgain = await connect(b);
    expect(((await patientAgain.join(tokens.patient)) as Joined).admission).toBe('admitted');
    await patientB.notification('sessionClosed', (d) => d.code === ErrorCode.DUPLICATE_IDENTITY);

    // The ban and the lock hold on the new home.
    const familyB = await connect(b);
    const refused = await familyB.call('join', { protocolVersion: 1, token: tokens.family });
    expect(refused.ok ? 'joined' : refused.error.code).toBe(ErrorCode.REMOVED);
    const lateB = await connect(b);
    const late = await lateB.call('join', { protocolVersion: 1, token: tokens.late });
    expect(late.ok ? 'joined' : late.error.code).toBe(ErrorCode.ROOM_LOCKED);

    // Chat goes on, numbered above what the old home handed out.
    const next = await doctorB.request('sendChat', { text: 'Back on the other node.' });
    expect(next.message.seq).toBeGreaterThan(doctorBack.chatHistory.at(-1)!.seq);
    await patientAgain.notification('chat', (d) => d.message.id === next.message.id);
    expect(doctorB.notifications.some((n) => n.notification === 'participantLeft')).toBe(false);
  }, 60_000);
});
