/**
 * The consult workflow through the SDK against the scripted server: waiting
 * room, host controls and their errors, host mute, chat, opinions.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeHuizhenServer,
  WireFailure,
  mediasoupDevice,
  participant,
  webSocketFactory,
} from '../test-support/fakeServer.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ErrorCode, HuizhenError } from './errors.js';
import type { ConnectOptions } from './options.js';
import type { ChatMessage, PersonRef, WaitingEntry } from '@huizhen/protocol';
import type { Room } from './Room.js';

const doctor: PersonRef = { identity: 'dr-zhang', name: 'Dr Zhang', role: 'doctor' };
const chat = (seq: number, text = `m${seq}`, id = `chat-${seq}`): ChatMessage => ({
  id,
  seq,
  from: doctor,
  text,
  to: 'everyone',
  sentAt: 1_700_000_000_000 + seq,
});

describe('Room workflow', () => {
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

  it('exposes kind, permissions and the waiting room, and admits from it', async () => {
    const waiting: WaitingEntry[] = [{ identity: 'pt-1', name: '张三', role: 'patient', since: 1_700_000_000_000 }];
    server.permissions = ['admit', 'muteOthers', 'chat'];
    server.view = { waitingRoom: waiting };
    room = await connect(server.url, 't', options());
    expect(room.kind).toBe('consult');
    expect(room.info).toMatchObject({ state: 'active', locked: false, host: null });
    expect([...room.permissions]).toEqual(['admit', 'muteOthers', 'chat']);
    expect(room.can('admit')).toBe(true);
    expect(room.can('end')).toBe(false);
    expect(room.waitingRoom).toEqual(waiting);

    const admitted = room.admit('pt-1');
    expect((await server.waitForRequest('admit')).data).toEqual({ identity: 'pt-1' });
    await admitted;

    const changed = nextEvent(room, 'waitingRoomChanged');
    server.notify('waitingRoomChanged', { waiting: [] });
    expect(await changed).toEqual([[]]);
    expect(room.waitingRoom).toEqual([]);

    await room.deny('pt-2', 'Please rebook');
    expect(server.requests.at(-1)).toMatchObject({
      method: 'deny',
      data: { identity: 'pt-2', reason: 'Please rebook' },
    });
  });

  it('waits in the lobby knowing its kind, then takes in the room view when admitted', async () => {
    server.waiting = true;
    server.permissions = ['chat'];
    room = await connect(server.url, 't', options());
    expect(room.admission).toBe('waiting');
    expect(room.kind).toBe('consult');
    expect(room.info).toBeUndefined();
    // The server refuses room actions while waiting; the SDK passes its code on.
    server.handlers.sendChat = () => {
      throw new WireFailure('NOT_ADMITTED', 'You are in the waiting room; a clinician will admit you.');
    };
    await expect(room.sendChat('hello?')).rejects.toMatchObject({ code: ErrorCode.NOT_ADMITTED });

    const admitted = nextEvent(room, 'admitted');
    const { admission: _a, ...view } = server.roomView();
    server.notify('admitted', { ...view, chatHistory: [chat(1, 'Welcome')] });
    await admitted;
    expect(room.admission).toBe('admitted');
    expect(room.info?.state).toBe('active');
    expect(room.chatHistory.map((m) => m.text)).toEqual(['Welcome']);
  });

  it('passes host-control refusals on with the server code', async () => {
    room = await connect(server.url, 't', options());
    for (const method of [
      'admit',
      'deny',
      'muteParticipant',
      'removeParticipant',
      'setLocked',
      'endRoom',
      'getSummary',
      'setOpinion',
      'getOpinions',
    ]) {
      server.handlers[method] = () => {
        throw new WireFailure('PERMISSION_DENIED', `Your role does not allow you to ${method}.`);
      };
    }
    const calls: [string, () => Promise<unknown>][] = [
      ['admit', () => room!.admit('pt-1')],
      ['deny', () => room!.deny('pt-1')],
      ['muteParticipant', () => room!.muteParticipant('dr-zhang', 'microphone')],
      ['removeParticipant', () => room!.removeParticipant('dr-zhang', 'no')],
      ['setLocked', () => room!.lock()],
      ['setLocked', () => room!.unlock()],
      ['endRoom', () => room!.end()],
      ['getSummary', () => room!.getSummary()],
      ['setOpinion', () => room!.setOpinion('x')],
      ['getOpinions', () => room!.getOpinions()],
    ];
    for (const [method, call] of calls) {
      const error = await call().catch((e: unknown) => e);
      expect(error, method).toBeInstanceOf(HuizhenError);
      expect(error, method).toMatchObject({
        code: ErrorCode.PERMISSION_DENIED,
        message: `Your role does not allow you to ${method}.`,
      });
    }
    server.handlers.muteParticipant = () => {
      throw new WireFailure('NOT_FOUND', 'Dr Zhang has no camera track.');
    };
    await expect(room.muteParticipant('dr-zhang', 'camera')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });

  it('sends host controls with their arguments and takes in the answers', async () => {
    room = await connect(server.url, 't', options());
    const info = server.roomView().room;
    server.handlers.setLocked = (data) => ({ room: { ...info, locked: data.locked } });
    const summary = { room: { ...info, state: 'ended' }, durationSec: 60, participants: [] };
    server.handlers.getSummary = () => ({ summary });
    server.handlers.endRoom = () => ({ summary });

    await room.muteParticipant('dr-zhang', 'microphone', { allowUnmute: true });
    expect(server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', source: 'microphone', allowUnmute: true });
    await room.muteParticipant('dr-zhang', 'camera');
    expect(server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', source: 'camera', allowUnmute: false });
    await room.removeParticipant('dr-zhang', 'Wrong consult');
    expect(server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', reason: 'Wrong consult' });
    expect((await room.lock()).locked).toBe(true);
    expect(room.info?.locked).toBe(true);
    expect((await room.unlock()).locked).toBe(false);
    expect(await room.getSummary()).toEqual(summary);
    expect(await room.end('Consult complete')).toEqual(summary);
    expect(server.requests.at(-1)).toMatchObject({ method: 'endRoom', data: { reason: 'Consult complete' } });
  });

  it('refuses an unmute after a host mute unless allowed, locally and before asking the server', async () => {
    room = await connect(server.url, 't', options());
    const mic = await room.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    if (!mic) throw new Error('no microphone');
    const muted = nextEvent(room, 'mutedByHost');
    server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by: doctor, allowUnmute: false });
    await muted;
    expect(mic.muted).toBe(true);
    expect(mic.mutedByHost).toEqual({ by: doctor, allowUnmute: false });
    expect(mic.mediaStreamTrack.enabled).toBe(false);
    const sent = server.requests.length;
    await expect(room.localParticipant.setMicrophoneEnabled(true)).rejects.toMatchObject({
      code: ErrorCode.PERMISSION_DENIED,
    });
    expect(server.requests.length).toBe(sent);
    expect(mic.muted).toBe(true);

    // The host mutes again, now letting them unmute.
    const again = nextEvent(room, 'mutedByHost');
    server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by: doctor, allowUnmute: true });
    expect((await again)[2]).toBe(true);
    await room.localParticipant.setMicrophoneEnabled(true);
    expect(mic.muted).toBe(false);
    expect(mic.mutedByHost).toBeUndefined();
    expect(server.requests.at(-1)).toMatchObject({ method: 'setProducerPaused', data: { paused: false } });
  });

  it('keeps chat in server order, once per message, including its own', async () => {
    server.view = { chatHistory: [chat(1), chat(2)] };
    room = await connect(server.url, 't', options());
    expect(room.chatHistory.map((m) => m.seq)).toEqual([1, 2]);
    const seen: number[] = [];
    room.on('chat', (m) => seen.push(m.seq));

    // Our own message is ordered 4 by the server; someone else's 3 arrives after our answer.
    server.handlers.sendChat = (data) => {
      setTimeout(() => server.notify('chat', { message: chat(3) }), 20);
      return {
        message: {
          ...chat(4, String(data.text), 'mine'),
          from: { identity: 'me', name: 'Me', role: 'specialist' },
          to: data.to ?? 'everyone',
        },
      };
    };
    const mine = await room.sendChat('Reviewing the labs', { to: 'clinicians' });
    expect(server.requests.at(-1)?.data).toEqual({ text: 'Reviewing the labs', to: 'clinicians' });
    expect(mine).toMatchObject({ seq: 4, text: 'Reviewing the labs', to: 'clinicians' });
    const third = nextEvent(room, 'chat');
    await third;
    // Duplicates (a replay after a reconnect, say) are dropped.
    server.notify('chat', { message: chat(2) });
    server.notify('chat', { message: chat(3) });
    const fifth = nextEvent(room, 'chat');
    server.notify('chat', { message: chat(5) });
    await fifth;
    expect(seen).toEqual([4, 3, 5]);
    expect(room.chatHistory.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(room.chatHistory.find((m) => m.id === 'mine')?.text).toBe('Reviewing the labs');
  });

  it('writes opinions and hears about others', async () => {
    room = await connect(server.url, 't', options());
    const opinion = { version: 2, author: { ...doctor, issuer: 'hospital-a' }, text: 'CKD stage 2', writtenAt: 1 };
    server.handlers.setOpinion = () => ({ opinion });
    server.handlers.getOpinions = () => ({ opinions: [opinion] });
    const own = nextEvent(room, 'opinionUpdated');
    expect(await room.setOpinion('CKD stage 2')).toEqual(opinion);
    expect(await own).toEqual([opinion]);
    expect(await room.getOpinions()).toEqual([opinion]);
    const other = nextEvent(room, 'opinionUpdated');
    server.notify('opinionUpdated', { opinion: { ...opinion, version: 3 } });
    expect((await other)[0].version).toBe(3);
  });

  it('keeps room info current and refuses workflow calls when not connected', async () => {
    room = await connect(server.url, 't', options());
    const updated = nextEvent(room, 'roomUpdated');
    server.notify('roomUpdated', { room: { ...server.roomView().room, host: 'dr-zhang', state: 'active' } });
    await updated;
    expect(room.info?.host).toBe('dr-zhang');
    await room.disconnect();
    await expect(room.sendChat('late')).rejects.toMatchObject({ code: ErrorCode.NOT_JOINED });
    await expect(room.admit('x')).rejects.toMatchObject({ code: ErrorCode.NOT_JOINED });
  });

  it('reports remote participants reconnecting on the room and the participant, without leaving', async () => {
    server.others = [participant('dr-zhang')];
    room = await connect(server.url, 't', options());
    const dr = room.remoteParticipants.get('dr-zhang')!;
    const onParticipant: string[] = [];
    dr.on('reconnecting', () => onParticipant.push('reconnecting'));
    dr.on('reconnected', () => onParticipant.push('reconnected'));
    let left = false;
    room.on('participantLeft', () => (left = true));

    const reconnecting = nextEvent(room, 'participantReconnecting');
    server.notify('participantReconnecting', { identity: 'dr-zhang' });
    expect(await reconnecting).toEqual([dr]);
    expect(dr.isReconnecting).toBe(true);
    const reconnected = nextEvent(room, 'participantReconnected');
    server.notify('participantReconnected', { identity: 'dr-zhang' });
    expect(await reconnected).toEqual([dr]);
    expect(dr.isReconnecting).toBe(false);
    expect(onParticipant).toEqual(['reconnecting', 'reconnected']);
    expect(left).toBe(false);
    expect(room.remoteParticipants.get('dr-zhang')).toBe(dr);
  });
});
