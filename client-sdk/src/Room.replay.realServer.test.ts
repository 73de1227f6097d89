/**
 * Subscribe-with-replay against a real Huizhen server (real signaling, real
 * mediasoup worker; the fake WebRTC handler stands in for the browser's): a
 * listener added long after the tracks of the people already in the room
 * arrived gets each of them once, then the live ones, and stops when told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../server/src/testing/testServer.js';
import { mediasoupDevice, webSocketFactory } from '../test-support/fakeServer.js';
import { fakeTrack } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { RoomEvent } from './events.js';
import type { Room } from './Room.js';

let t: TestServer;
const rooms: Room[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await Promise.all(rooms.map((r) => r.disconnect()));
  await t.close();
});

async function join(identity: string, role: 'doctor' | 'specialist', roomId: string): Promise<Room> {
  const room = await connect(t.url, t.token(identity, role, roomId, { name: identity }), {
    mediasoupDevice,
    webSocketFactory,
  });
  rooms.push(room);
  return room;
}

const received = (room: Room): string[] =>
  [...room.remoteParticipants.values()].flatMap((p) =>
    [...p.tracks.values()].map((tr) => `${p.identity}/${tr.source}`),
  );

describe('subscribe with replay on the real server', () => {
  it('gives a late listener the tracks already received, once, then the new ones, until unsubscribed', async () => {
    const doctor = await join('dr-replay', 'doctor', 'replay-real-1');
    await doctor.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    const specialist = await join('sp-replay', 'specialist', 'replay-real-1');
    // The late listener: the doctor's microphone has been received and announced before it listens.
    await expect.poll(() => received(specialist), { timeout: 10_000 }).toEqual(['dr-replay/microphone']);

    const plain: string[] = [];
    specialist.on(RoomEvent.TrackSubscribed, (track, who) => plain.push(`${who.identity}/${track.source}`));
    const replayed: string[] = [];
    const stop = specialist.subscribe(
      RoomEvent.TrackSubscribed,
      (track, who) => replayed.push(`${who.identity}/${track.source}`),
      { replay: true },
    );
    const viaOnTrack: string[] = [];
    const stopOnTrack = specialist.onTrack((track) => viaOnTrack.push(track.source));
    // Delivered synchronously, inside subscribe: nothing can arrive in between.
    expect(replayed).toEqual(['dr-replay/microphone']);
    expect(viaOnTrack).toEqual(['microphone']);
    expect(plain).toEqual([]);

    const states: string[] = [];
    specialist.subscribe(RoomEvent.ConnectionStateChanged, (state) => states.push(state), { replay: true });
    expect(states).toEqual(['connected']);
    const joined: string[] = [];
    specialist.subscribe(RoomEvent.ParticipantJoined, (p) => joined.push(p.identity), { replay: true })();
    expect(joined).toEqual(['dr-replay']);
    expect(specialist.participants.map((p) => p.identity)).toEqual(['sp-replay', 'dr-replay']);

    await doctor.localParticipant.setCameraEnabled(true, { track: fakeTrack('video') });
    await expect.poll(() => plain, { timeout: 10_000 }).toEqual(['dr-replay/camera']);
    expect(replayed).toEqual(['dr-replay/microphone', 'dr-replay/camera']);
    expect(viaOnTrack).toEqual(['microphone', 'camera']);

    stop();
    stop(); // twice is harmless
    stopOnTrack();
    await doctor.localParticipant.setScreenShareEnabled(true, { track: fakeTrack('video') });
    await expect.poll(() => plain, { timeout: 10_000 }).toEqual(['dr-replay/camera', 'dr-replay/screen']);
    expect(replayed).toEqual(['dr-replay/microphone', 'dr-replay/camera']);
    expect(viaOnTrack).toEqual(['microphone', 'camera']);

    // The publisher's own tracks replay as localTrackPublished.
    const local: string[] = [];
    doctor.subscribe(RoomEvent.LocalTrackPublished, (track) => local.push(track.source), { replay: true });
    expect(local.sort()).toEqual(['camera', 'microphone', 'screen']);
  });
});
