// @vitest-environment jsdom
/**
 * The ready-made components against a real Huizhen server, driven as a user
 * would (clicks, typing): the waiting room's admit and deny, chat both ways,
 * the control bar's mute and leave, and a video tile attaching and detaching
 * its track. jsdom has no WebRTC: the fake WebRTC handler carries signaling
 * and consumers, fake MediaStreamTracks stand in for devices.
 */
import { StrictMode, type ReactNode } from 'react';
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, DisconnectReason, Room } from '@huizhen/client-sdk';
import { HuizhenRoom } from '../HuizhenRoom.js';
import { useAdmission, useConnectionState } from '../useConnectionState.js';
import { useTracks } from '../useTracks.js';
import { ChatPanel } from './ChatPanel.js';
import { ControlBar } from './ControlBar.js';
import { VideoTile } from './VideoTile.js';
import { WaitingRoomList } from './WaitingRoomList.js';
import {
  fakeTrack,
  joinDirect,
  logLines,
  nodeOptions,
  startTestServer,
  type TestServer,
} from '../test-support/realServer.js';

let t: TestServer;
const others: Room[] = [];

/** jsdom has no MediaStream; the SDK builds one to set an element's `srcObject`. */
class TestMediaStream {
  readonly #tracks: MediaStreamTrack[];
  constructor(tracks: MediaStreamTrack[] = []) {
    this.#tracks = [...tracks];
  }
  getTracks(): MediaStreamTrack[] {
    return [...this.#tracks];
  }
}

beforeAll(async () => {
  const g = globalThis as { MediaStream?: unknown };
  g.MediaStream ??= TestMediaStream;
  t = await startTestServer();
});

afterEach(async () => {
  cleanup();
  await Promise.all(others.splice(0).map((r) => r.disconnect()));
});

afterAll(async () => {
  await t.close();
});

function State(): ReactNode {
  const state = useConnectionState();
  const admission = useAdmission();
  return <p data-testid="state">{`${state}/${admission ?? '-'}`}</p>;
}

const stateText = (): string | null => screen.getByTestId('state').textContent;

function provider(
  identity: string,
  role: Parameters<TestServer['token']>[1],
  roomId: string,
  children: ReactNode,
  extra: {
    onConnected?: (room: Room) => void;
    onDisconnected?: (reason: DisconnectReason) => void;
  } = {},
): ReactNode {
  return (
    <StrictMode>
      <HuizhenRoom
        serverUrl={t.url}
        token={t.token(identity, role, roomId, { name: identity.toUpperCase() })}
        options={nodeOptions()}
        {...extra}
      >
        <State />
        {children}
      </HuizhenRoom>
    </StrictMode>
  );
}

describe('<WaitingRoomList>', () => {
  it('lists who already waited before the doctor joined, admits with a click, then denies the next', async () => {
    const patient = await joinDirect(t, 'pt-lobby', 'patient', 'react-lobby');
    others.push(patient);
    expect(patient.admission).toBe('waiting');
    const admitted = new Promise<void>((resolve) => patient.once('admitted', resolve));

    render(provider('dr-lobby', 'doctor', 'react-lobby', <WaitingRoomList denyReason="Please rebook" />));
    const row = await screen.findByText('pt-lobby', {}, { timeout: 10_000 });
    const item = row.closest('li');
    if (!item) throw new Error('no row for the patient');
    fireEvent.click(within(item).getByText('Admit'));
    await admitted;
    expect(patient.admission).toBe('admitted');
    await screen.findByText('Nobody is waiting', {}, { timeout: 10_000 });

    const second = await joinDirect(t, 'pt-lobby-2', 'patient', 'react-lobby');
    others.push(second);
    const ended = new Promise<string>((resolve) => second.once('disconnected', (reason) => resolve(reason)));
    const row2 = await screen.findByText('pt-lobby-2', {}, { timeout: 10_000 });
    fireEvent.click(within(row2.closest('li') as HTMLElement).getByText('Deny'));
    expect(await ended).toBe('admissionDenied');
    await screen.findByText('Nobody is waiting', {}, { timeout: 10_000 });
    expect(logLines(t, 'participant joined').filter((l) => l.participant === 'pt-lobby-2')).toEqual([]);
  });

  it('shows nothing to a patient, who waits and is told when admitted', async () => {
    const doctor = await joinDirect(t, 'dr-lobby-b', 'doctor', 'react-lobby-b');
    others.push(doctor);
    render(provider('pt-lobby-b', 'patient', 'react-lobby-b', <WaitingRoomList />));
    await waitFor(() => expect(stateText()).toBe('connected/waiting'), { timeout: 10_000 });
    expect(screen.queryByText('Admit')).toBeNull();
    expect(screen.queryByText('Nobody is waiting')).toBeNull();
    await doctor.admit('pt-lobby-b');
    await waitFor(() => expect(stateText()).toBe('connected/admitted'), { timeout: 10_000 });
  });

  it("ends the patient's room when the doctor denies: onDisconnected says admissionDenied", async () => {
    const doctor = await joinDirect(t, 'dr-lobby-c', 'doctor', 'react-lobby-c');
    others.push(doctor);
    const reasons: DisconnectReason[] = [];
    render(
      provider('pt-lobby-c', 'patient', 'react-lobby-c', null, { onDisconnected: (reason) => reasons.push(reason) }),
    );
    await waitFor(() => expect(stateText()).toBe('connected/waiting'), { timeout: 10_000 });
    await doctor.deny('pt-lobby-c', 'Not today');
    await waitFor(() => expect(reasons).toEqual(['admissionDenied']), { timeout: 10_000 });
    expect(stateText()).toBe('disconnected/-');
  });
});

describe('<ChatPanel>', () => {
  it('sends what is typed and shows what the others write, in server order', async () => {
    const specialist = await joinDirect(t, 'sp-chat', 'specialist', 'react-chat');
    others.push(specialist);
    const heard: ChatMessage[] = [];
    specialist.on('chat', (m) => heard.push(m));
    render(provider('dr-chat', 'doctor', 'react-chat', <ChatPanel />));
    const input = screen.getByLabelText('Message') as HTMLInputElement;
    await waitFor(() => expect(input.disabled).toBe(false), { timeout: 10_000 });

    fireEvent.change(input, { target: { value: '  BP 128/82, stable  ' } });
    fireEvent.click(screen.getByText('Send'));
    await waitFor(() => expect(heard.map((m) => m.text)).toEqual(['BP 128/82, stable']), { timeout: 10_000 });
    await waitFor(() => expect(input.value).toBe(''));

    await specialist.sendChat('Agree; repeat the ECG tomorrow');
    await screen.findByText('Agree; repeat the ECG tomorrow', {}, { timeout: 10_000 });
    const lines = [...screen.getByLabelText('Chat messages').querySelectorAll('li')].map((li) => li.textContent);
    expect(lines).toEqual(['DR-CHAT BP 128/82, stable', 'sp-chat Agree; repeat the ECG tomorrow']);
  });

  it('is disabled for a patient still in the lobby', async () => {
    const doctor = await joinDirect(t, 'dr-chat-b', 'doctor', 'react-chat-b');
    others.push(doctor);
    render(provider('pt-chat-b', 'patient', 'react-chat-b', <ChatPanel />));
    await waitFor(() => expect(stateText()).toBe('connected/waiting'), { timeout: 10_000 });
    expect((screen.getByLabelText('Message') as HTMLInputElement).disabled).toBe(true);
    await doctor.admit('pt-chat-b');
    await waitFor(() => expect((screen.getByLabelText('Message') as HTMLInputElement).disabled).toBe(false), {
      timeout: 10_000,
    });
  });
});

describe('<ControlBar>', () => {
  it('mutes and unmutes the published microphone (the others are told), reports a device failure, and leaves', async () => {
    const specialist = await joinDirect(t, 'sp-bar', 'specialist', 'react-bar');
    others.push(specialist);
    const muted: string[] = [];
    specialist.on('trackMuted', (track) => muted.push(`muted:${track.source}`));
    specialist.on('trackUnmuted', (track) => muted.push(`unmuted:${track.source}`));
    let room: Room | undefined;
    const errors: Error[] = [];
    const reasons: DisconnectReason[] = [];
    let left = 0;
    render(
      provider('dr-bar', 'doctor', 'react-bar', <ControlBar onError={(e) => errors.push(e)} onLeave={() => left++} />, {
        onConnected: (r) => (room = r),
        onDisconnected: (reason) => reasons.push(reason),
      }),
    );
    await waitFor(() => expect(stateText()).toBe('connected/admitted'), { timeout: 10_000 });
    const mic = screen.getByText('Unmute').closest('button') as HTMLButtonElement;
    expect(mic.getAttribute('aria-pressed')).toBe('false');
    // The app's own device (jsdom has none): published once, the bar toggles it from then on.
    await act(async () => {
      await room?.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    });
    expect(mic.textContent).toBe('Mute');
    expect(mic.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(mic);
    await waitFor(() => expect(mic.getAttribute('aria-pressed')).toBe('false'), { timeout: 10_000 });
    await waitFor(() => expect(muted).toEqual(['muted:microphone']), { timeout: 10_000 });
    await waitFor(() => expect(mic.disabled).toBe(false));
    fireEvent.click(mic);
    await waitFor(() => expect(muted).toEqual(['muted:microphone', 'unmuted:microphone']), { timeout: 10_000 });

    // No camera in jsdom: the failure goes to onError, nothing is published.
    fireEvent.click(screen.getByText('Start camera'));
    await waitFor(() => expect(errors).toHaveLength(1), { timeout: 10_000 });
    expect(room?.localParticipant.getTrack('camera')).toBeUndefined();

    fireEvent.click(screen.getByText('Leave'));
    await waitFor(() => expect(left).toBe(1), { timeout: 10_000 });
    expect(reasons).toEqual(['clientInitiated']);
    await waitFor(() => expect(stateText()).toBe('disconnected/-'));
    await waitFor(
      () => expect(logLines(t, 'participant left').filter((l) => l.participant === 'dr-bar')).toHaveLength(1),
      { timeout: 10_000 },
    );
  });
});

function Stage(): ReactNode {
  return (
    <div data-testid="stage">
      {useTracks({ sources: ['camera'] }).map((ref) => (
        <VideoTile key={ref.track.trackId} track={ref} />
      ))}
    </div>
  );
}

describe('<VideoTile>', () => {
  it('attaches the remote camera to its <video>, shows the placeholder while muted, detaches when it goes', async () => {
    const doctor = await joinDirect(t, 'dr-tile', 'doctor', 'react-tile');
    others.push(doctor);
    const camera = await doctor.localParticipant.setCameraEnabled(true, { track: fakeTrack('video') });
    let room: Room | undefined;
    render(provider('sp-tile', 'specialist', 'react-tile', <Stage />, { onConnected: (r) => (room = r) }));
    const tile = await waitFor(
      () => {
        const el = screen.getByTestId('stage').querySelector('.huizhen-tile');
        if (!el) throw new Error('no tile yet');
        return el as HTMLElement;
      },
      { timeout: 10_000 },
    );
    const remote = room?.remoteParticipants.get('dr-tile')?.getTrack('camera');
    if (!remote) throw new Error('the camera was not received');
    const video = tile.querySelector('video') as HTMLVideoElement;
    expect((video.srcObject as unknown as TestMediaStream).getTracks()).toEqual([remote.mediaStreamTrack]);
    expect(remote.attachedElements).toEqual([video]);
    expect(tile.dataset.muted).toBe('false');
    expect(tile.dataset.source).toBe('camera');
    expect(within(tile).getByText('dr-tile')).toBeTruthy();

    await camera?.mute();
    await waitFor(() => expect(tile.dataset.muted).toBe('true'), { timeout: 10_000 });
    expect(video.hidden).toBe(true);
    expect(tile.querySelector('.huizhen-tile-placeholder')?.textContent).toBe('D');

    await camera?.unpublish();
    await waitFor(() => expect(screen.getByTestId('stage').querySelector('.huizhen-tile')).toBeNull(), {
      timeout: 10_000,
    });
    expect(remote.attachedElements).toEqual([]);
    expect(video.srcObject).toBeNull();
  });

  it('detaches when unmounted while the track goes on', async () => {
    const doctor = await joinDirect(t, 'dr-tile-b', 'doctor', 'react-tile-b');
    others.push(doctor);
    await doctor.localParticipant.setCameraEnabled(true, { track: fakeTrack('video') });
    let room: Room | undefined;
    const { unmount } = render(
      provider('sp-tile-b', 'specialist', 'react-tile-b', <Stage />, { onConnected: (r) => (room = r) }),
    );
    await waitFor(() => expect(screen.getByTestId('stage').querySelector('video')).not.toBeNull(), {
      timeout: 10_000,
    });
    const remote = room?.remoteParticipants.get('dr-tile-b')?.getTrack('camera');
    expect(remote?.attachedElements).toHaveLength(1);
    unmount();
    expect(remote?.attachedElements).toEqual([]);
    expect(remote?.isEnded).toBe(false);
  });
});
