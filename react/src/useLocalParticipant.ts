/** `useLocalParticipant()`: this client's own participant and what it publishes. */
import type { LocalParticipant, LocalTrack, Room } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { combine, onRoomEvents, useRoomState } from './store.js';
import { localTrackEvents } from './useTracks.js';

/** What `useLocalParticipant()` returns. A new object only when one of its fields changes. */
export interface LocalParticipantState {
  /** This client's participant (its identity is known once connected); undefined without a room. */
  readonly participant: LocalParticipant | undefined;
  /** The published microphone track, muted or not. */
  readonly microphone: LocalTrack | undefined;
  /** The published camera track, muted or not. */
  readonly camera: LocalTrack | undefined;
  /** The screen share being published. */
  readonly screen: LocalTrack | undefined;
  /** A microphone is published and not muted. */
  readonly isMicrophoneEnabled: boolean;
  /** A camera is published and not muted. */
  readonly isCameraEnabled: boolean;
  /** A screen share is published. */
  readonly isScreenShareEnabled: boolean;
  /** Publishing is possible: connected and admitted (not waiting in the lobby). */
  readonly canPublish: boolean;
}

const subscribe = combine(
  onRoomEvents(['localTrackPublished', 'localTrackUnpublished', 'connectionStateChanged', 'admitted', 'mutedByHost']),
  localTrackEvents,
);

const EMPTY: LocalParticipantState = {
  participant: undefined,
  microphone: undefined,
  camera: undefined,
  screen: undefined,
  isMicrophoneEnabled: false,
  isCameraEnabled: false,
  isScreenShareEnabled: false,
  canPublish: false,
};

function read(room: Room): LocalParticipantState {
  const participant = room.localParticipant;
  const microphone = participant.getTrack('microphone');
  const camera = participant.getTrack('camera');
  const screen = participant.getTrack('screen');
  return {
    participant,
    microphone,
    camera,
    screen,
    isMicrophoneEnabled: microphone !== undefined && !microphone.muted,
    isCameraEnabled: camera !== undefined && !camera.muted,
    isScreenShareEnabled: screen !== undefined,
    canPublish: room.state === 'connected' && room.admission === 'admitted',
  };
}

function same(a: LocalParticipantState, b: LocalParticipantState): boolean {
  return (Object.keys(a) as (keyof LocalParticipantState)[]).every((key) => Object.is(a[key], b[key]));
}

/** This client's participant, its microphone, camera and screen tracks, and whether each is on. */
export function useLocalParticipant(): LocalParticipantState {
  return useRoomState(useRoom(), subscribe, read, same, EMPTY);
}
