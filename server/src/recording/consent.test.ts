/**
 * The recording consent workflow over real signaling on a real Huizhen node
 * (real mediasoup worker): who may ask, who is asked (late joiners and
 * waiting-room admits included), pause and resume as people withdraw, decline,
 * join, leave and reconnect, stop and the room's end, and the audit trail.
 *
 * The capture here is a double that notes what the consent side told it; the
 * real capture (PlainTransport → ffmpeg) has its own tests, and the browser
 * test of the whole feature checks the recorded file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingStatus } from '@huizhen/protocol';
import { verifyAudit } from '../audit/verifyAudit.js';
import { MediaRoom } from '../rooms/media/MediaRoom.js';
import type { SignalingTestClient } from '../testing/SignalingTestClient.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';
import type { ConsentEntry, RecordingCaptureContext } from './RecordingPort.js';

interface CaptureLog {
  context: RecordingCaptureContext;
  calls: string[];
  history?: readonly ConsentEntry[];
}

const captures: CaptureLog[] = [];
let t: TestServer;
let bare: TestServer;

beforeAll(async () => {
  [t, bare] = await Promise.all([
    startTestServer(
      {},
      {
        recording: {
          capture: (media, context) => {
            // The capture is handed the room's live media, to find its producers there.
            if (!(media instanceof MediaRoom) || media.router.closed) throw new Error('not a live media room');
            const log: CaptureLog = { context, calls: [] };
            captures.push(log);
            return {
              resume: () => void log.calls.push('resume'),
              pause: () => void log.calls.push('pause'),
              finish: async (history) => {
                log.calls.push('finish');
                log.history = history;
                return context.recordingId;
              },
            };
          },
        },
      },
    ),
    startTestServer(),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([t?.close(), bare?.close()]);
});

const captureOf = (room: string): CaptureLog => {
  const found = captures.filter((c) => c.context.roomId === room);
  if (found.length === 0) throw new Error(`no capture for ${room}`);
  return found[found.length - 1]!;
};

/** The latest recordingStateChanged this client got. */
function lastStatus(c: SignalingTestClient): RecordingStatus | undefined {
  const all = c.notifications.filter((n) => n.notification === 'recordingStateChanged');
  return all[all.length - 1]?.data as RecordingStatus | undefined;
}

/** Waits until this client's latest recording status is `state` (with `missing`, if given). */
async function seesState(c: SignalingTestClient, state: RecordingStatus['state'], missing?: string[]) {
  return c.waitFor(
    () => {
      const s = lastStatus(c);
      return s && s.state === state && (!missing || JSON.stringify(s.missingConsent) === JSON.stringify(missing))
        ? s
        : undefined;
    },
    10_000,
    `recording ${state} ${missing?.join(',') ?? ''}`,
  );
}

/** A doctor in `room` and a patient they admitted from the waiting room. */
async function consult(room: string, server = t) {
  const doctor = await server.connect();
  const joined = await doctor.join(server.token(`dr-${room}`, 'doctor', room));
  const patient = await server.connect();
  const first = await patient.join(server.token(`pt-${room}`, 'patient', room));
  await doctor.notification('waitingRoomChanged', (d) => d.waiting.length === 1);
  await doctor.request('admit', { identity: `pt-${room}` });
  const admitted = await patient.notification('admitted');
  return { doctor, patient, joined, patientSession: first.sessionId, admitted };
}

describe('recording consent over signaling', () => {
  it('a server without a capture refuses with RECORDING_UNAVAILABLE and shows no recording state', async () => {
    const { doctor, joined } = await consult('bare-1', bare);
    expect(joined).not.toHaveProperty('recording');
    expect(await doctor.call('requestRecording', {})).toMatchObject({
      ok: false,
      error: { code: 'RECORDING_UNAVAILABLE' },
    });
  });

  it('records only once everyone agreed; only `record` may ask or stop; withdrawal pauses', async () => {
    const { doctor, patient, joined, admitted } = await consult('rec-1');
    expect(joined).toMatchObject({ recording: { state: 'off', missingConsent: [] } });
    expect(admitted.recording).toEqual({ state: 'off', missingConsent: [], version: 0 });

    // Patients cannot ask or stop, and nothing can be answered before anyone asked.
    expect(await patient.call('requestRecording', {})).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
    expect(await patient.call('recordingConsent', { agree: true })).toMatchObject({
      ok: false,
      error: { code: 'RECORDING_NOT_ACTIVE' },
    });
    expect(await patient.call('recordingConsent', { agree: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_REQUEST' },
    });

    const asked = await doctor.request('requestRecording', {});
    expect(asked.recording).toMatchObject({
      state: 'awaiting-consent',
      missingConsent: ['pt-rec-1'],
      requestedBy: 'dr-rec-1',
      recordingId: expect.any(String),
    });
    expect(await seesState(patient, 'awaiting-consent', ['pt-rec-1'])).toEqual(asked.recording);
    expect(captureOf('rec-1').context).toEqual({
      roomId: 'rec-1',
      recordingId: asked.recording.recordingId,
      requestedBy: 'dr-rec-1',
      limitReached: expect.any(Function),
    });
    expect(captureOf('rec-1').calls).toEqual([]);
    expect(await doctor.call('requestRecording', {})).toMatchObject({
      ok: false,
      error: { code: 'RECORDING_ALREADY_ACTIVE' },
    });
    expect(await patient.call('stopRecording', {})).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });

    expect((await patient.request('recordingConsent', { agree: true })).recording.state).toBe('recording');
    await seesState(doctor, 'recording', []);
    expect(captureOf('rec-1').calls).toEqual(['resume']);

    await patient.request('recordingConsent', { agree: false });
    await seesState(doctor, 'paused', ['pt-rec-1']);
    expect(captureOf('rec-1').calls).toEqual(['resume', 'pause']);
    await patient.request('recordingConsent', { agree: true });
    await seesState(doctor, 'recording', []);

    const stopped = await doctor.request('stopRecording', {});
    expect(stopped).toMatchObject({
      recording: { state: 'off', missingConsent: [] },
      recordingId: asked.recording.recordingId,
    });
    expect(stopped.recording.version).toBeGreaterThan(asked.recording.version);
    await seesState(patient, 'off');
    await doctor.waitFor(() => (captureOf('rec-1').history ? true : undefined), 10_000, 'finish');
    expect(captureOf('rec-1').calls).toEqual(['resume', 'pause', 'resume', 'finish']);
    expect(captureOf('rec-1').history!.map((e) => `${e.event}:${e.identity}`)).toEqual([
      'requested:dr-rec-1',
      'consented:pt-rec-1',
      'withdrawn:pt-rec-1',
      'consented:pt-rec-1',
      'stopped:dr-rec-1',
    ]);
  });

  it('interpreters and observers may answer but not ask', async () => {
    const { doctor } = await consult('rec-roles');
    const interpreter = await t.connect();
    await interpreter.join(t.token('int-1', 'interpreter', 'rec-roles'));
    const observer = await t.connect();
    await observer.join(t.token('obs-1', 'observer', 'rec-roles'));
    for (const c of [interpreter, observer]) {
      expect(await c.call('requestRecording', {})).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
    }
    await doctor.request('requestRecording', {});
    await interpreter.request('recordingConsent', { agree: true });
    await observer.request('recordingConsent', { agree: true });
    expect(await seesState(doctor, 'awaiting-consent', ['pt-rec-roles'])).toBeTruthy();
    expect(await observer.call('stopRecording', {})).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
  });

  it('a late joiner and a waiting-room admit are asked and pause it; a decliner’s leaving resumes it', async () => {
    const { doctor, patient } = await consult('rec-2');
    await doctor.request('requestRecording', {});
    await patient.request('recordingConsent', { agree: true });
    await seesState(doctor, 'recording', []);

    // A specialist comes straight in: their join answer asks them.
    const specialist = await t.connect();
    const late = await specialist.join(t.token('sp-rec-2', 'specialist', 'rec-2'));
    expect(late).toMatchObject({ recording: { state: 'paused', missingConsent: ['sp-rec-2'] } });
    await seesState(patient, 'paused', ['sp-rec-2']);
    expect(captureOf('rec-2').calls).toEqual(['resume', 'pause']);
    await specialist.request('recordingConsent', { agree: true });
    await seesState(doctor, 'recording', []);

    // Family waits in the lobby (told nothing of the room), then is admitted and asked.
    const family = await t.connect();
    const waiting = await family.join(t.token('fam-rec-2', 'family', 'rec-2'));
    expect(waiting).not.toHaveProperty('recording');
    await doctor.notification('waitingRoomChanged', (d) => d.waiting.some((w) => w.identity === 'fam-rec-2'));
    expect(captureOf('rec-2').calls).toEqual(['resume', 'pause', 'resume']);
    await doctor.request('admit', { identity: 'fam-rec-2' });
    const admitted = await family.notification('admitted');
    expect(admitted.recording).toMatchObject({ state: 'paused', missingConsent: ['fam-rec-2'] });
    await seesState(doctor, 'paused', ['fam-rec-2']);

    // Declining keeps it paused; once the decliner has left, everyone present agreed.
    await family.request('recordingConsent', { agree: false });
    expect(lastStatus(doctor)).toMatchObject({ state: 'paused', missingConsent: ['fam-rec-2'] });
    await family.request('leave', {});
    await seesState(doctor, 'recording', []);
    expect(captureOf('rec-2').calls).toEqual(['resume', 'pause', 'resume', 'pause', 'resume']);
  });

  it('a reconnect and a replaced session keep the answer; ending the consult finishes the recording', async () => {
    const { doctor, patient, patientSession } = await consult('rec-3');
    await doctor.request('requestRecording', {});
    await patient.request('recordingConsent', { agree: true });
    await seesState(doctor, 'recording', []);

    patient.ws.terminate();
    await doctor.notification('participantReconnecting');
    const back = await t.connect();
    const resumed = await back.join(t.token('pt-rec-3', 'patient', 'rec-3'), { resumeSessionId: patientSession });
    expect(resumed).toMatchObject({ resumed: true, recording: { state: 'recording', missingConsent: [] } });

    // The same person from another tab: the old session is replaced, not left.
    const tab = await t.connect();
    const replaced = await tab.join(t.token('pt-rec-3', 'patient', 'rec-3'));
    expect(replaced).toMatchObject({ admission: 'admitted', recording: { state: 'recording', missingConsent: [] } });
    expect(captureOf('rec-3').calls).toEqual(['resume']);
    expect(lastStatus(doctor)).toMatchObject({ state: 'recording' });

    await doctor.request('endRoom', {});
    await doctor.waitFor(() => (captureOf('rec-3').history ? true : undefined), 10_000, 'finish');
    expect(captureOf('rec-3').calls).toEqual(['resume', 'finish']);
    expect(captureOf('rec-3').history!.map((e) => e.event)).toEqual(['requested', 'consented']);
  });

  it('audits every step in the hash chain, with ids only', async () => {
    const dir = join(t.scratch, 'audit');
    expect(verifyAudit(dir).ok).toBe(true);
    const entries = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; room?: string; actor?: { identity: string }; details?: object });
    const of = (room: string) => entries.filter((e) => e.room === room && e.event.startsWith('recording_'));
    expect(of('rec-1').map((e) => e.event)).toEqual([
      'recording_requested',
      'recording_consented',
      'recording_started',
      'recording_withdrawn',
      'recording_paused',
      'recording_consented',
      'recording_resumed',
      'recording_stopped',
    ]);
    expect(of('rec-1')[1]).toMatchObject({ actor: { identity: 'pt-rec-1' } });
    expect(of('rec-2').map((e) => e.event)).toContain('recording_declined');
    expect(of('rec-3').at(-1)).toMatchObject({ event: 'recording_stopped', details: { reason: 'room_closed' } });
    for (const e of entries.filter((x) => x.event.startsWith('recording_'))) {
      expect(
        Object.keys(e.details ?? {}).every((k) => ['recordingId', 'reason', 'missing', 'during'].includes(k)),
      ).toBe(true);
    }
  });
});
