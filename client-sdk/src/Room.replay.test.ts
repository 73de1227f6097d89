/**
 * Subscribe-with-replay: a listener added after `connect()` resolved and after
 * the tracks of the people already in the room arrived (a React effect that
 * runs late) still gets every track and participant, once, and then the live
 * events. Runs the SDK's real consume path against the scripted server.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  FakeHuizhenServer,
  consumerCreated,
  mediasoupDevice,
  participant,
  webSocketFactory,
} from '../test-support/fakeServer.js';
import { connect } from './connect.js';
import { RoomEvent } from './events.js';
import type { ConnectOptions } from './options.js';
import { ConnectionErrorReason } from './errors.js';
import { Room } from './Room.js';

describe('room.on(event, listener, { replay: true })', () => {
  let server: FakeHuizhenServer;
  let room: Room | undefined;
  const options = (): ConnectOptions => ({ webSocketFactory, mediasoupDevice, requestTimeoutMs: 2000 });

  beforeEach(async () => {
    server = await FakeHuizhenServer.start();
    server.others = [participant('dr-zhang'), participant('pt-li', { role: 'patient' })];
    server.initialConsumers = [
      consumerCreated({ consumerId: 'c-1', trackId: 'z-mic', participantIdentity: 'dr-zhang', kind: 'audio' }),
      consumerCreated({ consumerId: 'c-2', trackId: 'z-cam', participantIdentity: 'dr-zhang', kind: 'video' }),
      consumerCreated({ consumerId: 'c-3', trackId: 'l-cam', participantIdentity: 'pt-li', kind: 'video' }),
    ];
  });

  afterEach(async () => {
    await room?.disconnect();
    room = undefined;
    await server.close();
  });

  const receivedTracks = (r: Room): number => [...r.remoteParticipants.values()].reduce((n, p) => n + p.tracks.size, 0);

  it('gives a late listener every track already received, then the new ones, each once', async () => {
    room = await connect(server.url, 't', options());
    const r = room;
    // The late subscriber: every initial track has been received and announced before it listens.
    await vi.waitFor(() => expect(receivedTracks(r)).toBe(3), { timeout: 10_000 });

    const plain: string[] = [];
    r.on(RoomEvent.TrackSubscribed, (track) => plain.push(track.trackId));
    const replayed: string[] = [];
    r.on(RoomEvent.TrackSubscribed, (track, who) => replayed.push(`${who.identity}/${track.trackId}`), {
      replay: true,
    });
    // Without replay those tracks are missed: that is the race replay removes.
    expect(plain).toEqual([]);
    expect(replayed.sort()).toEqual(['dr-zhang/z-cam', 'dr-zhang/z-mic', 'pt-li/l-cam']);

    server.notify(
      'consumerCreated',
      consumerCreated({ consumerId: 'c-4', trackId: 'l-mic', participantIdentity: 'pt-li', kind: 'audio' }),
    );
    await vi.waitFor(() => expect(plain).toEqual(['l-mic']), { timeout: 10_000 });
    expect(replayed.filter((t) => t === 'pt-li/l-mic')).toEqual(['pt-li/l-mic']);
    expect(replayed).toHaveLength(4);
  });

  it('replays the participants already in the room, and nothing for events without state', async () => {
    room = await connect(server.url, 't', options());
    const joined: string[] = [];
    room.on(RoomEvent.ParticipantJoined, (p) => joined.push(p.identity), { replay: true });
    expect(joined.sort()).toEqual(['dr-zhang', 'pt-li']);

    const chats: unknown[] = [];
    room.on(RoomEvent.Chat, (message) => chats.push(message), { replay: true });
    expect(chats).toEqual([]);

    server.notify('participantJoined', { participant: participant('nurse-wu', { role: 'nurse' }) });
    await vi.waitFor(() => expect(joined).toContain('nurse-wu'), { timeout: 10_000 });
    expect(joined).toHaveLength(3);
  });
  it("follows the README's React pattern through StrictMode's double effect", async () => {
    // Effect, cleanup, effect: the first room is cancelled by its own cleanup, the second stays.
    const first = new Room(options());
    const firstConnect = first.connect(server.url, 't');
    void first.disconnect();
    await expect(firstConnect).rejects.toMatchObject({ reason: ConnectionErrorReason.Cancelled });
    room = new Room(options());
    await room.connect(server.url, 't');
    expect(first.state).toBe('disconnected');
    expect(room.state).toBe('connected');
    // The listening effect runs whenever it runs; with replay it still sees every track.
    const r = room;
    await vi.waitFor(() => expect(receivedTracks(r)).toBe(3), { timeout: 10_000 });
    const tracks: string[] = [];
    r.on(RoomEvent.TrackSubscribed, (track) => tracks.push(track.trackId), { replay: true });
    expect(tracks.sort()).toEqual(['l-cam', 'z-cam', 'z-mic']);
  });
});
