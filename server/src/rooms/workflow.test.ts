/**
 * The consult workflow end to end over real signaling and a real worker:
 * waiting room, host controls, lifecycle, chat, opinions, reconnection,
 * tokens from two hospitals, and the audit trail it leaves.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../audit/verifyAudit.js';
import { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { serviceToken, startTestServer, type TestServer } from '../testing/testServer.js';

const partner = generateKeyPairSync('rsa', { modulusLength: 2048 });
const tertiary = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: { export(o: { type: 'spki'; format: 'pem' }): string | Buffer }) =>
  k.export({ type: 'spki', format: 'pem' }).toString();

let t: TestServer;
const connect = () => t.connect();
const ALL_ROLES = ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'];

beforeAll(async () => {
  t = await startTestServer({
    auth: {
      issuers: [
        {
          iss: 'huizhen-test',
          audience: 'huizhen',
          algorithm: 'HS256',
          secret: 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
          roles: ALL_ROLES,
          scopes: ['rooms:write', 'rooms:read'],
        },
        // A partner hospital's identity system may only vouch for specialists.
        {
          iss: 'https://sso.partner.example',
          audience: 'huizhen',
          algorithm: 'RS256',
          publicKey: pem(partner.publicKey),
          roles: ['specialist'],
        },
        {
          iss: 'https://id.tertiary.example',
          audience: 'huizhen',
          algorithm: 'ES256',
          publicKey: pem(tertiary.publicKey),
          roles: ['specialist'],
        },
      ],
    },
  });
});
afterAll(() => t.close());

const partnerToken = (sub: string, role: string, room: string) =>
  jwt.sign({ name: `Prof ${sub}`, room, role }, partner.privateKey, {
    algorithm: 'RS256',
    issuer: 'https://sso.partner.example',
    audience: 'huizhen',
    subject: sub,
    expiresIn: 600,
  });

async function doctorIn(room: string, extra: Parameters<TestServer['token']>[3] = {}) {
  const doctor = await connect();
  const joined = await doctor.join(t.token(`dr-${room}`, 'doctor', room, extra));
  return { doctor, joined };
}

/** A patient of `room` whom `doctor` admitted from the lobby. */
async function admittedPatient(doctor: SignalingTestClient, identity: string, room: string) {
  const patient = await connect();
  await patient.join(t.token(identity, 'patient', room));
  await doctor.request('admit', { identity });
  await patient.notification('admitted');
  return patient;
}

/** A specialist's resume of `resumeSessionId` on a new connection must be refused as expired. */
async function expectResumeExpired(identity: string, room: string, resumeSessionId: string, resumeFromSeq?: number) {
  const again = await connect();
  expect(
    await again.call('join', {
      protocolVersion: 1,
      token: t.token(identity, 'specialist', room),
      resumeSessionId,
      ...(resumeFromSeq === undefined ? {} : { resumeFromSeq }),
    }),
  ).toMatchObject({ ok: false, error: { code: 'SESSION_EXPIRED' } });
}

/** POST /api/rooms with `body` as JSON, `token` (if any) as the bearer. */
const bookRoom = (token: string | undefined, body: Record<string, unknown>) =>
  fetch(`${t.url}/api/rooms`, {
    method: 'POST',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('waiting room', () => {
  it('keeps a patient out of the room until a clinician admits them', async () => {
    const { doctor, joined } = await doctorIn('lobby-1');
    expect(joined).toMatchObject({
      admission: 'admitted',
      room: { kind: 'consult', state: 'created', host: 'dr-lobby-1' },
      waitingRoom: [],
    });

    const patient = await connect();
    const waiting = await patient.join(t.token('pt-1', 'patient', 'lobby-1', { name: '张三' }));
    expect(waiting).toMatchObject({ admission: 'waiting', room: { id: 'lobby-1', kind: 'consult' } });
    expect(waiting).not.toHaveProperty('participants');
    expect(waiting).not.toHaveProperty('routerRtpCapabilities');
    // No media and no view of the room while waiting.
    expect(await patient.call('createTransport', { direction: 'recv' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ADMITTED' },
    });
    expect(await patient.call('sendChat', { text: 'hello?' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_ADMITTED' },
    });

    const lobby = await doctor.notification('waitingRoomChanged', (d) => d.waiting.length === 1);
    expect(lobby.waiting[0]).toMatchObject({
      identity: 'pt-1',
      name: '张三',
      role: 'patient',
      since: expect.any(Number),
    });
    expect((await doctor.notification('roomUpdated')).room.state).toBe('waiting');
    expect(doctor.notifications.some((n) => n.notification === 'participantJoined')).toBe(false);

    await doctor.request('admit', { identity: 'pt-1' });
    const admitted = await patient.notification('admitted');
    expect(admitted.participants.map((p) => p.identity)).toEqual(['dr-lobby-1']);
    expect(admitted.routerRtpCapabilities).toHaveProperty('codecs');
    expect(admitted.room.state).toBe('active');
    expect((await doctor.notification('participantJoined')).participant.identity).toBe('pt-1');
    // Now inside, without reconnecting.
    expect((await patient.call('createTransport', { direction: 'recv' })).ok).toBe(true);
  });

  it('denies with a reason that closes the patient’s session', async () => {
    const { doctor } = await doctorIn('lobby-2');
    const patient = await connect();
    await patient.join(t.token('pt-2', 'patient', 'lobby-2'));
    await doctor.notification('waitingRoomChanged', (d) => d.waiting.length === 1);
    await doctor.request('deny', { identity: 'pt-2', reason: 'Please book a new appointment.' });
    expect(await patient.notification('sessionClosed')).toEqual({
      code: 'ADMISSION_DENIED',
      reason: 'Please book a new appointment.',
    });
    expect((await patient.waitClosed()).code).toBe(4007);
    await doctor.notification('waitingRoomChanged', (d) => d.waiting.length === 0);
  });

  it('lets only roles with the admit permission admit', async () => {
    await doctorIn('lobby-3');
    const specialist = await connect();
    await specialist.join(t.token('sp-3', 'specialist', 'lobby-3'));
    const patient = await connect();
    await patient.join(t.token('pt-3', 'patient', 'lobby-3'));
    expect(await specialist.call('admit', { identity: 'pt-3' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    const nurse = await connect();
    await nurse.join(t.token('rn-3', 'nurse', 'lobby-3'));
    await nurse.request('admit', { identity: 'pt-3' });
    await patient.notification('admitted');
  });

  it('keeps admission across a reconnect: an admitted patient does not wait again', async () => {
    const { doctor } = await doctorIn('lobby-4');
    const patient = await admittedPatient(doctor, 'pt-4', 'lobby-4');
    patient.close();
    await patient.waitClosed();
    const again = await connect();
    expect((await again.join(t.token('pt-4', 'patient', 'lobby-4'))).admission).toBe('admitted');
  });

  it('a locked room admits only clinicians of its hospitals', async () => {
    const { doctor } = await doctorIn('locked');
    expect((await doctor.request('setLocked', { locked: true })).room.locked).toBe(true);
    const patient = await connect();
    expect(
      await patient.call('join', { protocolVersion: 1, token: t.token('pt-5', 'patient', 'locked') }),
    ).toMatchObject({ ok: false, error: { code: 'ROOM_LOCKED' } });
    const outsider = await connect();
    expect(
      await outsider.call('join', { protocolVersion: 1, token: partnerToken('prof-x', 'specialist', 'locked') }),
    ).toMatchObject({ ok: false, error: { code: 'ROOM_LOCKED' } });
    const colleague = await connect();
    expect((await colleague.join(t.token('sp-same-hospital', 'specialist', 'locked'))).admission).toBe('admitted');
    await doctor.request('setLocked', { locked: false });
    expect((await (await connect()).join(partnerToken('prof-x', 'specialist', 'locked'))).admission).toBe('admitted');
  });
});

describe('cross-hospital clinic', () => {
  it('admits a specialist whose token comes from their own hospital, and refuses a doctor token from it', async () => {
    const { doctor, joined } = await doctorIn('clinic-1', { kind: 'clinic' });
    expect(joined.admission === 'admitted' && joined.room.kind).toBe('clinic');
    const specialist = await connect();
    const res = await specialist.join(partnerToken('prof-chen', 'specialist', 'clinic-1'));
    expect(res).toMatchObject({ admission: 'admitted', participant: { identity: 'prof-chen', role: 'specialist' } });
    expect((await doctor.notification('participantJoined')).participant.identity).toBe('prof-chen');
    const ecSpecialist = await connect();
    const ecToken = jwt.sign({ room: 'clinic-1', role: 'specialist' }, tertiary.privateKey, {
      algorithm: 'ES256',
      issuer: 'https://id.tertiary.example',
      audience: 'huizhen',
      subject: 'prof-ec',
      expiresIn: 600,
    });
    expect((await ecSpecialist.join(ecToken)).admission).toBe('admitted');

    const impostor = await connect();
    expect(
      await impostor.call('join', { protocolVersion: 1, token: partnerToken('prof-chen', 'doctor', 'clinic-1') }),
    ).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
  });

  it('rounds: viewers subscribe only', async () => {
    await doctorIn('rounds-1', { kind: 'rounds' });
    const viewer = await connect();
    const res = await viewer.join(t.token('trainee-1', 'patient', 'rounds-1'));
    expect(res.admission).toBe('admitted');
    expect(res.permissions).not.toContain('publishVideo');
    expect(await viewer.call('createTransport', { direction: 'send' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect((await viewer.call('createTransport', { direction: 'recv' })).ok).toBe(true);
  });
});

describe('host controls and lifecycle', () => {
  it('removes a participant, who cannot come back even with a fresh token', async () => {
    const { doctor } = await doctorIn('remove-1');
    const specialist = await connect();
    await specialist.join(t.token('sp-r', 'specialist', 'remove-1'));
    expect(await specialist.call('removeParticipant', { identity: 'dr-remove-1' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    await doctor.request('removeParticipant', { identity: 'sp-r', reason: 'Wrong consult.' });
    expect(await specialist.notification('sessionClosed')).toEqual({ code: 'REMOVED', reason: 'Wrong consult.' });
    expect((await specialist.waitClosed()).code).toBe(4008);
    expect(await doctor.notification('participantLeft')).toEqual({ identity: 'sp-r', reason: 'removed' });
    const back = await connect();
    expect(
      await back.call('join', { protocolVersion: 1, token: t.token('sp-r', 'specialist', 'remove-1') }),
    ).toMatchObject({ ok: false, error: { code: 'REMOVED' } });
  });

  it('ends the consult for everyone; an ended room refuses joins and keeps its summary', async () => {
    const { doctor } = await doctorIn('end-1');
    const specialist = await connect();
    await specialist.join(t.token('sp-e', 'specialist', 'end-1'));
    expect(await specialist.call('endRoom', {})).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    const { summary } = await doctor.request('endRoom', {});
    expect(summary.room).toMatchObject({ state: 'ended', startedAt: expect.any(Number), endedAt: expect.any(Number) });
    expect(summary.participants.map((p) => p.identity).sort()).toEqual(['dr-end-1', 'sp-e']);
    const closed = await specialist.notification('sessionClosed');
    expect(closed.code).toBe('ROOM_ENDED');
    // Clinicians leave with the summary; the audit trail records who took part.
    expect(closed.summary?.participants.map((p) => p.identity).sort()).toEqual(['dr-end-1', 'sp-e']);
    expect((await specialist.waitClosed()).code).toBe(4009);
    const late = await connect();
    expect(
      await late.call('join', { protocolVersion: 1, token: t.token('dr-end-1', 'doctor', 'end-1') }),
    ).toMatchObject({ ok: false, error: { code: 'ROOM_ENDED' } });

    const res = await fetch(`${t.url}/api/rooms/end-1/summary`, {
      headers: { authorization: `Bearer ${t.token('dr-end-1', 'doctor', 'end-1')}` },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { summary: { room: { state: string } } }).summary.room.state).toBe('ended');
    const patientRead = await fetch(`${t.url}/api/rooms/end-1/summary`, {
      headers: { authorization: `Bearer ${t.token('pt-x', 'patient', 'end-1')}` },
    });
    expect(patientRead.status).toBe(403);
  });

  it('books a room ahead over HTTP with a service token', async () => {
    const service = serviceToken('rooms:write', 'appointments');
    const booked = await bookRoom(service, { room: 'booked-1', kind: 'clinic', capacity: 4, host: 'dr-booked' });
    expect(booked.status).toBe(201);
    expect(await booked.json()).toMatchObject({
      room: { id: 'booked-1', kind: 'clinic', capacity: 4, host: 'dr-booked', state: 'created' },
    });
    const noAuth = await bookRoom(undefined, { room: 'x', kind: 'clinic' });
    expect(noAuth.status).toBe(401);
    const personal = await bookRoom(t.token('dr-z', 'doctor', 'x'), { room: 'x', kind: 'clinic' });
    expect(personal.status).toBe(403);
    const c = await connect();
    // The booking wins over what a token asks for.
    const joined = await c.join(t.token('dr-other', 'doctor', 'booked-1', { kind: 'consult' }));
    expect(joined.admission === 'admitted' && joined.room).toMatchObject({
      kind: 'clinic',
      capacity: 4,
      host: 'dr-booked',
    });
  });
});

describe('identity across hospitals', () => {
  it('never lets another issuer’s token with the same sub take a person’s place', async () => {
    const { doctor } = await doctorIn('impostor-1');
    await doctor.request('setLocked', { locked: true });
    const impostor = await connect();
    // The partner may grant specialists only, and its `dr-impostor-1` is not our doctor.
    const res = await impostor.call('join', {
      protocolVersion: 1,
      token: partnerToken('dr-impostor-1', 'specialist', 'impostor-1'),
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'DUPLICATE_IDENTITY' } });
    expect(doctor.closed).toBeUndefined();
    expect(t.server.rooms.rooms.get('impostor-1')?.participants.get('dr-impostor-1')?.issuer).toBe('huizhen-test');
  });

  it('bans the removed person, not everyone who shares their sub', async () => {
    const { doctor } = await doctorIn('ban-1', { kind: 'clinic' });
    const local = await connect();
    await local.join(t.token('shared-sub', 'specialist', 'ban-1'));
    await doctor.request('removeParticipant', { identity: 'shared-sub' });
    await local.waitClosed();
    const partnerPerson = await connect();
    expect((await partnerPerson.join(partnerToken('shared-sub', 'specialist', 'ban-1'))).admission).toBe('admitted');
  });

  it('lets only issuers granted a scope use service tokens', async () => {
    const svc = jwt.sign({ scope: 'rooms:write rooms:read' }, partner.privateKey, {
      algorithm: 'RS256',
      issuer: 'https://sso.partner.example',
      audience: 'huizhen',
      subject: 'svc',
      expiresIn: 60,
    });
    const read = await fetch(`${t.url}/api/rooms/anything/opinions`, { headers: { authorization: `Bearer ${svc}` } });
    expect(read.status).toBe(403);
    const book = await bookRoom(svc, { room: 'x2', kind: 'clinic' });
    expect(book.status).toBe(403);
    const writeOnly = serviceToken('rooms:write', 'svc');
    expect(
      (await fetch(`${t.url}/api/rooms/anything/summary`, { headers: { authorization: `Bearer ${writeOnly}` } }))
        .status,
    ).toBe(403);
  });

  it('lets the first doctor settle a room a patient opened', async () => {
    const patient = await connect();
    expect((await patient.join(t.token('pt-first', 'patient', 'settle-1'))).admission).toBe('waiting');
    const doctor = await connect();
    const joined = await doctor.join(t.token('dr-settle', 'doctor', 'settle-1', { kind: 'clinic', capacity: 12 }));
    expect(joined.admission === 'admitted' && joined.room).toMatchObject({ kind: 'clinic', capacity: 12 });
    // A specialist cannot pick the kind of a room.
    const spec = await connect();
    const other = await spec.join(t.token('sp-kind', 'specialist', 'settle-2', { kind: 'rounds' }));
    expect(other.admission === 'admitted' && other.room.kind).toBe('consult');
  });
});

describe('chat and opinions', () => {
  it('orders chat on the server, sends history on join, and keeps clinician notes from patients', async () => {
    const { doctor } = await doctorIn('chat-1');
    const patient = await admittedPatient(doctor, 'pt-c', 'chat-1');
    const first = await doctor.request('sendChat', { text: 'Good morning' });
    const note = await doctor.request('sendChat', { text: 'BP trending up; consider ACE inhibitor', to: 'clinicians' });
    const reply = await patient.request('sendChat', { text: '<b>早上好</b>' });
    expect([first.message.seq, note.message.seq, reply.message.seq]).toEqual([1, 2, 3]);
    expect((await doctor.notification('chat')).message).toMatchObject({
      text: '<b>早上好</b>',
      from: { identity: 'pt-c', role: 'patient' },
    });
    expect(await patient.call('sendChat', { text: 'x', to: 'clinicians' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(await patient.call('sendChat', { text: 'x'.repeat(2001) })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST' },
    });
    // The patient never saw the clinicians-only note.
    const seenByPatient = patient.notifications
      .filter((n) => n.notification === 'chat')
      .map((n) => (n.data as { message: { text: string } }).message.text);
    expect(seenByPatient).toEqual(['Good morning']);

    const specialist = await connect();
    const joined = await specialist.join(t.token('sp-c', 'specialist', 'chat-1'));
    expect(joined.admission === 'admitted' && joined.chatHistory.map((m) => m.seq)).toEqual([1, 2, 3]);
    const latePatient = await connect();
    await latePatient.join(t.token('pt-c', 'patient', 'chat-1'));
    const history = latePatient.responses.find((r) => r.ok)?.data as { chatHistory: { seq: number }[] };
    expect(history.chatHistory.map((m) => m.seq)).toEqual([1, 3]);
  });

  it('rate-limits chat per person', async () => {
    const { doctor } = await doctorIn('chat-2');
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => doctor.call('sendChat', { text: `m${i}` })));
    expect(results.some((r) => !r.ok && r.error.code === 'RATE_LIMITED')).toBe(true);
  });

  it('versions opinions, shows them to clinicians only, and keeps them after the call', async () => {
    const { doctor } = await doctorIn('opinion-1', { kind: 'clinic' });
    const specialist = await connect();
    await specialist.join(partnerToken('prof-op', 'specialist', 'opinion-1'));
    const v1 = await specialist.request('setOpinion', { text: 'Suspect early-stage CKD; repeat eGFR in 3 months.' });
    expect(await specialist.call('setOpinion', { text: 'too soon' })).toMatchObject({
      ok: false,
      error: { code: 'RATE_LIMITED' },
    });
    await new Promise((r) => setTimeout(r, 1000));
    const v2 = await specialist.request('setOpinion', {
      text: 'CKD stage 2; repeat eGFR in 3 months; nephrology referral.',
    });
    expect([v1.opinion.version, v2.opinion.version]).toEqual([1, 2]);
    expect((await doctor.notification('opinionUpdated', (d) => d.opinion.version === 2)).opinion.author).toMatchObject({
      identity: 'prof-op',
      issuer: 'https://sso.partner.example',
    });
    const patient = await admittedPatient(doctor, 'pt-op', 'opinion-1');
    expect(await patient.call('getOpinions', {})).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    expect(await patient.call('setOpinion', { text: 'I feel fine' })).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    await doctor.request('endRoom', {});
    const res = await fetch(`${t.url}/api/rooms/opinion-1/opinions`, {
      headers: { authorization: `Bearer ${t.token('dr-opinion-1', 'doctor', 'opinion-1')}` },
    });
    const { opinions } = (await res.json()) as { opinions: { version: number; text: string }[] };
    expect(opinions.map((o) => o.version)).toEqual([1, 2]);
  });
});

describe('reconnection and tokens', () => {
  it('resumes a dropped session within the grace period: others see reconnecting, not leave', async () => {
    const { doctor } = await doctorIn('resume-1');
    const specialist = await connect();
    const first = await specialist.join(t.token('sp-rs', 'specialist', 'resume-1'));
    specialist.ws.terminate();
    expect(await doctor.notification('participantReconnecting')).toEqual({ identity: 'sp-rs' });
    // Something happens while they are away.
    await doctor.request('sendChat', { text: 'are you there?' });
    const again = await connect();
    const resumed = await again.join(t.token('sp-rs', 'specialist', 'resume-1'), { resumeSessionId: first.sessionId });
    expect(resumed).toMatchObject({ resumed: true, sessionId: first.sessionId, admission: 'admitted' });
    expect((await again.notification('chat')).message.text).toBe('are you there?');
    expect(await doctor.notification('participantReconnected')).toEqual({ identity: 'sp-rs' });
    expect(doctor.notifications.some((n) => n.notification === 'participantLeft')).toBe(false);
  });

  it('resumes from the last notification seen, even before the server noticed the drop', async () => {
    const { doctor } = await doctorIn('resume-3');
    const specialist = await connect();
    const first = await specialist.join(t.token('sp-seq', 'specialist', 'resume-3'));
    await doctor.request('sendChat', { text: 'one' });
    await specialist.notification('chat', (d) => d.message.text === 'one');
    const seen = Math.max(...specialist.notifications.map((n) => (n as { seq?: number }).seq ?? 0));
    // Sent into a connection the client has in fact already lost.
    await doctor.request('sendChat', { text: 'two' });
    await doctor.request('sendChat', { text: 'three' });
    const again = await connect();
    const resumed = await again.join(t.token('sp-seq', 'specialist', 'resume-3'), {
      resumeSessionId: first.sessionId,
      resumeFromSeq: seen,
    });
    expect(resumed.resumed).toBe(true);
    await again.notification('chat', (d) => d.message.text === 'three');
    const replayed = again.notifications
      .filter((n) => n.notification === 'chat')
      .map((n) => (n.data as { message: { text: string } }).message.text);
    expect(replayed).toEqual(['two', 'three']);
    // The stale connection is let go, and its close does not end the resumed session.
    expect((await specialist.waitClosed()).code).toBe(4003);
    await new Promise((r) => setTimeout(r, 1500));
    expect(t.server.rooms.rooms.get('resume-3')?.participants.has('sp-seq')).toBe(true);
    expect(
      doctor.notifications.some(
        (n) => n.notification === 'participantLeft' || n.notification === 'participantReconnecting',
      ),
    ).toBe(false);
    await doctor.request('sendChat', { text: 'four' });
    expect((await again.notification('chat', (d) => d.message.text === 'four')).message.text).toBe('four');
  });

  it('refuses to resume from a point it can no longer replay', async () => {
    const { doctor } = await doctorIn('resume-4');
    const specialist = await connect();
    const first = await specialist.join(t.token('sp-far', 'specialist', 'resume-4'));
    await doctor.request('sendChat', { text: 'x' });
    await expectResumeExpired('sp-far', 'resume-4', first.sessionId, 10_000);
  });

  it('refuses a resume after the grace period', async () => {
    const { doctor } = await doctorIn('resume-2');
    const specialist = await connect();
    const first = await specialist.join(t.token('sp-late', 'specialist', 'resume-2'));
    specialist.ws.terminate();
    expect(await doctor.notification('participantLeft', undefined, 4000)).toEqual({
      identity: 'sp-late',
      reason: 'disconnected',
    });
    await expectResumeExpired('sp-late', 'resume-2', first.sessionId);
  });

  it('ends a session whose token expires without refresh, and extends one that refreshes', async () => {
    const { doctor } = await doctorIn('expiry-1');
    const shortLived = await connect();
    // Expires in 2 s (clock tolerance 5 s in the default config, so ~7 s in all): refreshed in time.
    await shortLived.join(t.token('sp-refresh', 'specialist', 'expiry-1', { ttlSec: 60 }));
    const refreshed = await shortLived.request('refreshToken', {
      token: t.token('sp-refresh', 'specialist', 'expiry-1', { ttlSec: 600 }),
    });
    expect(refreshed.tokenExpiresIn).toBeGreaterThan(500);
    expect(
      await shortLived.call('refreshToken', { token: t.token('someone-else', 'specialist', 'expiry-1') }),
    ).toMatchObject({ ok: false, error: { code: 'TOKEN_ROOM_MISMATCH' } });

    const expiring = await startTestServer({ auth: { clockToleranceSec: 0 } });
    try {
      const c = await SignalingTestClient.connect(expiring.wsUrl);
      const token = jwt.sign({ room: 'exp', role: 'specialist' }, 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz', {
        algorithm: 'HS256',
        issuer: 'huizhen-test',
        audience: 'huizhen',
        subject: 'sp-exp',
        expiresIn: 1,
      });
      await c.join(token);
      expect(await c.notification('sessionClosed', undefined, 4000)).toMatchObject({ code: 'TOKEN_EXPIRED' });
      expect((await c.waitClosed()).code).toBe(4006);
    } finally {
      await expiring.close();
    }
    expect(doctor.closed).toBeUndefined();
  });
});

describe('audit trail', () => {
  it('records the workflow in a hash-chained log without tokens or chat text', async () => {
    const { doctor } = await doctorIn('audit-1');
    const patient = await connect();
    const patientToken = t.token('pt-a', 'patient', 'audit-1');
    await patient.join(patientToken);
    await doctor.request('admit', { identity: 'pt-a' });
    await doctor.request('sendChat', { text: 'secret clinical chat' });
    await doctor.request('removeParticipant', { identity: 'pt-a' });
    const bad = await connect();
    await bad.call('join', { protocolVersion: 1, token: 'not-a-token' });
    const dir = join(t.scratch, 'audit');
    const result = verifyAudit(dir);
    expect(result.ok).toBe(true);
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; room?: string; target?: string });
    const mine = events.filter((e) => e.room === 'audit-1').map((e) => e.event);
    expect(mine).toEqual(expect.arrayContaining(['join', 'waiting', 'admit', 'remove', 'leave']));
    expect(events.some((e) => e.event === 'token_rejected')).toBe(true);
    expect(text).not.toContain(patientToken);
    expect(text).not.toContain('secret clinical chat');
  });
});

describe('permission matrix', () => {
  // Every role × every host/clinical action, checked on the server: each role's line names what it may do.
  const ACTIONS = ['admit', 'mute', 'remove', 'lock', 'end', 'chat', 'opinion', 'publish'] as const;
  const may = (...allowed: (typeof ACTIONS)[number][]): Record<string, boolean> =>
    Object.fromEntries(ACTIONS.map((action) => [action, allowed.includes(action)]));
  const expected: Record<string, Record<string, boolean>> = {
    doctor: may('admit', 'mute', 'remove', 'lock', 'end', 'chat', 'opinion', 'publish'),
    specialist: may('chat', 'opinion', 'publish'),
    nurse: may('admit', 'chat', 'publish'),
    patient: may('chat', 'publish'),
    family: may('chat', 'publish'),
    interpreter: may('chat', 'publish'),
    observer: may(),
  };

  // An allowed action must take effect where it should; a denied one must be refused with
  // PERMISSION_DENIED and change nothing. Any other outcome fails the test.
  it.each(Object.keys(expected))('%s', async (role) => {
    const room = `matrix-${role}`;
    const { doctor } = await doctorIn(room);
    // The target has a real microphone track on the server, so a mute has something to pause.
    const target = await connect();
    await target.join(t.token(`target-${role}`, 'specialist', room));
    const send = await target.request('createTransport', { direction: 'send' });
    const trackId = (
      await target.request('produce', {
        transportId: send.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: 11111111 }],
        },
      })
    ).trackId;
    const actor = await connect();
    const res = await actor.join(t.token(`actor-${role}`, role as never, room));
    if (res.admission === 'waiting') {
      await doctor.request('admit', { identity: `actor-${role}` });
      await actor.notification('admitted');
    }
    const waiter = await connect();
    const waiting = await waiter.join(t.token(`waiter-${role}`, 'patient', room));
    expect(waiting.admission).toBe('waiting');

    /** Runs `method`; when allowed, `effect` must see it happen; when denied, `unchanged` must hold. */
    const check = async (
      method: string,
      data: Record<string, unknown>,
      effect: () => Promise<unknown>,
      unchanged: () => void | Promise<void>,
    ): Promise<boolean> => {
      const r = await actor.call(method as never, data);
      if (r.ok) {
        await effect();
        return true;
      }
      expect(r.error.code, `${role} ${method}: ${r.error.message}`).toBe('PERMISSION_DENIED');
      await unchanged();
      return false;
    };
    const has = (c: SignalingTestClient, name: string) => c.notifications.some((n) => n.notification === name);

    const outcome: Record<string, boolean> = {};
    outcome.admit = await check(
      'admit',
      { identity: `waiter-${role}` },
      () => waiter.notification('admitted'),
      () => expect(has(waiter, 'admitted')).toBe(false),
    );
    outcome.mute = await check(
      'muteParticipant',
      { identity: `target-${role}`, source: 'microphone' },
      () => target.notification('mutedByHost', (d) => d.trackId === trackId),
      () => expect(has(target, 'mutedByHost')).toBe(false),
    );
    outcome.lock = await check(
      'setLocked',
      { locked: true },
      () => doctor.notification('roomUpdated', (d) => d.room.locked),
      async () => expect((await doctor.request('getSummary', {})).summary.room.locked).toBe(false),
    );
    outcome.chat = await check(
      'sendChat',
      { text: `hi from ${role}` },
      () => target.notification('chat', (d) => d.message.text === `hi from ${role}`),
      () => expect(has(target, 'chat')).toBe(false),
    );
    outcome.opinion = await check(
      'setOpinion',
      { text: `note from ${role}` },
      () => doctor.notification('opinionUpdated', (d) => d.opinion.text === `note from ${role}`),
      async () => expect((await doctor.request('getOpinions', {})).opinions).toEqual([]),
    );
    outcome.publish = await check(
      'createTransport',
      { direction: 'send' },
      async () => expect((await actor.request('getStats', {})).transports).toHaveLength(1),
      async () => expect((await actor.request('getStats', {})).transports).toHaveLength(0),
    );
    outcome.remove = await check(
      'removeParticipant',
      { identity: `target-${role}` },
      () => target.notification('sessionClosed', (d) => d.code === 'REMOVED'),
      () => expect(has(target, 'sessionClosed')).toBe(false),
    );
    outcome.end = await check(
      'endRoom',
      {},
      () => doctor.notification('sessionClosed', (d) => d.code === 'ROOM_ENDED'),
      () => expect(has(doctor, 'sessionClosed')).toBe(false),
    );
    expect(outcome).toEqual(expected[role]);
  });
});
