/**
 * Room against a scripted signaling server, with mediasoup-client's fake
 * WebRTC handler: the SDK's real device, transport, consume and produce code
 * runs; only the browser's peer connection is faked.
 */
import { type FakeMediaStreamTrack } from 'fake-mediastreamtrack';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeHuizhenServer,
  WireFailure,
  consumerCreated,
  mediasoupDevice,
  participant,
  recordingDevice,
  webSocketFactory,
} from '../test-support/fakeServer.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ConnectionError, DisconnectReason, ErrorCode, HuizhenError } from './errors.js';
import { RoomEvent } from './events.js';
import type { ConnectOptions } from './options.js';
import { noReconnect } from './ReconnectPolicy.js';
import { Room } from './Room.js';
import type { RemoteTrack } from './tracks.js';

describe('Room', () => {
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

  it('joins, sets up media and exposes the room, itself and the others', async () => {
    server.others = [
      participant('dr-zhang', {
        name: 'Dr Zhang',
        tracks: [{ trackId: 'p-mic', kind: 'audio', source: 'microphone', muted: true }],
      }),
    ];
    room = await connect(server.url, 'the-token', options());

    expect(room.state).toBe('connected');
    expect(room.name).toBe('consult-42');
    expect(room.sessionId).toBe('sess-1');
    expect(room.tokenExpiresAt).toBeGreaterThan(Date.now());
    expect(room.localParticipant).toMatchObject({ identity: 'me', name: 'Me', role: 'specialist' });
    // The server lists the joiner among participants too; it must not appear as remote.
    expect([...room.remoteParticipants.keys()]).toEqual(['dr-zhang']);
    const dr = room.remoteParticipants.get('dr-zhang');
    expect(dr).toMatchObject({ name: 'Dr Zhang', role: 'doctor', isSpeaking: false });
    expect(dr?.publishedTracks.get('p-mic')).toMatchObject({ source: 'microphone', muted: true });

    expect(server.requests[0]).toMatchObject({ method: 'join', data: { protocolVersion: 1, token: 'the-token' } });
    expect(server.methods().slice(0, 3)).toEqual(['join', 'createTransport', 'setRtpCapabilities']);
    // The device's SCTP capabilities ask for data channels on the transport.
    expect(server.requests[1]?.data).toEqual({
      direction: 'recv',
      sctpCapabilities: { numStreams: { OS: expect.any(Number), MIS: expect.any(Number) } },
    });
    // Observers and listeners need no send transport: it is created on first publish.
    expect(server.requests.filter((r) => r.method === 'createTransport')).toHaveLength(1);
    const caps = server.requests[2]?.data.rtpCapabilities as { codecs?: unknown[] };
    expect(caps.codecs?.length).toBeGreaterThan(0);
  });

  it('subscribes to tracks offered during connect, after the caller can listen', async () => {
    server.others = [participant('dr-zhang')];
    server.initialConsumers = [
      consumerCreated({
        consumerId: 'c-1',
        trackId: 'p-mic',
        participantIdentity: 'dr-zhang',
        kind: 'audio',
        producerPaused: true,
      }),
      consumerCreated({ consumerId: 'c-2', trackId: 'p-cam', participantIdentity: 'dr-zhang', kind: 'video' }),
    ];
    room = await connect(server.url, 't', options());
    // Registered only after connect() resolved, as an application would.
    const subscribed: [RemoteTrack, string][] = [];
    const both = new Promise<void>((resolve) =>
      room!.on(RoomEvent.TrackSubscribed, (track, p) => {
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
    const resumes = server.requests.filter((r) => r.method === 'resumeConsumer').map((r) => r.data.consumerId);
    expect(resumes).toEqual(['c-1', 'c-2']);
    // The receive transport connected (DTLS) before the first resume.
    expect(server.methods().indexOf('connectTransport')).toBeLessThan(server.methods().indexOf('resumeConsumer'));
    expect(room.remoteParticipants.get('dr-zhang')?.tracks.size).toBe(2);
  });

  it('holds events that arrive while connecting until the caller of connect() can listen', async () => {
    server.setupNotifications = [['participantJoined', { participant: participant('nurse-wu', { role: 'nurse' }) }]];
    room = await connect(server.url, 't', options());
    // The participant is known at once; the event comes after the caller had its turn.
    expect(room.remoteParticipants.has('nurse-wu')).toBe(false);
    const [nurse] = await nextEvent(room, 'participantJoined');
    expect(nurse.identity).toBe('nurse-wu');
  });

  it('follows a participant through join, mute, unpublish and leave', async () => {
    room = await connect(server.url, 't', options());
    const r = room;
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
    server.notify('participantJoined', { participant: participant('nurse-wu', { role: 'nurse' }) });
    const [nurse] = await joined;
    expect(nurse.role).toBe('nurse');
    expect(r.remoteParticipants.get('nurse-wu')).toBe(nurse);

    const subscribed = nextEvent(r, 'trackSubscribed');
    server.notify(
      'consumerCreated',
      consumerCreated({ consumerId: 'c-9', trackId: 'p-9', participantIdentity: 'nurse-wu', kind: 'video' }),
    );
    const [track] = await subscribed;

    const muted = nextEvent(r, 'trackMuted');
    server.notify('trackMuted', { participantIdentity: 'nurse-wu', trackId: 'p-9' });
    await muted;
    expect(track.muted).toBe(true);
    const unmuted = nextEvent(r, 'trackUnmuted');
    server.notify('trackUnmuted', { participantIdentity: 'nurse-wu', trackId: 'p-9' });
    await unmuted;
    expect(track.muted).toBe(false);

    const unsubscribed = nextEvent(r, 'trackUnsubscribed');
    server.notify('consumerClosed', { consumerId: 'c-9', trackId: 'p-9', participantIdentity: 'nurse-wu' });
    await unsubscribed;
    expect(track.isEnded).toBe(true);
    expect(nurse.tracks.size).toBe(0);
    expect(nurse.publishedTracks.has('p-9')).toBe(false);

    // Leaving with a track still subscribed unsubscribes it first.
    const again = nextEvent(r, 'trackSubscribed');
    server.notify(
      'consumerCreated',
      consumerCreated({ consumerId: 'c-10', trackId: 'p-10', participantIdentity: 'nurse-wu' }),
    );
    await again;
    const left = nextEvent(r, 'participantLeft');
    server.notify('participantLeft', { identity: 'nurse-wu', reason: 'left' });
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
    server.others = [participant('dr-zhang')];
    room = await connect(server.url, 't', options());
    const dr = room.remoteParticipants.get('dr-zhang')!;

    let changed = nextEvent(room, 'activeSpeakerChanged');
    server.notify('activeSpeakerChanged', { identity: 'dr-zhang' });
    expect((await changed)[0]).toBe(dr);
    expect(dr.isSpeaking).toBe(true);
    expect(room.activeSpeaker).toBe(dr);

    changed = nextEvent(room, 'activeSpeakerChanged');
    server.notify('activeSpeakerChanged', { identity: 'me' });
    expect((await changed)[0]).toBe(room.localParticipant);
    expect(dr.isSpeaking).toBe(false);
    expect(room.localParticipant.isSpeaking).toBe(true);

    changed = nextEvent(room, 'activeSpeakerChanged');
    server.notify('activeSpeakerChanged', { identity: null });
    expect((await changed)[0]).toBeNull();
    expect(room.localParticipant.isSpeaking).toBe(false);
  });

  it('records the simulcast layers the server forwards', async () => {
    server.others = [participant('dr-zhang')];
    server.initialConsumers = [
      consumerCreated({ consumerId: 'c-v', trackId: 'p-v', participantIdentity: 'dr-zhang', kind: 'video' }),
    ];
    room = new Room(options());
    const subscribed = nextEvent(room, 'trackSubscribed');
    await room.connect(server.url, 't');
    const [track] = await subscribed;
    const layers = new Promise((resolve) => track.once('layersChanged', resolve));
    server.notify('consumerLayersChanged', { consumerId: 'c-v', spatialLayer: 1, temporalLayer: 2 });
    expect(await layers).toEqual({ spatialLayer: 1, temporalLayer: 2 });
    expect(track.layers).toEqual({ spatialLayer: 1, temporalLayer: 2 });
  });

  it('reports a track it cannot set up instead of stalling later ones', async () => {
    server.others = [participant('dr-zhang')];
    const broken = consumerCreated({ consumerId: 'c-bad', trackId: 'p-bad', participantIdentity: 'dr-zhang' });
    broken.rtpParameters = { codecs: [] };
    server.initialConsumers = [
      broken,
      consumerCreated({ consumerId: 'c-ok', trackId: 'p-ok', participantIdentity: 'dr-zhang' }),
    ];
    room = new Room(options());
    const failed = nextEvent(room, 'trackSubscriptionFailed');
    const subscribed = nextEvent(room, 'trackSubscribed');
    await room.connect(server.url, 't');
    const [trackId, who, error] = await failed;
    expect(trackId).toBe('p-bad');
    expect(who.identity).toBe('dr-zhang');
    expect(error).toBeInstanceOf(Error);
    expect((await subscribed)[0].trackId).toBe('p-ok');
  });

  it('leaves consumers paused until enabled when autoSubscribe is false', async () => {
    server.others = [participant('dr-zhang')];
    server.initialConsumers = [consumerCreated({ consumerId: 'c-1', trackId: 'p-1', participantIdentity: 'dr-zhang' })];
    room = new Room({ ...options(), autoSubscribe: false });
    const subscribed = nextEvent(room, 'trackSubscribed');
    await room.connect(server.url, 't');
    const [track] = await subscribed;
    expect(track.enabled).toBe(false);
    expect(server.methods()).not.toContain('resumeConsumer');
    await track.setEnabled(true);
    expect(server.requests.at(-1)).toMatchObject({ method: 'resumeConsumer', data: { consumerId: 'c-1' } });
    await track.setEnabled(false);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'setConsumerPaused',
      data: { consumerId: 'c-1', paused: true },
    });
    await track.setEnabled(true);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'setConsumerPaused',
      data: { consumerId: 'c-1', paused: false },
    });
  });

  it('publishes, mutes, unmutes and unpublishes a microphone', async () => {
    room = await connect(server.url, 't', options());
    const lp = room.localParticipant;
    const published = nextEvent(room, 'localTrackPublished');
    const mic = await lp.publishMicrophone({ track: fakeTrack('audio') });
    expect(await published).toEqual([mic, lp]);
    expect(mic.trackId).toBe('prod-1');
    expect(mic.source).toBe('microphone');
    expect(lp.tracks.get('prod-1')).toBe(mic);
    const produce = server.requests.find((r) => r.method === 'produce');
    expect(produce?.data).toMatchObject({ kind: 'audio', source: 'microphone' });
    expect(produce?.data.paused).toBeUndefined();
    const sendTransport = server.requests.find((r) => r.method === 'createTransport' && r.data.direction === 'send');
    expect(sendTransport).toBeDefined();

    await expect(lp.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.INVALID_STATE,
    });

    await lp.setMicrophoneEnabled(false);
    expect(mic.muted).toBe(true);
    expect(mic.mediaStreamTrack.enabled).toBe(false);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'setProducerPaused',
      data: { producerId: 'prod-1', paused: true },
    });
    await lp.setMicrophoneEnabled(true);
    expect(mic.muted).toBe(false);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'setProducerPaused',
      data: { producerId: 'prod-1', paused: false },
    });

    const unpublished = nextEvent(room, 'localTrackUnpublished');
    await mic.unpublish();
    await unpublished;
    expect(server.requests.at(-1)).toMatchObject({ method: 'closeProducer', data: { producerId: 'prod-1' } });
    expect(lp.tracks.size).toBe(0);
    // An app-supplied track is the app's to stop.
    expect(mic.mediaStreamTrack.readyState).toBe('live');
  });

  it('asks for Opus DTX and FEC on the microphone', async () => {
    const recorder = recordingDevice();
    room = await connect(server.url, 't', { ...options(), mediasoupDevice: recorder.device });
    await room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    expect(recorder.sends[0]?.codecOptions).toMatchObject({ opusDtx: true, opusFec: true });
    expect(recorder.sends[0]?.encodings).toBeUndefined();
  });

  it('publishes a camera with three simulcast layers and can start muted', async () => {
    const recorder = recordingDevice();
    room = await connect(server.url, 't', { ...options(), mediasoupDevice: recorder.device });
    const cam = await room.localParticipant.publishCamera({ track: fakeTrack('video'), muted: true });
    const produce = server.requests.find((r) => r.method === 'produce');
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
    room = await connect(server.url, 't', { ...options(), mediasoupDevice: recorder.device });
    // Only the receive transport exists so far.
    expect(recorder.handlers).toHaveLength(1);
    const stateChanged = nextEvent(room, 'mediaConnectionStateChanged');
    const restartRequest = server.waitForRequest('restartIce');
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
    room = await connect(server.url, 't', options());
    const cam = await room.localParticipant.publishCamera({ track: fakeTrack('video') });
    server.handlers.setProducerPaused = () => {
      throw new WireFailure('PERMISSION_DENIED', 'nope');
    };
    await expect(cam.mute()).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });
    expect(cam.muted).toBe(true);
    await expect(cam.unmute()).rejects.toMatchObject({ code: ErrorCode.PERMISSION_DENIED });
    expect(cam.muted).toBe(true);
  });

  it('unpublishes a track whose source ends (the user stopped a screen share)', async () => {
    room = await connect(server.url, 't', options());
    const media = fakeTrack('video') as unknown as FakeMediaStreamTrack;
    const screen = await room.localParticipant.publishScreen({ track: media as unknown as MediaStreamTrack });
    const unpublished = nextEvent(room, 'localTrackUnpublished');
    media.remoteStop();
    const [track] = await unpublished;
    expect(track).toBe(screen);
    await server.waitForRequest('closeProducer');
    expect(room.localParticipant.getTrack('screen')).toBeUndefined();
  });

  it('waits in the lobby, then sets up media when admitted', async () => {
    server.waiting = true;
    server.others = [participant('dr-zhang')];
    room = await connect(server.url, 't', options());
    expect(room.state).toBe('connected');
    expect(room.admission).toBe('waiting');
    expect(room.name).toBe('consult-42');
    expect(room.remoteParticipants.size).toBe(0);
    expect(server.methods()).toEqual(['join']);
    await expect(room.localParticipant.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.NOT_ADMITTED,
    });

    const admitted = nextEvent(room, 'admitted');
    const { admission: _admission, ...view } = server.roomView();
    server.notify('admitted', view);
    await admitted;
    expect(room.admission).toBe('admitted');
    expect(room.info?.state).toBe('active');
    expect([...room.remoteParticipants.keys()]).toEqual(['dr-zhang']);
    // The receiving data channels connect the receive transport (connectTransport follows).
    expect(server.methods().slice(0, 4)).toEqual(['join', 'createTransport', 'setRtpCapabilities', 'subscribeData']);
    const mic = await room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    expect(mic.trackId).toBe('prod-1');
  });

  it('disconnects with admissionDenied when a clinician declines', async () => {
    server.waiting = true;
    room = await connect(server.url, 't', options());
    const disconnected = nextEvent(room, 'disconnected');
    server.notify('sessionClosed', { code: 'ADMISSION_DENIED', reason: 'Please rebook' });
    server.socket?.close(4007, 'denied');
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.AdmissionDenied);
    expect(error).toMatchObject({ code: ErrorCode.ADMISSION_DENIED, message: 'Please rebook' });
  });

  it('pauses a track locally when a host mutes it', async () => {
    room = await connect(server.url, 't', options());
    const mic = await room.localParticipant.publishMicrophone({ track: fakeTrack('audio') });
    const mutedByHost = nextEvent(room, 'mutedByHost');
    const by = { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' as const };
    server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by, allowUnmute: false });
    expect(await mutedByHost).toEqual([mic, by, false]);
    expect(mic.muted).toBe(true);
    expect(mic.mediaStreamTrack.enabled).toBe(false);
  });

  it('keeps room info current', async () => {
    room = await connect(server.url, 't', options());
    const updated = nextEvent(room, 'roomUpdated');
    server.notify('roomUpdated', { room: { ...server.roomView().room, locked: true } });
    await updated;
    expect(room.info?.locked).toBe(true);
  });

  it('refuses to publish when not connected', async () => {
    room = new Room(options());
    await expect(room.localParticipant.publishMicrophone({ track: fakeTrack('audio') })).rejects.toMatchObject({
      code: ErrorCode.NOT_JOINED,
    });
  });

  it('rejects connect() with the server code when the join is refused', async () => {
    server.handlers.join = () => {
      throw new WireFailure('TOKEN_EXPIRED', 'The join token expired');
    };
    const error = await connect(server.url, 't', options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({
      code: ErrorCode.TOKEN_EXPIRED,
      reason: 'rejected',
      message: 'The join token expired',
    });
  });

  it('rejects connect() with the sessionClosed code when the server closes instead of answering', async () => {
    server.handlers.join = (_data, s) => {
      s.notify('sessionClosed', { code: 'ROOM_FULL', reason: 'The consult room is full' });
      setTimeout(() => s.socket?.close(4004, 'full'), 10);
      return undefined;
    };
    const error = await connect(server.url, 't', options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.ROOM_FULL, reason: 'rejected' });
  });

  it('rejects connect() with CONNECTION_FAILED when no server listens', async () => {
    const url = server.url;
    await server.close();
    const error = await connect(url, 't', options()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'serverUnreachable' });
    server = await FakeHuizhenServer.start();
  });

  it('rejects connect() with TIMEOUT when join is never answered', async () => {
    server.handlers.join = () => undefined;
    const error = await connect(server.url, 't', { ...options(), requestTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.TIMEOUT, reason: 'timeout' });
  });

  it('rejects connect() as unsupported in a runtime without WebRTC', async () => {
    const error = await connect(server.url, 't', { webSocketFactory }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED, reason: 'unsupportedBrowser' });
  });

  it('cancels connecting on disconnect()', async () => {
    server.handlers.join = () => undefined;
    const r = new Room(options());
    const states: string[] = [];
    r.on('connectionStateChanged', (s) => states.push(s));
    const connecting = r.connect(server.url, 't').catch((e: unknown) => e);
    await server.waitForRequest('join');
    await r.disconnect();
    expect(await connecting).toMatchObject({ reason: 'cancelled' });
    expect(r.state).toBe('disconnected');
    expect(states).toEqual(['connecting', 'disconnected']);
  });

  it('disconnects with the reason and code of sessionClosed', async () => {
    server.others = [participant('dr-zhang')];
    server.initialConsumers = [consumerCreated({ consumerId: 'c-1', trackId: 'p-1', participantIdentity: 'dr-zhang' })];
    room = new Room(options());
    const subscribed = nextEvent(room, 'trackSubscribed');
    await room.connect(server.url, 't');
    const [track] = await subscribed;
    const cam = await room.localParticipant.publishCamera({ track: fakeTrack('video') });

    const order: string[] = [];
    room.on('trackUnsubscribed', () => order.push('trackUnsubscribed'));
    room.on('localTrackUnpublished', () => order.push('localTrackUnpublished'));
    room.on('connectionStateChanged', (s) => order.push(s));
    const disconnected = nextEvent(room, 'disconnected');
    server.notify('sessionClosed', { code: 'DUPLICATE_IDENTITY', reason: 'Joined from another device' });
    server.socket?.close(4003, 'duplicate');
    const [reason, error] = await disconnected;

    expect(reason).toBe(DisconnectReason.DuplicateIdentity);
    expect(error).toBeInstanceOf(HuizhenError);
    expect(error).toMatchObject({ code: ErrorCode.DUPLICATE_IDENTITY, message: 'Joined from another device' });
    expect(order).toEqual(['trackUnsubscribed', 'localTrackUnpublished', 'disconnected']);
    expect(room.state).toBe('disconnected');
    expect(room.remoteParticipants.size).toBe(0);
    expect(track.isEnded).toBe(true);
    expect(cam.isEnded).toBe(true);
  });

  it('disconnects with connectionLost when the socket drops and reconnecting is off', async () => {
    room = await connect(server.url, 't', { ...options(), reconnectPolicy: noReconnect });
    const disconnected = nextEvent(room, 'disconnected');
    server.socket?.terminate();
    const [reason, error] = await disconnected;
    expect(reason).toBe(DisconnectReason.ConnectionLost);
    expect(error).toMatchObject({ code: ErrorCode.CONNECTION_FAILED });
  });

  it('says leave and disconnects cleanly on disconnect()', async () => {
    room = await connect(server.url, 't', options());
    const disconnected = nextEvent(room, 'disconnected');
    await Promise.all([room.disconnect(), room.disconnect()]);
    expect(await disconnected).toEqual([DisconnectReason.ClientInitiated, undefined]);
    expect(server.methods().filter((m) => m === 'leave')).toHaveLength(1);
    expect(server.methods().at(-1)).toBe('leave');
    expect(room.state).toBe('disconnected');
    await expect(room.connect(server.url, 't')).rejects.toMatchObject({ code: ErrorCode.INVALID_STATE });
  });
});
