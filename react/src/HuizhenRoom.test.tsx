// @vitest-environment jsdom
/**
 * <HuizhenRoom> and the hooks against a real Huizhen server: joining once
 * under StrictMode (counted on the server), the connection state, people and
 * tracks already in the room seen by a component mounted late, and leaving.
 */
import { StrictMode, useState, type ReactNode } from 'react';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DisconnectReason, Room } from '@huizhen/client-sdk';
import { HuizhenRoom } from './HuizhenRoom.js';
import { useAdmission, useConnectionState } from './useConnectionState.js';
import { useParticipants } from './useParticipants.js';
import { useTracks } from './useTracks.js';
import { useRoom } from './context.js';
import {
  fakeTrack,
  joinDirect,
  logLines,
  nodeOptions,
  startTestServer,
  type TestServer,
} from './test-support/realServer.js';

let t: TestServer;
const others: Room[] = [];

beforeAll(async () => {
  t = await startTestServer();
});

afterEach(async () => {
  cleanup();
  await Promise.all(others.splice(0).map((r) => r.disconnect()));
});

afterAll(async () => {
  await t.close();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const joinsOf = (identity: string) => logLines(t, 'participant joined').filter((l) => l.participant === identity);
const leavesOf = (identity: string) => logLines(t, 'participant left').filter((l) => l.participant === identity);

function State(): ReactNode {
  const state = useConnectionState();
  const admission = useAdmission();
  return <p data-testid="state">{`${state}/${admission ?? '-'}`}</p>;
}

function Names(): ReactNode {
  return (
    <ul data-testid="names">
      {useParticipants().map((p) => (
        <li key={p.identity}>{p.identity}</li>
      ))}
    </ul>
  );
}

function Tracks(): ReactNode {
  return (
    <ul data-testid="tracks">
      {useTracks().map((ref) => (
        <li key={ref.track.trackId}>{`${ref.participant.identity}/${ref.source}${ref.muted ? '/muted' : ''}`}</li>
      ))}
    </ul>
  );
}

/** Mounts its children only after the button is pressed: a view opened mid-call. */
function Later({ children }: { children: ReactNode }): ReactNode {
  const [shown, setShown] = useState(false);
  return shown ? children : <button onClick={() => setShown(true)}>show</button>;
}

const items = (testId: string): (string | null)[] =>
  [...screen.getByTestId(testId).querySelectorAll('li')].map((li) => li.textContent);
const stateText = (): string | null => screen.getByTestId('state').textContent;

describe('<HuizhenRoom>', () => {
  it('joins once under StrictMode (one socket, one join on the server) and leaves once when unmounted', async () => {
    // What the SDK says about each connect attempt: a join cancelled by StrictMode's cleanup says `connect failed`.
    const said: string[] = [];
    const record = (...data: unknown[]): void => void said.push(String(data[1]));
    const options = {
      ...nodeOptions(),
      logLevel: 'info' as const,
      logSink: { debug: record, info: record, warn: record, error: record },
    };
    const connected: Room[] = [];
    const disconnects: DisconnectReason[] = [];
    render(
      <StrictMode>
        <HuizhenRoom
          serverUrl={t.url}
          token={t.token('dr-strict', 'doctor', 'react-strict')}
          options={options}
          onConnected={(room) => connected.push(room)}
          onDisconnected={(reason) => disconnects.push(reason)}
        >
          <State />
        </HuizhenRoom>
      </StrictMode>,
    );
    expect(stateText()).toBe('connecting/-');
    await waitFor(() => expect(stateText()).toBe('connected/admitted'), { timeout: 10_000 });
    // Time for a second join to show up, if there were one.
    await sleep(300);
    expect(options.sockets).toHaveLength(1);
    expect(connected).toHaveLength(1);
    // One Room, one connect attempt: the first effect's room was kept, not cancelled and replaced.
    expect(said.filter((m) => m === 'connected')).toHaveLength(1);
    expect(said.filter((m) => m === 'connect failed')).toEqual([]);
    expect(disconnects).toEqual([]);
    expect(joinsOf('dr-strict')).toHaveLength(1);
    expect(leavesOf('dr-strict')).toEqual([]);
    expect(t.logs.some((line) => line.includes('"replaced"') || line.includes('DUPLICATE_IDENTITY'))).toBe(false);

    cleanup();
    await waitFor(() => expect(leavesOf('dr-strict')).toHaveLength(1), { timeout: 10_000 });
    expect(leavesOf('dr-strict')[0]).toMatchObject({ reason: 'left' });
    expect(disconnects).toEqual(['clientInitiated']);
    expect(joinsOf('dr-strict')).toHaveLength(1);
  });

  it('leaves when `connect` turns false and joins again when it turns true', async () => {
    const token = t.token('dr-toggle', 'doctor', 'react-toggle');
    const options = nodeOptions();
    const view = (connect: boolean) => (
      <HuizhenRoom serverUrl={t.url} token={token} options={options} connect={connect}>
        <State />
      </HuizhenRoom>
    );
    const { rerender } = render(view(true));
    await waitFor(() => expect(stateText()).toBe('connected/admitted'), { timeout: 10_000 });
    rerender(view(false));
    await waitFor(() => expect(leavesOf('dr-toggle')).toHaveLength(1), { timeout: 10_000 });
    expect(stateText()).toBe('disconnected/-');
    rerender(view(true));
    await waitFor(() => expect(stateText()).toBe('connected/admitted'), { timeout: 10_000 });
    expect(joinsOf('dr-toggle')).toHaveLength(2);
    expect(options.sockets).toHaveLength(2);
  });

  it('a new token replaces the room quietly: the old room ends on the server, the app hears no disconnect', async () => {
    const options = nodeOptions();
    const connected: Room[] = [];
    const disconnects: DisconnectReason[] = [];
    const view = (token: string) => (
      <HuizhenRoom
        serverUrl={t.url}
        token={token}
        options={options}
        onConnected={(room) => connected.push(room)}
        onDisconnected={(reason) => disconnects.push(reason)}
      >
        <State />
      </HuizhenRoom>
    );
    const { rerender } = render(view(t.token('dr-swap', 'doctor', 'react-swap-1')));
    await waitFor(() => expect(connected).toHaveLength(1), { timeout: 10_000 });
    rerender(view(t.token('dr-swap', 'doctor', 'react-swap-2')));
    await waitFor(() => expect(connected).toHaveLength(2), { timeout: 10_000 });
    await waitFor(() => expect(leavesOf('dr-swap')).toHaveLength(1), { timeout: 10_000 });
    expect(leavesOf('dr-swap')[0]).toMatchObject({ room: 'react-swap-1' });
    // The old room's `disconnected` arrived after the swap; the session the app holds is the new one.
    await sleep(200);
    expect(disconnects).toEqual([]);
    expect(connected[1]?.state).toBe('connected');
    expect(stateText()).toBe('connected/admitted');
  });

  it('reports a refused join through onError with its code', async () => {
    const errors: Error[] = [];
    render(
      <HuizhenRoom serverUrl={t.url} token="not-a-token" options={nodeOptions()} onError={(e) => errors.push(e)}>
        <State />
      </HuizhenRoom>,
    );
    await waitFor(() => expect(errors).toHaveLength(1), { timeout: 10_000 });
    expect(errors[0]).toMatchObject({ code: 'TOKEN_INVALID' });
    expect(stateText()).toBe('disconnected/-');
  });

  it('throws a typed error when a hook is used outside a provider', () => {
    function Orphan(): ReactNode {
      useRoom();
      return null;
    }
    const quiet = console.error;
    console.error = () => undefined;
    try {
      expect(() => render(<Orphan />)).toThrow(/need a <HuizhenRoom>/);
    } finally {
      console.error = quiet;
    }
  });
});

describe('useParticipants and useTracks', () => {
  it('show the people and tracks already in the room to a view mounted late, then follow joins, leaves and mutes', async () => {
    const doctor = await joinDirect(t, 'dr-people', 'doctor', 'react-people');
    others.push(doctor);
    const mic = await doctor.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    let room: Room | undefined;
    render(
      <StrictMode>
        <HuizhenRoom
          serverUrl={t.url}
          token={t.token('sp-people', 'specialist', 'react-people')}
          options={nodeOptions()}
          onConnected={(r) => (room = r)}
        >
          <Later>
            <Names />
            <Tracks />
          </Later>
        </HuizhenRoom>
      </StrictMode>,
    );
    // Wait until the doctor's microphone was received and announced, then open the view.
    await waitFor(() => expect(room?.remoteParticipants.get('dr-people')?.tracks.size).toBe(1), { timeout: 10_000 });
    fireEvent.click(screen.getByText('show'));
    expect(items('names')).toEqual(['sp-people', 'dr-people']);
    expect(items('tracks')).toEqual(['dr-people/microphone']);

    const nurse = await joinDirect(t, 'nu-people', 'nurse', 'react-people');
    others.push(nurse);
    await waitFor(() => expect(items('names')).toEqual(['sp-people', 'dr-people', 'nu-people']), { timeout: 10_000 });

    await mic?.mute();
    await waitFor(() => expect(items('tracks')).toEqual(['dr-people/microphone/muted']), { timeout: 10_000 });
    await doctor.localParticipant.setCameraEnabled(true, { track: fakeTrack('video') });
    await waitFor(() => expect(items('tracks')).toEqual(['dr-people/microphone/muted', 'dr-people/camera']), {
      timeout: 10_000,
    });
    // This client's own tracks are listed first.
    await act(async () => {
      await room?.localParticipant.setMicrophoneEnabled(true, { track: fakeTrack('audio') });
    });
    expect(items('tracks')[0]).toBe('sp-people/microphone');

    await nurse.disconnect();
    await waitFor(() => expect(items('names')).toEqual(['sp-people', 'dr-people']), { timeout: 10_000 });
    await doctor.disconnect();
    await waitFor(() => expect(items('tracks')).toEqual(['sp-people/microphone']), { timeout: 10_000 });
    expect(items('names')).toEqual(['sp-people']);
  });
});
