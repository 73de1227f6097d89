/**
 * Durable sessions across a kill -9 of the room's home (real node processes,
 * real mediasoup workers, one real redis-server, a records folder both nodes
 * share as an operator's NFS mount would be): the doctor and the patient
 * resume their sessions on the surviving node (`resumed: true`, the full room
 * view in the answer), the others see them reconnect and never leave; the
 * shared record with its view, the opinion, and the patient still waiting in
 * the lobby are there; whoever does not come back leaves once the reconnect
 * grace (short here: HUIZHEN_RECONNECT_GRACE_MS) is over.
 * Runs the built server (server/dist/main.js: `npm run build` first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, type Notification } from '@huizhen/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolClient } from '../client/ProtocolClient.js';
import { makePdf } from '../records/testFiles.js';
import type { NodeProcess } from '../testing/nodeProcess.js';
import { startFailoverCluster, type FailoverCluster, type Joined } from './failover.testing.js';
import { ClusterKeys } from './keys.js';
import { RedisRoomStateStore } from './RedisRoomStateStore.js';
import { testConnection, until } from './testing.js';

const GRACE_MS = 6000;

let cluster: FailoverCluster;
let records: string;

beforeAll(async () => {
  records = mkdtempSync(join(tmpdir(), 'huizhen-shared-records-'));
  const env = { HUIZHEN_RECONNECT_GRACE_MS: String(GRACE_MS) };
  cluster = await startFailoverCluster({ env, sharedRecordsDir: records });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
  if (records) rmSync(records, { recursive: true, force: true });
});

const lastSeq = (c: ProtocolClient): number => Math.max(0, ...c.notifications.map((n) => n.seq ?? 0));
const seen = (c: ProtocolClient, name: Notification, identity: string): boolean =>
  c.notifications.some((n) => n.notification === name && (n.data as { identity?: string }).identity === identity);

/** The SDK's way back: resume on the surviving node until it is the room's home (a's lease must lapse first). */
async function resumeOn(
  node: NodeProcess,
  token: string,
  sessionId: string,
  fromSeq: number,
  since: number,
): Promise<{ client: ProtocolClient; joined: Joined; refusals: string[] }> {
  const refusals: string[] = [];
  for (;;) {
    const client = await cluster.connect(node);
    const res = await client.call('join', {
      protocolVersion: 1,
      token,
      resumeSessionId: sessionId,
      resumeFromSeq: fromSeq,
    });
    if (res.ok) return { client, joined: res.data, refusals };
    refusals.push(res.error.code);
    expect(res.error.code).toBe(ErrorCode.ROOM_ON_OTHER_NODE);
    expect(Date.now() - since).toBeLessThan(4000);
    client.close();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('failover: sessions survive the loss of their home', () => {
  it('the doctor and the patient resume on the other node, the share, view, opinion and lobby are there', async () => {
    const { redis, a, b, connect, joinOn, admit } = cluster;
    const room = 'failover-sessions';
    const tokens = {
      doctor: await a.token('dr-wang', 'doctor', room),
      patient: await a.token('patient-li', 'patient', room),
      nurse: await a.token('nurse-zhou', 'nurse', room),
      waiter: await a.token('patient-wu', 'patient', room),
    };

    // --- the call on a: doctor, admitted patient, a nurse who will not come back, a patient still waiting
    const { client: doctor, joined: doctorJoin } = await joinOn(a, tokens.doctor);
    const { client: patient, joined: patientJoin } = await joinOn(a, tokens.patient);
    expect(patientJoin.admission).toBe('waiting');
    await admit(doctor, patient, 'patient-li');
    const { client: nurse, joined: nurseJoin } = await joinOn(a, tokens.nurse);
    expect(nurseJoin.admission).toBe('admitted');
    const { client: waiter, joined: waiterJoin } = await joinOn(a, tokens.waiter);
    expect(waiterJoin.admission).toBe('waiting');
    const { waiting } = await doctor.notification('waitingRoomChanged', (d) =>
      d.waiting.some((w) => w.identity === 'patient-wu'),
    );
    const waitingSince = waiting.find((w) => w.identity === 'patient-wu')!.since;

    const upload = await fetch(`${a.url}/api/rooms/${room}/records?name=lab-report.pdf`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.doctor}`, 'content-type': 'application/pdf' },
      body: new Uint8Array(makePdf(3)),
    });
    expect(upload.status).toBe(201);
    const { record } = (await upload.json()) as { record: { id: string } };
    await doctor.request('shareRecord', { recordId: record.id });
    await patient.notification('recordShared');
    const { view } = await doctor.request('setViewState', { recordId: record.id, view: { page: 2, zoom: 1.5 } });
    expect(view.version).toBe(2);
    await patient.notification('viewStateChanged', (d) => d.view.version === 2);
    const { opinion } = await doctor.request('setOpinion', { text: 'Asthma, well controlled; keep the inhaler.' });
    await doctor.request('sendChat', { text: 'Page two, the eosinophils.' });
    await patient.notification('chat');
    const doctorSeq = lastSeq(doctor);
    const patientSeq = lastSeq(patient);
    expect(patientSeq).toBeGreaterThan(0);

    // --- kill -9 the home
    const killedAt = Date.now();
    await a.kill();
    await Promise.all([doctor.waitClosed(), patient.waitClosed(), nurse.waitClosed(), waiter.waitClosed()]);

    // The doctor resumes on b with the old session id: the same session, the whole room in the answer.
    const back = await resumeOn(b, tokens.doctor, doctorJoin.sessionId, doctorSeq, killedAt);
    const doctorB = back.client;
    const doctorBack = back.joined;
    expect(Date.now() - killedAt).toBeLessThanOrEqual(4000);
    expect(doctorBack.resumed).toBe(true);
    // ...but none of its media is here: the SDK sets it up again.
    expect(doctorBack.mediaMoved).toBe(true);
    expect(doctorBack.sessionId).toBe(doctorJoin.sessionId);
    if (doctorBack.admission !== 'admitted') throw new Error('the doctor is not admitted on b');
    expect(doctorBack.participant.joinedAt).toBe(doctorJoin.participant.joinedAt);
    expect(doctorBack.participants.map((p) => p.identity).sort()).toEqual(['nurse-zhou', 'patient-li']);
    expect(doctorBack.share?.record.id).toBe(record.id);
    expect(doctorBack.share?.presenter).toBe('dr-wang');
    expect(doctorBack.share?.view).toEqual(view);
    expect(doctorBack.chatHistory.map((m) => m.text)).toEqual(['Page two, the eosinophils.']);
    // The patient still waiting is in the lobby list, in their old place.
    expect(doctorBack.waitingRoom).toEqual([
      { identity: 'patient-wu', name: 'patient-wu', role: 'patient', since: waitingSince },
    ]);
    expect((await doctorB.request('getOpinions', {})).opinions).toEqual([opinion]);

    // The patient resumes too; the doctor sees them reconnect, never leave or join.
    const patientBack = await resumeOn(b, tokens.patient, patientJoin.sessionId, patientSeq, killedAt);
    expect(patientBack.joined.resumed).toBe(true);
    if (patientBack.joined.admission !== 'admitted') throw new Error('the patient is not admitted on b');
    expect(patientBack.joined.participants.map((p) => p.identity).sort()).toEqual(['dr-wang', 'nurse-zhou']);
    expect(patientBack.joined.share?.view).toEqual(view);
    const reconnected = await doctorB.notification('participantReconnected', (d) => d.identity === 'patient-li');
    expect(reconnected.identity).toBe('patient-li');
    // Numbering goes on above what the doctor had from a, so a later resume stays valid.
    const next = doctorB.notifications.find((n) => n.notification === 'participantReconnected')!;
    expect(next.seq).toBeGreaterThan(doctorSeq);

    // A later resume on this node is an ordinary one (its media is here now).
    // (As the SDK counts: the highest seq it saw on either node.)
    const seqNow = Math.max(patientSeq, lastSeq(patientBack.client));
    patientBack.client.close();
    await doctorB.notification('participantReconnecting', (d) => d.identity === 'patient-li');
    const patientAgain = await connect(b);
    const again = (await patientAgain.join(tokens.patient, {
      resumeSessionId: patientJoin.sessionId,
      resumeFromSeq: seqNow,
    })) as Joined;
    expect(again.resumed).toBe(true);
    expect(again.mediaMoved).toBeUndefined();

    // The view goes on from where it was.
    const { view: moved } = await doctorB.request('setViewState', { recordId: record.id, view: { page: 3 } });
    expect(moved).toMatchObject({ page: 3, zoom: 1.5, version: 3 });
    await patientAgain.notification('viewStateChanged', (d) => d.view.version === 3);

    // --- the nurse and the waiting patient never come back: gone once the grace is over
    const left = await doctorB.notification('participantLeft', (d) => d.identity === 'nurse-zhou', GRACE_MS + 3000);
    expect(left.reason).toBe('disconnected');
    const leftAfter = Date.now() - killedAt;
    expect(leftAfter).toBeGreaterThanOrEqual(GRACE_MS);
    await doctorB.notification('waitingRoomChanged', (d) => d.waiting.length === 0, 3000);
    await patientAgain.notification('participantLeft', (d) => d.identity === 'nurse-zhou', 3000);

    // The new home dropped their sessions from the durable state too (its writes carry its own lease).
    const connection = testConnection(redis.url);
    try {
      await until(() => connection.up, 3000, 'connection up');
      const stored = new RedisRoomStateStore(connection, new ClusterKeys('huizhen:'));
      await until(
        async () => (await stored.load(room)).sessions.map((x) => x.identity).join() === 'dr-wang,patient-li',
        2000,
        'the sessions of those who did not come back dropped',
      );
    } finally {
      await connection.close();
    }

    // Nobody was told the doctor or the patient left (or joined again).
    for (const c of [doctorB, patientBack.client, patientAgain])
      for (const who of ['dr-wang', 'patient-li']) {
        expect(seen(c, 'participantLeft', who)).toBe(false);
        expect(
          c.notifications.some(
            (n) =>
              n.notification === 'participantJoined' &&
              (n.data as { participant: { identity: string } }).participant.identity === who,
          ),
        ).toBe(false);
      }

    // The nurse's session is gone for good: a resume now is refused, a fresh join works.
    const nurseB = await connect(b);
    const late = await nurseB.call('join', {
      protocolVersion: 1,
      token: tokens.nurse,
      resumeSessionId: nurseJoin.sessionId,
    });
    expect(late.ok ? 'resumed' : late.error.code).toBe(ErrorCode.SESSION_EXPIRED);
    expect(((await nurseB.join(tokens.nurse)) as Joined).admission).toBe('admitted');
    await doctorB.notification('participantJoined', (d) => d.participant.identity === 'nurse-zhou');
  }, 60_000);
});
