/**
 * Room against a scripted signaling server, with mediasoup-client's fake
 * WebRTC handler: the SDK's real device, transport, consume and produce code
 * runs; only the browser's peer connection is faked.
 */
import { type FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import { describe, expect, it } from 'vitest';
import {
  FakeHuizhenServer,
  WireFailure,
  consumerCreated,
  participant,
  recordingDevice,
  webSocketFactory,
} from '../test-support/fakeServer.js';
import { connectOptions, useFakeServer } from '../test-support/fakeServerTest.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ConnectionError, DisconnectReason, ErrorCode, HuizhenError } from './errors.js';
import { RoomEvent } from './events.js';
import { noReconnect } from './ReconnectPolicy.js';
import { Room } from './Room.js';
import type { RemoteTrack } from './tracks.js';

describe('Room', () => {
  const ctx = useFakeServer();

  it('joins, sets up media and exposes the room, itself and the others', async () => {
    ctx.server.others = [
      participant('dr-zhang', {
        name: 'Dr Zhang',
        tracks: [{ trackId: 'p-mic', kind: 'audio', source: 'microphone', muted: true }],
      }),
    ];
    ctx.room = await connect(ctx.server.url, 'the-token', connectOptions());

    expect(ctx.room.state).toBe('connected');
    expect(ctx.room.name).toBe('consult-42');
    expect(ctx.room.sessionId).toBe('sess-1');
    expect(ctx.room.tokenExpiresAt).toBeGreaterThan(Date.now());
    expect(ctx.room.localParticipant).toMatchObject({ identity: 'me', name: 'Me', role: 'specialist' });
    // The server lists the joiner among participants too; it must not appear as remote.
    expect([...ctx.room.remoteParticipants.keys()]).toEqual(['dr-zhang']);
    const dr = ctx.room.remoteParticipants.get('dr-zhang');
    expect(dr).toMatchObject({ name: 'Dr Zhang', role: 'doctor', isSpeaking: false });
    expect(dr?.publishedTracks.get('p-mic')).toMatchObject({ source: 'microphone', muted: true });

    expect(ctx.server.requests[0]).toMatchObject({ method: 'join', data: { protocolVersion: 1, token: 'the-token' } });
    expect(ctx.server.methods().slice(0, 3)).toEqual(['join', 'createTransport', 'setRtpCapabilities']);
    // The device's SCTP capabilities ask for data channels on the transport.
    expect(ctx.server.requests[1]?.data).toEqual({
      direction: 'recv',
      sctpCapabilities: { numStreams: { OS: expect.any(Number), MIS: expect.any(Number) } },
    });
    // Observers and listeners need no send transport: it is created on first publish.
    expect(ctx.server.requests.filter((r) => r.method === 'createTransport')).toHaveLength(1);
    const caps = ctx.server.requests[2]?.data.rtpCapabilities as { codecs?: unknown[] };
    expect(caps.codecs?.length).toBeGreaterThan(0);
  });

  it('subscribes to tracks offered during connect, after the caller can listen', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.server.initialConsumers = [
      consumerCreated({
        consumerId: 'c-1',
        trackId: 'p-mic',
        participantIdentity: 'dr-zhang',
        kind: 'audio',
        producerPaused: true,
      }),
      consumerCreated({ consumerId: 'c-2', trackId: 'p-cam', participantIdentity: 'dr-zhang', kind: 'video' }),
    ];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    // Registered only after connect() resolved, as an application would.
    const subscribed: [RemoteTrack, string][] = [];
    const both = new Promise<void>((resolve) =>
      ctx.room!.on(RoomEvent.TrackSubscribed, (track, p) => {
        subscribed.push([track, p.identity]);
        if (subscribed.length === 2) resolve();
      }),
    );
    await both;

    // In order, each resumed on the server after the local consumer exists.
    expect(subscribed.map(([t, who]) => [t.trackId, t.consumerId, t.kind, t.source, who])).toEqual([
      ['p-mic', 'c-1', 'audio', 'microphone', 'dr-zhang'],
      ['p-cam', 'c-2', 'video', 'camera', 'dr-zhang'],
    ]);
    const [mic] = subscribed[0]!;
    expect(mic.muted).toBe(true);
    expect(mic.enabled).toBe(true);
    expect(mic.mediaStreamTrack.kind).toBe('audio');
    const resumes = ctx.server.requests.filter((r) => r.method === 'resumeConsumer').map((r) => r.data.consumerId);
    expect(resumes).toEqual(['c-1', 'c-2']);
    // The receive transport connected (DTLS) before the first resume.
    expect(ctx.server.methods().indexOf('connectTransport')).toBeLessThan(
      ctx.server.methods().indexOf('resumeConsumer'),
    );
    expect(ctx.room.remoteParticipants.get('dr-zhang')?.tracks.size).toBe(2);
  });

  it('holds events that arrive while connecting until the caller of connect() can listen', async () => {
    ctx.server.setupNotifications = [
      ['participantJoined', { participant: participant('nurse-wu', { role: 'nurse' }) }],
    ];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    // The participant is known at once; the event comes after the caller had its turn.
    expect(ctx.room.remoteParticipants.has('nurse-wu')).toBe(false);
    const [nurse] = await nextEvent(ctx.room, 'participantJoined');
    expect(nurse.identity).toBe('nurse-wu');
  });

  it('follows a participant through join, mute, unpublish and leave', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const r = ctx.room;
    const events: string[] = [];
    for (const event of [
      'participantJoined',
      'participantLeft',
      'trackSubscribed',
      'trackUnsubscribed',
      'trackMuted',
      'trackUnmuted',
    ] as const) {
      r.on(event, ((a: { identity?: string; trackId?: string }, b?: { identity: string } | string) =>
        events.push(
          `${event}:${a.trackId ?? a.identity}${typeof b === 'object' ? `@${b.identity}` : b ? `:${b}` : ''}`,
        )) as never);
    }

    const joined = nextEvent(r, 'participantJoined');
    ctx.server.notify('participantJoined', { participant: participant('nurse-wu', { role: 'nurse' }) });
    const [nurse] = await joined;
    expect(nurse.role).toBe('nurse');
    expect(r.remoteParticipants.get('nurse-wu')).toBe(nurse);

    const subscribed = nextEvent(r, 'trackSubscribed');
    ctx.server.notify(
      'consumerCreated',
      consumerCreated({ consumerId: 'c-9', trackId: 'p-9', participantIdentity: 'nurse-wu', kind: 'video' }),
    );
    const [track] = await subscribed;

    const muted = nextEvent(r, 'trackMuted');
    ctx.server.notify('trackMuted', { participantIdentity: 'nurse-wu', trackId: 'p-9' });
    await muted;
    expect(track.muted).toBe(true);
    const unmuted = nextEvent(r, 'trackUnmuted');
    ctx.server.notify('trackUnmuted', { participantIdentity: 'nurse-wu', trackId: 'p-9' });
    await unmuted;
    expect(track.muted).toBe(false);

    const unsubscribed = nextEvent(r, 'trackUnsubscribed');
    ctx.server.notify('consumerClosed', { consumerId: 'c-9', trackId: 'p-9', participantIdentity: 'nurse-wu' });
    await unsubscribed;
    expect(track.isEnded).toBe(true);
    expect(nurse.tracks.size).toBe(0);
    expect(nurse.publishedTracks.has('p-9')).toBe(false);

    // Leaving with a track still subscribed unsubscribes it first.
    const again = nextEvent(r, 'trackSubscribed');
    ctx.server.notify(
      'consumerCreated',
      consumerCreated({ consumerId: 'c-10', trackId: 'p-10', participantIdentity: 'nurse-wu' }),
    );
    await again;
    const left = nextEvent(r, 'participantLeft');
    ctx.server.notify('participantLeft', { identity: 'nurse-wu', reason: 'left' });
    const [gone, reason] = await left;
    expect(gone).toBe(nurse);
    expect(reason).toBe('left');
    expect(r.remoteParticipants.size).toBe(0);

    expect(events).toEqual([
      'participantJoined:nurse-wu',
      'trackSubscribed:p-9@nurse-wu',
      'trackMuted:p-9@nurse-wu',
      'trackUnmuted:p-9@nurse-wu',
      'trackUnsubscribed:p-9@nurse-wu',
      'trackSubscribed:p-10@nurse-wu',
      'trackUnsubscribed:p-10@nurse-wu',
      'participantLeft:nurse-wu:left',
    ]);
  });

  it('tracks the active speaker, local or remote', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const dr = ctx.room.remoteParticipants.get('dr-zhang')!;

    let changed = nextEvent(ctx.room, 'activeSpeakerChanged');
    ctx.server.notify('activeSpeakerChanged', { identity: 'dr-zhang' });
    expect((await changed)[0]).toBe(dr);
    expect(dr.isSpeaking).toBe(true);
    expect(ctx.room.activeSpeaker).toBe(dr);

    changed = nextEvent(ctx.room, 'activeSpeakerChanged');
    ctx.server.notify('activeSpeakerChanged', { identity: 'me' });
    expect((await changed)[0]).toBe(ctx.room.localParticipant);
    expect(dr.isSpeaking).toBe(false);
    expect(ctx.room.localParticipant.isSpeaking).toBe(true);

    changed = nextEvent(ctx.room, 'activeSpeakerChanged');
    ctx.server.notify('activeSpeakerChanged', { identity: null });
    expect((await changed)[0]).toBeNull();
    expect(ctx.room.localParticipant.isSpeaking).toBe(false);
  });

  it('records the simulcast layers the server forwards', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.server.initialConsumers = [
      consumerCreated({ consumerId: 'c-v', trackId: 'p-v', participantIdentity: 'dr-zhang', kind: 'video' }),
    ];
    ctx.room = new Room(connectOptions());
    const subscribed = nextEvent(ctx.room, 'trackSubscribed');
    await ctx.room.connect(ctx.server.url, 't');
    const [track] = await subscribed;
    const layers = new Promise((resolve) => track.once('layersChanged', resolve));
    ctx.server.notify('consumerLayersChanged', { consumerId: 'c-v', spatialLayer: 1, temporalLayer: 2 });
    expect(await layers).toEqual({ spatialLayer: 1, temporalLayer: 2 });
    expect(track.layers).toEqual({ spatialLayer: 1, temporalLayer: 2 });
  });

  it('reports a track it cannot set up instead of stalling later ones', async () => {
    ctx.server.others = [participant('dr-zhang')];
    const broken = consumerCreated({ consumerId: 'c-bad', trackId: 'p-bad', participantIdentity: 'dr-zhang' });
    broken.rtpParameters = { codecs: [] };
    ctx.server.initialConsumers = [
      broken,
      consumerCreated({ consumerId: 'c-ok', trackId: 'p-ok', participantIdentity: 'dr-zhang' }),
    ];
    ctx.room = new Room(connectOptions());
    const failed = nextEvent(ctx.room, 'trackSubscriptionFailed');
    const subscribed = nextEvent(ctx.room, 'trackSubscribed');
    await ctx.room.connect(ctx.server.url, 't');
    const [trackId, who, error] = await failed;
    expect(trackId).toBe('p-bad');
    expect(who.identity).toBe('dr-zhang');
    expect(error).toBeInstanceOf(Error);
    expect((await subscribed)[0].trackId).toBe('p-ok');
  });

  it('leaves consumers paused until enabled when autoSubscribe is false', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.server.initialConsumers = [
      consumerCreated({ consumerId: 'c-1', trackId: 'p-1', participantIdentity: 'dr-zhang' }),
    ];
    ctx.room = new Room({ ...connectOptions(), autoSubscribe: false });
    const subscribed = nextEvent(ctx.room, 'trackSubscribed');
    await ctx.room.connect(ctx.server.url, 't');
    const [track] = await subscribed;
    expect(track.enabled).toBe(false);
    expect(ctx.server.methods()).not.toContain('resumeConsumer');
    await track.setEnabled(true);
    expect(ctx.server.requests.at(-1)).toMatchObject({ method: 'resumeConsumer', data: { consumerId: 'c-1' } });
    await track.setEnabled(false);
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'setConsumerPaused',
      data: { consumerId: 'c-1', paused: true },
    });
    await track.setEnabled(true);
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'setConsumerPaused',
      data: { consumerId: 'c-1', paused: false },
    });
  });

  it('publishes, mutes, unmutes and unpublishes a microphone', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const lp = ctx.room.localParticipant;
    const published = nextEvent(ctx.room, 'localTrackPublished');
    const mic = await lp.publishMicrophone({ track: fakeTrack('audio') });
    expect(await published).toEqual([mic, lp]);
    expect(mic.trackId).toBe('prod-1');
    expect(mic.source).toBe('microphone');
    expect(lp.tracks.get('prod-1')).toBe(mic);
    const produce = ctx.server.requests.find((r) => r.method === 'produce');
    expect(produce?.data).toMatchObject({ kind: 'audio', source: 'microphone' });
    expect(produce?.data.paused).toBeUndefined();
    const sendTransport = ctx.server.requests.find(
      (r) => r.method === 'createTransport' && r.data.direction === 'send',
    );
    expect(sendTransport).toBeDefined();

    await expect(lp.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.INVALID_STATE,
    });

    await lp.setMicrophoneEnabled(false);
    expect(mic.muted).toBe(true);
    expect(mic.mediaStreamTrack.enabled).toBe(false);
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'setProducerPaused',
      data: { producerId: 'prod-1', paused: true },
    });
    await lp.setMicrophoneEnabled(true);
    expect(mic.muted).toBe(false);
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'setProducerPaused',
      data: { producerId: 'prod-1', paused: false },
    });

    const unpublished = nextEvent(ctx.room, 'localTrackUnpublished');
    await mic.unpublish();
    await unpublished;
    expect(ctx.server.requests.at(-1)).toMatchObject({ method: 'closeProducer', data: { producerId: 'prod-1' } });
    expect(lp.tracks.size).toBe(0);
    // An app-supplied track is the app's to stop.
    expect(mic.mediaStreamTrack.readyState).toBe('live');
  });

  it('asks for Opus DTX and FEC on the microphone', async () => {
    const recorder = recordingDevice();
    ctx.room = await connect(ctx.server.url, 't', { ...connectOptions(), mediasoupDevice: recorder.device });
    await ctx.room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    expect(recorder.sends[0]?.codecOptions).toMatchObject({ opusDtx: true, opusFec: true });
    expect(recorder.sends[0]?.encodings).toBeUndefined();
  });

  it('publishes a camera with three simulcast layers and can start muted', async () => {
    const recorder = recordingDevice();
    ctx.room = await connect(ctx.server.url, 't', { ...connectOptions(), mediasoupDevice: recorder.device });
    const cam = await ctx.room.localParticipant.publishCamera({ track: fakeTrack('video'), muted: true });
    const produce = ctx.server.requests.find((r) => r.method === 'produce');
    expect(produce?.data).toMatchObject({ kind: 'video', source: 'camera', paused: true });
    expect((produce?.data.rtpParameters as { encodings: unknown[] }).encodings).toHaveLength(3);
    expect(recorder.sends[0]?.encodings).toMatchObject([
      { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
      { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
      { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
    ]);
    expect(recorder.sends[0]?.codecOptions).toMatchObject({ videoGoogleStartBitrate: 1000 });
    expect(cam.muted).toBe(true);
    expect(cam.mediaStreamTrack.enabled).toBe(false);
  });

  it('restarts ICE when a transport fails', async () => {
    const recorder = recordingDevice();
    ctx.room = await connect(ctx.server.url, 't', { ...connectOptions(), mediasoupDevice: recorder.device });
    // Only the receive transport exists so far.
    expect(recorder.handlers).toHaveLength(1);
    const stateChanged = nextEvent(ctx.room, 'mediaConnectionStateChanged');
    const restartRequest = ctx.server.waitForRequest('restartIce');
    const handler = recorder.handlers[0] as unknown as {
      setConnectionState(state: string): void;
      restartIce: (p: unknown) => Promise<void>;
    };
    const restarted = new Promise((resolve) => {
      const original = handler.restartIce.bind(handler);
      handler.restartIce = async (params) => {
        await original(params);
        resolve(params);
      };
    });
    handler.setConnectionState('failed');
    expect(await stateChanged).toEqual(['recv', 'failed']);
    expect((await restartRequest).data).toEqual({ transportId: expect.stringMatching(/.+/) });
    // The new ICE parameters from the server reach the transport.
    expect(await restarted).toMatchObject({ usernameFragment: 'u2', password: 'p2' });
  });

  it('keeps a mute local and rethrows when the server refuses it; unmute stays muted on refusal', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const cam = await ctx.room.localParticipant.publishCamera({ track: fakeTrack('video') });
    ctx.server.handlers.setProducerPaused = () => {
      throw new WireFailure('PERMISSION_DENIED', 'nope');
    };
    await expect(cam.mute()).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });
    expect(cam.muted).toBe(true);
    await expect(cam.unmute()).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });
    expect(cam.muted).toBe(true);
  });

  it('unpublishes a track whose source ends (the user stopped a screen share)', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const media = fakeTrack('video') as unknown as FakeMediaStreamTrack;
    const screen = await ctx.room.localParticipant.publishScreen({ track: media as unknown as MediaStreamTrack });
    const unpublished = nextEvent(ctx.room, 'localTrackUnpublished');
    media.remoteStop();
    const [track] = await unpublished;
    expect(track).toBe(screen);
    await ctx.server.waitForRequest('closeProducer');
    expect(ctx.room.localParticipant.getTrack('screen')).toBeUndefined();
  });

  it('waits in the lobby, then sets up media when admitted', async () => {
    ctx.server.waiting = true;
    ctx.server.others = [participant('dr-zhang')];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.state).toBe('connected');
    expect(ctx.room.admission).toBe('waiting');
    expect(ctx.room.name).toBe('consult-42');
    expect(ctx.room.remoteParticipants.size).toBe(0);
    expect(ctx.server.methods()).toEqual(['join']);
    await expect(ctx.room.localParticipant.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.NOT_ADMITTED,
    });

    const admitted = nextEvent(ctx.room, 'admitted');
    const { admission: _admission, ...view } = ctx.server.roomView();
    ctx.server.notify('admitted', view);
    await admitted;
    expect(ctx.room.admission).toBe('admitted');
    expect(ctx.room.info?.state).toBe('active');
    expect([...ctx.room.remoteParticipants.keys()]).toEqual(['dr-zhang']);
    // The receiving data channels connect the receive transport (connectTransport follows).
    expect(ctx.server.methods().slice(0, 4)).toEqual([
      'join',
      'createTransport',
      'setRtpCapabilities',
      'subscribeData',
    ]);
    const mic = await ctx.room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    expect(mic.trackId).toBe('prod-1');
  });

  it('disconnects with admissionDenied when a clinician declines', async () => {
    ctx.server.waiting = true;
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.notify('sessionClosed', { code: 'ADMISSION_DENIED', reason: 'Please rebook' });
    ctx.server.socket?.close(4007, 'denied');
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.AdmissionDenied);
    expect(error).toMatchObject({ code: ErrorCode.ADMISSION_DENIED, message: 'Please rebook' });
  });

  it('pauses a track locally when a host mutes it', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const mic = await ctx.room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    const mutedByHost = nextEvent(ctx.room, 'mutedByHost');
    const by = { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' as const };
    ctx.server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by, allowUnmute: false });
    expect(await mutedByHost).toEqual([mic, by, false]);
    expect(mic.muted).toBe(true);
    expect(mic.mediaStreamTrack.enabled).toBe(false);
  });

  it('keeps room info current', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const updated = nextEvent(ctx.room, 'roomUpdated');
    ctx.server.notify('roomUpdated', { room: { ...ctx.server.roomView().room, locked: true } });
    await updated;
    expect(ctx.room.info?.locked).toBe(true);
  });

  it('refuses to publish when not connected', async () => {
    ctx.room = new Room(connectOptions());
    await expect(ctx.room.localParticipant.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.NOT_JOINED,
    });
  });

  it('rejects connect() with the server code when the join is refused', async () => {
    ctx.server.handlers.join = () => {
      throw new WireFailure('TOKEN_EXPIRED', 'The join token expired');
    };
    const error = await connect(ctx.server.url, 't', connectOptions()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({
      code: ErrorCode.TOKEN_EXPIRED,
      reason: 'rejected',
      message: 'The join token expired',
    });
  });

  it('rejects connect() with the sessionClosed code when the server closes instead of answering', async () => {
    ctx.server.handlers.join = (_data, s) => {
      s.notify('sessionClosed', { code: 'ROOM_FULL', reason: 'The consult room is full' });
      setTimeout(() => s.socket?.close(4004, 'full'), 10);
      return undefined;
    };
    const error = await connect(ctx.server.url, 't', connectOptions()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.ROOM_FULL, reason: 'rejected' });
  });

  it('rejects connect() with CONNECTION_FAILED when no server listens', async () => {
    const url = ctx.server.url;
    await ctx.server.close();
    const error = await connect(url, 't', connectOptions()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'serverUnreachable' });
    ctx.server = await FakeHuizhenServer.start();
  });

  it('rejects connect() with TIMEOUT when join is never answered', async () => {
    ctx.server.handlers.join = () => undefined;
    const error = await connect(ctx.server.url, 't', { ...connectOptions(), requestTimeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT, reason: 'timeout' });
  });

  it('rejects connect() as unsupported in a runtime without WebRTC', async () => {
    const error = await connect(ctx.server.url, 't', { webSocketFactory }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'unsupportedBrowser' });
  });

  it('cancels connecting on disconnect()', async () => {
    ctx.server.handlers.join = () => undefined;
    const r = new Room(connectOptions());
    const states: string[] = [];
    r.on('connectionStateChanged', (s) => states.push(s));
    const connecting = r.connect(ctx.server.url, 't').catch((e: unknown) => e);
    await ctx.server.waitForRequest('join');
    await r.disconnect();
    expect(await connecting).toMatchObject({ reason: 'cancelled' });
    expect(r.state).toBe('disconnected');
    expect(states).toEqual(['connecting', 'disconnected']);
  });

  it('disconnects with the reason and code of sessionClosed', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.server.initialConsumers = [
      consumerCreated({ consumerId: 'c-1', trackId: 'p-1', participantIdentity: 'dr-zhang' }),
    ];
    ctx.room = new Room(connectOptions());
    const subscribed = nextEvent(ctx.room, 'trackSubscribed');
    await ctx.room.connect(ctx.server.url, 't');
    const [track] = await subscribed;
    const cam = await ctx.room.localParticipant.publishCamera({ track: fakeTrack('video') });

    const order: string[] = [];
    ctx.room.on('trackUnsubscribed', () => order.push('trackUnsubscribed'));
    ctx.room.on('localTrackUnpublished', () => order.push('localTrackUnpublished'));
    ctx.room.on('connectionStateChanged', (s) => order.push(s));
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.notify('sessionClosed', { code: 'DUPLICATE_IDENTITY', reason: 'Joined from another device' });
    ctx.server.socket?.close(4003, 'duplicate');
    const [reason, error] = await disconnected;

    expect(reason).toBe(DisconnectReason.DuplicateIdentity);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({ code: ErrorCode.DUPLICATE_IDENTITY, message: 'Joined from another device' });
    expect(order).toEqual(['trackUnsubscribed', 'localTrackUnpublished', 'disconnected']);
    expect(ctx.room.state).toBe('disconnected');
    expect(ctx.room.remoteParticipants.size).toBe(0);
    expect(track.isEnded).toBe(true);
    expect(cam.isEnded).toBe(true);
  });

  it('disconnects with connectionLost when the socket drops and reconnecting is off', async () => {
    ctx.room = await connect(ctx.server.url, 't', { ...connectOptions(), reconnectPolicy: noReconnect });
    const disconnected = nextEvent(ctx.room, 'disconnected');
    ctx.server.socket?.terminate();
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.ConnectionLost);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
  });

  it('says leave and disconnects cleanly on disconnect()', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const disconnected = nextEvent(ctx.room, 'disconnected');
    await Promise.all([ctx.room.disconnect(), ctx.room.disconnect()]);
    expect(await disconnected).toEqual([DisconnectReason.ClientInitiated, undefined]);
    expect(ctx.server.methods().filter((m) => m === 'leave')).toHaveLength(1);
    expect(ctx.server.methods().at(-1)).toBe('leave');
    expect(ctx.room.state).toBe('disconnected');
    await expect(ctx.room.connect(ctx.server.url, 't')).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
  });
});
