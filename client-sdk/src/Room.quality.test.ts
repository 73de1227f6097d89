/**
 * Connection quality and the network audio-only state in the SDK, against the
 * scripted server: participants' state and events, the camera held back for a
 * weak uplink (not a mute), and the stats report the SDK sends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHuizhenServer, mediasoupDevice, participant, webSocketFactory } from '../test-support/fakeServer.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import type { ConnectOptions } from './options.js';
import type { Room } from './Room.js';

/** The next `event` of a participant (nextEvent is for the room's events). */
function nextOf(emitter: object, event: string): Promise<unknown[]> {
  const target = emitter as { once(event: string, listener: (...args: unknown[]) => void): unknown };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event`)), 3000);
    target.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

describe('connection quality in the SDK', () => {
  let server: FakeHuizhenServer;
  let room: Room | undefined;
  const options = (): ConnectOptions => ({ webSocketFactory, mediasoupDevice, requestTimeoutMs: 2000 });

  beforeEach(async () => {
    server = await FakeHuizhenServer.start();
  });

  afterEach(async () => {
    await room?.disconnect();
    room = undefined;
    await server.close();
  });

  it("keeps each participant's quality and audio-only state, with events on the room and the participant", async () => {
    server.others = [participant('patient-li', { role: 'patient' })];
    room = await connect(server.url, 't', options());
    const li = room.remoteParticipants.get('patient-li')!;
    expect(li.connectionQuality).toBe('unknown');
    expect(li.audioOnly).toBe(false);

    const onParticipant = nextOf(li, 'connectionQualityChanged');
    const onRoom = nextEvent(room, 'connectionQualityChanged');
    server.notify('connectionQualityChanged', { identity: 'patient-li', quality: 'poor', downlink: 'poor' });
    expect(await onRoom).toEqual(['poor', li]);
    expect(await onParticipant).toEqual(['poor']);
    expect(li.connectionQuality).toBe('poor');

    const audioOnly = nextEvent(room, 'audioOnlyChanged');
    server.notify('audioOnlyChanged', {
      identity: 'patient-li',
      audioOnly: true,
      reason: 'network',
      direction: 'uplink',
    });
    expect(await audioOnly).toEqual([li, true, 'uplink']);
    expect(li.audioOnly).toBe(true);
    expect(li.audioOnlyDirections).toEqual(['uplink']);

    server.notify('audioOnlyChanged', {
      identity: 'patient-li',
      audioOnly: false,
      reason: 'network',
      direction: 'uplink',
    });
    await nextOf(li, 'audioOnlyChanged');
    expect(li.audioOnly).toBe(false);
  });

  it('holds the camera back for a weak uplink without muting it, and never touches the microphone', async () => {
    room = await connect(server.url, 't', options());
    const lp = room.localParticipant;
    const cam = await lp.publishCamera({ track: fakeTrack('video') });
    const mic = await lp.publishMicrophone({ track: fakeTrack('audio') });
    const before = server.methods().length;

    const changed = nextEvent(room, 'audioOnlyChanged');
    server.notify('audioOnlyChanged', { identity: 'me', audioOnly: true, reason: 'network', direction: 'uplink' });
    expect(await changed).toEqual([lp, true, 'uplink']);
    expect(cam.pausedForNetwork).toBe(true);
    expect(cam.producer.paused).toBe(true);
    // Not a mute: the person's own state, and the others' view of it, stay as they were.
    expect(cam.muted).toBe(false);
    expect(mic.producer.paused).toBe(false);
    expect(server.methods().slice(before)).not.toContain('setProducerPaused');

    // The person mutes meanwhile: when the link recovers, the camera stays muted.
    await cam.mute();
    server.notify('audioOnlyChanged', { identity: 'me', audioOnly: false, reason: 'network', direction: 'uplink' });
    await nextOf(lp, 'audioOnlyChanged');
    expect(cam.pausedForNetwork).toBe(false);
    expect(cam.producer.paused).toBe(true);
    await cam.unmute();
    expect(cam.producer.paused).toBe(false);
  });

  it('unmuting during a network pause does not send video until the link allows', async () => {
    room = await connect(server.url, 't', options());
    const cam = await room.localParticipant.publishCamera({ track: fakeTrack('video'), muted: true });
    server.notify('audioOnlyChanged', { identity: 'me', audioOnly: true, reason: 'network', direction: 'uplink' });
    await nextOf(room.localParticipant, 'audioOnlyChanged');
    await cam.unmute();
    expect(cam.muted).toBe(false);
    expect(cam.producer.paused).toBe(true);
  });
});
