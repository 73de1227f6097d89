/**
 * Connection quality and the network audio-only state in the SDK, against the
 * scripted server: participants' state and events, the camera held back for a
 * weak uplink (not a mute), and the stats report the SDK sends.
 */
import { describe, expect, it } from 'vitest';
import { participant } from '../test-support/fakeServer.js';
import { connectOptions, useFakeServer } from '../test-support/fakeServerTest.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';

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
  const ctx = useFakeServer();

  it("keeps each participant's quality and audio-only state, with events on the room and the participant", async () => {
    ctx.server.others = [participant('patient-li', { role: 'patient' })];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const li = ctx.room.remoteParticipants.get('patient-li')!;
    expect(li.connectionQuality).toBe('unknown');
    expect(li.audioOnly).toBe(false);

    const onParticipant = nextOf(li, 'connectionQualityChanged');
    const onRoom = nextEvent(ctx.room, 'connectionQualityChanged');
    ctx.server.notify('connectionQualityChanged', { identity: 'patient-li', quality: 'poor', downlink: 'poor' });
    expect(await onRoom).toEqual(['poor', li]);
    expect(await onParticipant).toEqual(['poor']);
    expect(li.connectionQuality).toBe('poor');

    const audioOnly = nextEvent(ctx.room, 'audioOnlyChanged');
    ctx.server.notify('audioOnlyChanged', {
      identity: 'patient-li',
      audioOnly: true,
      reason: 'network',
      direction: 'uplink',
    });
    expect(await audioOnly).toEqual([li, true, 'uplink']);
    expect(li.audioOnly).toBe(true);
    expect(li.audioOnlyDirections).toEqual(['uplink']);

    ctx.server.notify('audioOnlyChanged', {
      identity: 'patient-li',
      audioOnly: false,
      reason: 'network',
      direction: 'uplink',
    });
    await nextOf(li, 'audioOnlyChanged');
    expect(li.audioOnly).toBe(false);
  });

  it('holds the camera back for a weak uplink without muting it, and never touches the microphone', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const lp = ctx.room.localParticipant;
    const cam = await lp.publishCamera({ track: fakeTrack('video') });
    const mic = await lp.publishMicrophone({ track: fakeTrack('audio') });
    const before = ctx.server.methods().length;

    const changed = nextEvent(ctx.room, 'audioOnlyChanged');
    ctx.server.notify('audioOnlyChanged', { identity: 'me', audioOnly: true, reason: 'network', direction: 'uplink' });
    expect(await changed).toEqual([lp, true, 'uplink']);
    expect(cam.pausedForNetwork).toBe(true);
    expect(cam.producer.paused).toBe(true);
    // Not a mute: the person's own state, and the others' view of it, stay as they were.
    expect(cam.muted).toBe(false);
    expect(mic.producer.paused).toBe(false);
    expect(ctx.server.methods().slice(before)).not.toContain('setProducerPaused');

    // The person mutes meanwhile: when the link recovers, the camera stays muted.
    await cam.mute();
    ctx.server.notify('audioOnlyChanged', { identity: 'me', audioOnly: false, reason: 'network', direction: 'uplink' });
    await nextOf(lp, 'audioOnlyChanged');
    expect(cam.pausedForNetwork).toBe(false);
    expect(cam.producer.paused).toBe(true);
    await cam.unmute();
    expect(cam.producer.paused).toBe(false);
  });

  it('unmuting during a network pause does not send video until the link allows', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const cam = await ctx.room.localParticipant.publishCamera({ track: fakeTrack('video'), muted: true });
    ctx.server.notify('audioOnlyChanged', { identity: 'me', audioOnly: true, reason: 'network', direction: 'uplink' });
    await nextOf(ctx.room.localParticipant, 'audioOnlyChanged');
    await cam.unmute();
    expect(cam.muted).toBe(false);
    expect(cam.producer.paused).toBe(true);
  });
});
