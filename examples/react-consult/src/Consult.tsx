import { useEffect, useRef, type ReactNode } from 'react';
import {
  ChatPanel,
  ControlBar,
  RoomAudio,
  VideoTile,
  WaitingRoomList,
  useAdmission,
  useConnectionState,
  useLocalParticipant,
  useTracks,
} from '@huizhen/react';
import { RecordsList } from './RecordsList.js';
import type { ConsultRole } from './token.js';

const VIDEO_SOURCES = ['camera', 'screen'] as const;

/** The consult once joined: the lobby for a patient not yet let in, else the call. */
export function Consult({ role }: { role: ConsultRole }): ReactNode {
  const state = useConnectionState();
  const admission = useAdmission();
  if (state === 'connecting' || admission === undefined) return <p className="status">Connecting…</p>;
  if (admission === 'waiting')
    return (
      <p className="status" data-testid="lobby">
        You are in the waiting room. The doctor will let you in shortly.
      </p>
    );
  return (
    <div className="consult" data-testid="consult" data-state={state}>
      {state === 'reconnecting' ? <p className="banner">Connection lost, reconnecting…</p> : null}
      <main>
        <Stage />
        <RoomAudio />
        <PublishOnAdmit />
        <ControlBar />
      </main>
      <aside>
        {role === 'doctor' ? (
          <section>
            <h2>Waiting room</h2>
            <WaitingRoomList emptyText="Nobody is waiting." />
          </section>
        ) : null}
        <section>
          <h2>Records</h2>
          <RecordsList />
        </section>
        <section>
          <h2>Chat</h2>
          <ChatPanel />
        </section>
      </aside>
    </div>
  );
}

/** Everyone's camera and screen, this client's own included. */
function Stage(): ReactNode {
  const tracks = useTracks({ sources: VIDEO_SOURCES });
  return (
    <div className="stage">
      {tracks.map((ref) => (
        <VideoTile
          key={ref.track.trackId}
          track={ref}
          fit={ref.source === 'screen' ? 'contain' : 'cover'}
          {...(ref.isLocal ? { className: 'self' } : {})}
        />
      ))}
    </div>
  );
}

/** Camera and microphone on as soon as publishing is allowed, once (as a consult app does). */
function PublishOnAdmit(): null {
  const { participant, canPublish } = useLocalParticipant();
  const started = useRef(false);
  useEffect(() => {
    if (!participant || !canPublish || started.current) return;
    started.current = true;
    void participant.setMicrophoneEnabled(true).catch((error: unknown) => console.warn('microphone', error));
    void participant.setCameraEnabled(true).catch((error: unknown) => console.warn('camera', error));
  }, [participant, canPublish]);
  return null;
}
