/** `useParticipants()`: everyone in the room, kept current. */
import type { Participant, Room } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { onRoomEvents, sameItems, useRoomState } from './store.js';

const events = onRoomEvents([
  'participantJoined',
  'participantLeft',
  'connectionStateChanged',
  'admitted',
  'reconnected',
  'disconnected',
]);
const NONE: Participant[] = [];

function readParticipants(room: Room): Participant[] {
  // The local participant has no identity before the join answer.
  return room.state === 'connected' || room.state === 'reconnecting' ? room.participants : NONE;
}

/**
 * Everyone in the room: this client first (`room.localParticipant`), then the others in
 * the order they were seen. The people already there when this client
 * joined are included however late the component mounts. A new array only
 * when someone joins or leaves; empty while not connected.
 */
export function useParticipants(): Participant[] {
  return useRoomState(useRoom(), events, readParticipants, sameItems, NONE);
}
