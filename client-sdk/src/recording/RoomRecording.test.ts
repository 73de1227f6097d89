/**
 * `room.recording` against the scripted server: the state from the room view
 * and from notifications (a malformed one is dropped), when the consent prompt
 * is due, and the requests it sends.
 */
import { describe, expect, it } from 'vitest';
import type { RecordingStatus } from '@huizhen/protocol';
import { WireFailure } from '../../test-support/fakeServer.js';
import { connectOptions, useFakeServer } from '../../test-support/fakeServerTest.js';
import { nextEvent } from '../../test-support/roomHelpers.js';
import { connect } from '../connect.js';
import { RoomRecording } from './RoomRecording.js';

const asked: RecordingStatus = {
  state: 'awaiting-consent',
  missingConsent: ['me'],
  requestedBy: 'dr-zhang',
  recordingId: 'rec-1',
  version: 3,
};
const OFF: RecordingStatus = { state: 'off', missingConsent: [], version: 0 };

describe('RoomRecording', () => {
  const ctx = useFakeServer();

  it('is unavailable and off when the server cannot record (no recording in the view)', async () => {
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.recording.available).toBe(false);
    expect(ctx.room.recording.state).toEqual(OFF);
    expect(ctx.room.recording.consentRequested).toBe(false);
    ctx.server.handlers.requestRecording = () => {
      throw new WireFailure('RECORDING_UNAVAILABLE', 'This server is not set up to record.');
    };
    await expect(ctx.room.recording.request()).rejects.toMatchObject({ code: 'RECORDING_UNAVAILABLE' });
  });

  it('a late joiner asked at join reads it from the state; changes arrive as recordingStateChanged', async () => {
    ctx.server.view = { recording: asked };
    ctx.room = await connect(ctx.server.url, 't', connectOptions());
    expect(ctx.room.recording.available).toBe(true);
    expect(ctx.room.recording.state).toEqual(asked);
    expect(ctx.room.recording.consentRequested).toBe(true);
    expect(ctx.room.recording.consented).toBe(false);

    let changed = nextEvent(ctx.room, 'recordingStateChanged');
    ctx.server.notify('recordingStateChanged', { ...asked, state: 'recording', missingConsent: [], version: 4 });
    expect(await changed).toEqual([{ ...asked, state: 'recording', missingConsent: [], version: 4 }, false]);
    expect(ctx.room.recording.consentRequested).toBe(false);
    expect(ctx.room.recording.consented).toBe(true);

    // A malformed notification is dropped on arrival; the next good one still applies.
    ctx.server.socket?.send(
      JSON.stringify({ notification: 'recordingStateChanged', data: { state: 'filming', missingConsent: [] } }),
    );
    changed = nextEvent(ctx.room, 'recordingStateChanged');
    ctx.server.notify('recordingStateChanged', { ...asked, state: 'paused', missingConsent: ['fam-1'], version: 6 });
    expect(await changed).toEqual([{ ...asked, state: 'paused', missingConsent: ['fam-1'], version: 6 }, false]);
    expect(ctx.room.recording.state.state).toBe('paused');

    // An older one (replayed after a reconnect) is stale: ignored, no event.
    const seen: unknown[] = [];
    ctx.room.on('recordingStateChanged', (status) => seen.push(status));
    ctx.server.notify('recordingStateChanged', { ...asked, state: 'recording', missingConsent: [], version: 5 });

    // Withdrawn: this participant is asked again.
    changed = nextEvent(ctx.room, 'recordingStateChanged');
    ctx.server.notify('recordingStateChanged', {
      ...asked,
      state: 'paused',
      missingConsent: ['fam-1', 'me'],
      version: 7,
    });
    expect((await changed)[1]).toBe(true);
    expect(seen).toHaveLength(1);
    expect(ctx.room.recording.state.version).toBe(7);
  });

  it('sends request, consent and stop, and passes the server’s refusal on', async () => {
    ctx.server.view = { recording: OFF };
    ctx.server.handlers.requestRecording = () => ({ recording: { ...asked, missingConsent: ['pt-1'] } });
    ctx.server.handlers.recordingConsent = (data) => ({
      recording: { ...asked, state: data.agree ? 'recording' : 'paused', missingConsent: data.agree ? [] : ['me'] },
    });
    ctx.server.handlers.stopRecording = () => ({ recording: OFF, recordingId: 'rec-1' });
    ctx.room = await connect(ctx.server.url, 't', connectOptions());

    expect(await ctx.room.recording.request()).toMatchObject({ state: 'awaiting-consent', missingConsent: ['pt-1'] });
    expect((await ctx.room.recording.consent(false)).state).toBe('paused');
    expect(await ctx.room.recording.stop()).toBe('rec-1');
    expect(ctx.server.requests.filter((r) => r.method !== 'ping').slice(-3)).toMatchObject([
      { method: 'requestRecording', data: {} },
      { method: 'recordingConsent', data: { agree: false } },
      { method: 'stopRecording', data: {} },
    ]);

    ctx.server.handlers.stopRecording = () => {
      throw new WireFailure('PERMISSION_DENIED', 'Your role does not allow you to stop the recording.');
    };
    await expect(ctx.room.recording.stop()).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('the view after admission or a reconnect replaces the state; an unchanged one emits nothing', () => {
    const emitted: [RecordingStatus, boolean][] = [];
    const recording = new RoomRecording({
      request: () => Promise.reject(new Error('not used')),
      emitChanged: (status, consentRequested) => emitted.push([status, consentRequested]),
      identity: () => 'me',
    });
    recording._applyView(asked, false);
    expect(emitted).toEqual([]);
    expect(recording.consentRequested).toBe(true);
    recording._applyView(asked, true);
    recording._handle({ ...asked, missingConsent: ['me'] });
    expect(emitted).toEqual([]);
    // The same state at a newer version raises the bar for stale ones without an event.
    recording._handle({ ...asked, version: 9 });
    recording._handle({ ...asked, state: 'recording', missingConsent: [], version: 8 });
    expect(emitted).toEqual([]);
    expect(recording.state).toEqual({ ...asked, version: 9 });
    recording._applyView(OFF, true);
    expect(emitted).toEqual([[OFF, false]]);
    // The state handed out is a copy: changing it changes nothing here.
    recording.state.missingConsent.push('x');
    expect(recording.state.missingConsent).toEqual([]);
    recording._reset();
    expect(recording.available).toBe(false);
  });
});
