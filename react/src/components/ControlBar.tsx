/** `<ControlBar>`: microphone, camera, screen share and leave buttons for this client. */
import { useState, type ReactNode } from 'react';
import type { LocalParticipant } from '@huizhen/client-sdk';
import { useRoom } from '../context.js';
import { reportFailure } from '../reportError.js';
import { useLocalParticipant } from '../useLocalParticipant.js';

/** Which buttons `<ControlBar>` shows; each is shown unless set to false. */
export interface ControlBarControls {
  /** Mute / unmute the microphone (publishes it the first time). */
  microphone?: boolean;
  /** Turn the camera off / on (publishes it the first time). */
  camera?: boolean;
  /** Start / stop sharing the screen. */
  screenShare?: boolean;
  /** Leave the room. */
  leave?: boolean;
}

/** Props of `<ControlBar>`. */
export interface ControlBarProps {
  /** Which buttons to show (all by default). */
  controls?: ControlBarControls;
  /** Called after leaving (the room is disconnected). */
  onLeave?: () => void;
  /** A device could not be opened, publishing failed, ... Default: reported as an uncaught error. */
  onError?: (error: Error) => void;
  /** Class of the outer element (`huizhen-control-bar` is always set). */
  className?: string;
}

type Toggle = 'microphone' | 'camera' | 'screen';

function toggle(local: LocalParticipant, which: Toggle, enabled: boolean): Promise<unknown> {
  if (which === 'microphone') return local.setMicrophoneEnabled(enabled);
  if (which === 'camera') return local.setCameraEnabled(enabled);
  return local.setScreenShareEnabled(enabled);
}

/**
 * Buttons for this client's microphone, camera, screen share, and leaving.
 * Each toggle's `aria-pressed` tells whether it is on; the media buttons are
 * disabled until the participant is admitted (nothing may be published from
 * the lobby) and while a change is under way. Leave is available whenever a
 * room exists.
 */
export function ControlBar(props: ControlBarProps): ReactNode {
  const room = useRoom();
  const local = useLocalParticipant();
  const [pending, setPending] = useState<Toggle | 'leave' | undefined>(undefined);
  const show = { microphone: true, camera: true, screenShare: true, leave: true, ...props.controls };

  const run = (which: Toggle | 'leave', action: () => Promise<unknown>): void => {
    setPending(which);
    action()
      .then(
        () => {
          if (which === 'leave') props.onLeave?.();
        },
        (error: unknown) => reportFailure(error, props.onError),
      )
      .finally(() => setPending(undefined));
  };
  const media = (which: Toggle, on: boolean, label: [string, string]): ReactNode => (
    <button
      type="button"
      data-control={which}
      aria-pressed={on}
      disabled={!local.canPublish || !local.participant || pending !== undefined}
      onClick={() => {
        const participant = local.participant;
        if (participant) run(which, () => toggle(participant, which, !on));
      }}
    >
      {on ? label[1] : label[0]}
    </button>
  );

  const className = ['huizhen-control-bar', props.className].filter(Boolean).join(' ');
  return (
    <div className={className} role="toolbar" aria-label="Call controls">
      {show.microphone ? media('microphone', local.isMicrophoneEnabled, ['Unmute', 'Mute']) : null}
      {show.camera ? media('camera', local.isCameraEnabled, ['Start camera', 'Stop camera']) : null}
      {show.screenShare ? media('screen', local.isScreenShareEnabled, ['Share screen', 'Stop sharing']) : null}
      {show.leave ? (
        <button
          type="button"
          data-control="leave"
          disabled={!room || pending === 'leave'}
          onClick={() => {
            if (room) run('leave', () => room.disconnect());
          }}
        >
          Leave
        </button>
      ) : null}
    </div>
  );
}
