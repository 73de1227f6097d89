/**
 * The SDK's evaluation calls against a real Huizhen server: `room.submitEvaluation`
 * after the doctor ended the consult, the standalone `submitEvaluation` with
 * a token, refusals as typed errors carrying the server's code, and checks
 * made before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from '../../../server/src/testing/testServer.js';
import { mediasoupDevice } from '../../test-support/fakeServer.js';
import { nextEvent } from '../../test-support/roomHelpers.js';
import { connect } from '../connect.js';
import { DisconnectReason, ErrorCode, HuizhenError } from '../errors.js';
import type { Room } from '../Room.js';
import type { WebSocketLike } from '../SignalClient.js';
import { submitEvaluation } from './submitEvaluation.js';

let t: TestServer;
const rooms: Room[] = [];
/** Every URL the SDK fetched, to see what was (not) sent. */
const fetched: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  fetched.push(String(input));
  return fetch(input, init);
};

beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => {
  await Promise.all(rooms.map((r) => r.disconnect()));
  await t.close();
});

async function join(identity: string, role: 'doctor' | 'patient', room: string): Promise<Room> {
  const r = await connect(t.url, t.token(identity, role, room, { name: identity }), {
    mediasoupDevice,
    webSocketFactory: (url) => new WebSocket(url) as unknown as WebSocketLike,
    fetch: countingFetch,
  });
  rooms.push(r);
  return r;
}

async function endedConsult(room: string): Promise<{ doctor: Room; patient: Room }> {
  const doctor = await join(`dr-${room}`, 'doctor', room);
  const lobby = nextEvent(doctor, 'waitingRoomChanged');
  const patient = await join(`pt-${room}`, 'patient', room);
  await lobby;
  const admitted = nextEvent(patient, 'admitted');
  await doctor.admit(`pt-${room}`);
  await admitted;
  return { doctor, patient };
}

describe('evaluating from the SDK', () => {
  it('rates the consult from the room once it ended, once', async () => {
    const { doctor, patient } = await endedConsult('sdk-ev-1');
    // Still running: refused locally, nothing sent.
    await expect(patient.submitEvaluation({ overall: 5 })).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
    expect(fetched).toEqual([]);

    const gone = nextEvent(patient, 'disconnected');
    await doctor.end();
    expect((await gone)[0]).toBe(DisconnectReason.RoomEnded);

    // A bad comment is refused before sending, in the protocol's words.
    const bad = patient.submitEvaluation({ overall: 4, comment: 'x'.repeat(1001) });
    await expect(bad).rejects.toBeInstanceOf(HuizhenError);
    await expect(bad).rejects.toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
      message: 'comment: must be at most 1000 characters',
    });
    expect(fetched).toEqual([]);

    const stored = await patient.submitEvaluation({ overall: 4, communication: 5, comment: '谢谢医生' });
    expect(stored).toMatchObject({ room: 'sdk-ev-1', overall: 4, communication: 5, comment: '谢谢医生' });
    expect(stored.by).toMatchObject({ identity: 'pt-sdk-ev-1', role: 'patient' });
    expect(fetched).toEqual([`${t.url}/api/rooms/sdk-ev-1/evaluation`]);

    const again = patient.submitEvaluation({ overall: 1 });
    await expect(again).rejects.toBeInstanceOf(HuizhenError);
    await expect(again).rejects.toMatchObject({ code: ErrorCode.ALREADY_EVALUATED });
    // The doctor's room cannot rate it: the server says why.
    await expect(doctor.submitEvaluation({ overall: 5 })).rejects.toMatchObject({
      code: ErrorCode.PERMISSION_DENIED,
    });
  }, 60_000);

  it('rates with a token alone, as a patient coming back later would', async () => {
    await endedConsult('sdk-ev-2').then(({ doctor }) => doctor.end());
    const token = t.token('pt-sdk-ev-2', 'patient', 'sdk-ev-2');
    await expect(submitEvaluation(t.url, token, 'sdk-ev-2', { overall: 0 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
      message: 'overall: must be >= 1',
    });
    await expect(submitEvaluation(t.url, token, 'sdk-ev-1', { overall: 3 })).rejects.toMatchObject({
      code: ErrorCode.TOKEN_ROOM_MISMATCH,
    });
    const stored = await submitEvaluation(t.url.replace(/^http/, 'ws') + '/ws', token, 'sdk-ev-2', {
      overall: 3,
      waitingTime: 2,
    });
    expect(stored).toMatchObject({ room: 'sdk-ev-2', overall: 3, waitingTime: 2 });
    await expect(submitEvaluation('http://127.0.0.1:9', token, 'sdk-ev-2', { overall: 3 })).rejects.toMatchObject({
      code: ErrorCode.CONNECTION_FAILED,
    });
  }, 60_000);
});
