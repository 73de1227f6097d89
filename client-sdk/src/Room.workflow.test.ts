/**
 * The consult workflow through the SDK against the scripted server: waiting
 * room, host controls and their errors, host mute, chat, opinions.
 */
import { describe, expect, it } from 'vitest';
import { WireFailure, participant } from '../test-support/fakeServer.js';
import { connectOptions, useFakeServer } from '../test-support/fakeServerTest.js';
import { fakeTrack, nextEvent } from '../test-support/roomHelpers.js';
import { connect } from './connect.js';
import { ErrorCode, HuizhenError } from './errors.js';
import type { ChatMessage, PersonRef, WaitingEntry } from '@huizhen/protocol';

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
  const ctx = useFakeServer();

  it('exposes kind, permissions and the waiting room, and admits from it', async () => {
    const waiting: WaitingEntry[] = [{ identity: 'pt-1', name: '张三', role: 'patient', since: 1_700_000_000_000 }];
    ctx.server.permissions = ['admit', 'muteOthers', 'chat'];
    ctx.server.view = { waitingRoom: waiting };
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.kind).toBe('consult');
    expect(ctx.room.info).toMatchObject({ state: 'active', locked: false, host: null });
    expect([...ctx.room.permissions]).toEqual(['admit', 'muteOthers', 'chat']);
    expect(ctx.room.can('admit')).toBe(true);
    expect(ctx.room.can('end')).toBe(false);
    expect(ctx.room.waitingRoom).toEqual(waiting);

    const admitted = ctx.room.admit('pt-1');
    expect((await ctx.server.waitForRequest('admit')).data).toEqual({ identity: 'pt-1' });
    await admitted;

    const changed = nextEvent(ctx.room, 'waitingRoomChanged');
    ctx.server.notify('waitingRoomChanged', { waiting: [] });
    expect(await changed).toEqual([[]]);
    expect(ctx.room.waitingRoom).toEqual([]);

    await ctx.room.deny('pt-2', 'Please rebook');
    expect(ctx.server.requests.at(-1)).toMatchObject({
      method: 'deny',
      data: { identity: 'pt-2', reason: 'Please rebook' },
    });
  });

  it('waits in the lobby knowing its kind, then takes in the room view when admitted', async () => {
    ctx.server.waiting = true;
    ctx.server.permissions = ['chat'];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.admission).toBe('waiting');
    expect(ctx.room.kind).toBe('consult');
    expect(ctx.room.info).toBeUndefined();
    // The server refuses room actions while waiting; the SDK passes its code on.
    ctx.server.handlers.sendChat = () => {
      throw new WireFailure('NOT_ADMITTED', 'You are in the waiting room; a clinician will admit you.');
    };
    await expect(ctx.room.sendChat('hello?')).rejects.toMatchObject({ code: ErrorCode.NOT_ADMITTED });

    const admitted = nextEvent(ctx.room, 'admitted');
    const { admission: _a, ...view } = ctx.server.roomView();
    ctx.server.notify('admitted', { ...view, chatHistory: [chat(1, 'Welcome')] });
    await admitted;
    expect(ctx.room.admission).toBe('admitted');
    expect(ctx.room.info?.state).toBe('active');
    expect(ctx.room.chatHistory.map((m) => m.text)).toEqual(['Welcome']);
  });

  it('passes host-control refusals on with the server code', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
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
      ctx.server.handlers[method] = () => {
        throw new WireFailure('PERMISSION_DENIED', `Your role does not allow you to ${method}.`);
      };
    }
    const calls: [string, () => Promise<unknown>][] = [
      ['admit', () => ctx.room!.admit('pt-1')],
      ['deny', () => ctx.room!.deny('pt-1')],
      ['muteParticipant', () => ctx.room!.muteParticipant('dr-zhang', 'microphone')],
      ['removeParticipant', () => ctx.room!.removeParticipant('dr-zhang', 'no')],
      ['setLocked', () => ctx.room!.lock()],
      ['setLocked', () => ctx.room!.unlock()],
      ['endRoom', () => ctx.room!.end()],
      ['getSummary', () => ctx.room!.getSummary()],
      ['setOpinion', () => ctx.room!.setOpinion('x')],
      ['getOpinions', () => ctx.room!.getOpinions()],
    ];
    for (const [method, call] of calls) {
      const error = await call().catch((e: unknown) => e);
      expect(error, method).toBeInstanceOf(HuizhenError);
      expect(error, method).toMatchObject({
        code: ErrorCode.PERMISSION_DENIED,
        message: `Your role does not allow you to ${method}.`,
      });
    }
    ctx.server.handlers.muteParticipant = () => {
      throw new WireFailure('NOT_FOUND', 'Dr Zhang has no camera track.');
    };
    await expect(ctx.room.muteParticipant('dr-zhang', 'camera')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });

  it('sends host controls with their arguments and takes in the answers', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const info = ctx.server.roomView().room;
    ctx.server.handlers.setLocked = (data) => ({ room: { ...info, locked: data.locked } });
    const summary = { room: { ...info, state: 'ended' }, durationSec: 60, participants: [] };
    ctx.server.handlers.getSummary = () => ({ summary });
    ctx.server.handlers.endRoom = () => ({ summary });

    await ctx.room.muteParticipant('dr-zhang', 'microphone', { allowUnmute: true });
    expect(ctx.server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', source: 'microphone', allowUnmute: true });
    await ctx.room.muteParticipant('dr-zhang', 'camera');
    expect(ctx.server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', source: 'camera', allowUnmute: false });
    await ctx.room.removeParticipant('dr-zhang', 'Wrong consult');
    expect(ctx.server.requests.at(-1)?.data).toEqual({ identity: 'dr-zhang', reason: 'Wrong consult' });
    expect((await ctx.room.lock()).locked).toBe(true);
    expect(ctx.room.info?.locked).toBe(true);
    expect((await ctx.room.unlock()).locked).toBe(false);
    expect(await ctx.room.getSummary()).toEqual(summary);
    expect(await ctx.room.end('Consult complete')).toEqual(summary);
    expect(ctx.server.requests.at(-1)).toMatchObject({ method: 'endRoom', data: { reason: 'Consult complete' } });
  });

  it('refuses an unmute after a host mute unless allowed, locally and before asking the server', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const mic = await ctx.room.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    if (!mic) throw new Error('no microphone');
    const muted = nextEvent(ctx.room, 'mutedByHost');
    ctx.server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by: doctor, allowUnmute: false });
    await muted;
    expect(mic.muted).toBe(true);
    expect(mic.mutedByHost).toEqual({ by: doctor, allowUnmute: false });
    expect(mic.mediaStreamTrack.enabled).toBe(false);
    const sent = ctx.server.requests.length;
    await expect(ctx.room.localParticipant.setMicrophoneEnabled(true)).rejects.toMatchObject({
      code: ErrorCode.PERMISSION_DENIED,
    });
    expect(ctx.server.requests.length).toBe(sent);
    expect(mic.muted).toBe(true);

    // The host mutes again, now letting them unmute.
    const again = nextEvent(ctx.room, 'mutedByHost');
    ctx.server.notify('mutedByHost', { trackId: mic.trackId, source: 'microphone', by: doctor, allowUnmute: true });
    expect((await again)[2]).toBe(true);
    await ctx.room.localParticipant.setMicrophoneEnabled(true);
    expect(mic.muted).toBe(false);
    expect(mic.mutedByHost).toBeUndefined();
    expect(ctx.server.requests.at(-1)).toMatchObject({ method: 'setProducerPaused', data: { paused: false } });
  });

  it('keeps chat in server order, once per message, including its own', async () => {
    ctx.server.view = { chatHistory: [chat(1), chat(2)] };
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.chatHistory.map((m) => m.seq)).toEqual([1, 2]);
    const seen: number[] = [];
    ctx.room.on('chat', (m) => seen.push(m.seq));

    // Our own message is ordered 4 by the server; someone else's 3 arrives after our answer.
    ctx.server.handlers.sendChat = (data) => {
      setTimeout(() => ctx.server.notify('chat', { message: chat(3) }), 20);
      return {
        message: {
          ...chat(4, String(data.text), 'mine'),
          from: { identity: 'me', name: 'Me', role: 'specialist' },
          to: data.to ?? 'everyone',
        },
      };
    };
    const mine = await ctx.room.sendChat('Reviewing the labs', { to: 'clinicians' });
    expect(ctx.server.requests.at(-1)?.data).toEqual({ text: 'Reviewing the labs', to: 'clinicians' });
    expect(mine).toMatchObject({ seq: 4, text: 'Reviewing the labs', to: 'clinicians' });
    const third = nextEvent(ctx.room, 'chat');
    await third;
    // Duplicates (a replay after a reconnect, say) are dropped.
    ctx.server.notify('chat', { message: chat(2) });
    ctx.server.notify('chat', { message: chat(3) });
    const fifth = nextEvent(ctx.room, 'chat');
    ctx.server.notify('chat', { message: chat(5) });
    await fifth;
    expect(seen).toEqual([4, 3, 5]);
    expect(ctx.room.chatHistory.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(ctx.room.chatHistory.find((m) => m.id === 'mine')?.text).toBe('Reviewing the labs');
  });

  it('writes opinions and hears about others', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const opinion = { version: 2, author: { ...doctor, issuer: 'hospital-a' }, text: 'CKD stage 2', writtenAt: 1 };
    ctx.server.handlers.setOpinion = () => ({ opinion });
    ctx.server.handlers.getOpinions = () => ({ opinions: [opinion] });
    const own = nextEvent(ctx.room, 'opinionUpdated');
    expect(await ctx.room.setOpinion('CKD stage 2')).toEqual(opinion);
    expect(await own).toEqual([opinion]);
    expect(await ctx.room.getOpinions()).toEqual([opinion]);
    const other = nextEvent(ctx.room, 'opinionUpdated');
    ctx.server.notify('opinionUpdated', { opinion: { ...opinion, version: 3 } });
    expect((await other)[0].version).toBe(3);
  });

  it('keeps room info current and refuses workflow calls when not connected', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const updated = nextEvent(ctx.room, 'roomUpdated');
    ctx.server.notify('roomUpdated', { room: { ...ctx.server.roomView().room, host: 'dr-zhang', state: 'active' } });
    await updated;
    expect(ctx.room.info?.host).toBe('dr-zhang');
    await ctx.room.disconnect();
    await expect(ctx.room.sendChat('late')).rejects.toMatchObject({ code: ErrorCode.NOT_JOINED });
    await expect(ctx.room.admit('x')).rejects.toMatchObject({ code: ErrorCode.NOT_JOINED });
  });

  it('reports remote participants reconnecting on the room and the participant, without leaving', async () => {
    ctx.server.others = [participant('dr-zhang')];
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    const dr = ctx.room.remoteParticipants.get('dr-zhang')!;
    const onParticipant: string[] = [];
    dr.on('reconnecting', () => onParticipant.push('reconnecting'));
    dr.on('reconnected', () => onParticipant.push('reconnected'));
    let left = false;
    ctx.room.on('participantLeft', () => (left = true));

    const reconnecting = nextEvent(ctx.room, 'participantReconnecting');
    ctx.server.notify('participantReconnecting', { identity: 'dr-zhang' });
    expect(await reconnecting).toEqual([dr]);
    expect(dr.isReconnecting).toBe(true);
    const reconnected = nextEvent(ctx.room, 'participantReconnected');
    ctx.server.notify('participantReconnected', { identity: 'dr-zhang' });
    expect(await reconnected).toEqual([dr]);
    expect(dr.isReconnecting).toBe(false);
    expect(onParticipant).toEqual(['reconnecting', 'reconnected']);
    expect(left).toBe(false);
    expect(ctx.room.remoteParticipants.get('dr-zhang')).toBe(dr);
  });
});
