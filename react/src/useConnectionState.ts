/** `useConnectionState()` and `useAdmission()`: where the room's connection and its lobby stand. */
import type { Admission, ConnectionState, Room } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { onRoomEvents, useRoomState } from './store.js';

const stateEvents = onRoomEvents(['connectionStateChanged']);
const readState = (room: Room): ConnectionState => room.state;
const admissionEvents = onRoomEvents(['connectionStateChanged', 'admitted', 'reconnected', 'disconnected']);
const same = Object.is;

/**
 * The room's connection: `connecting`, `connected`, `reconnecting` or
 * `disconnected` (also before the provider made its room). Re-renders on every change.
 */
export function useConnectionState(): ConnectionState {
  return useRoomState(useRoom(), stateEvents, readState, same, 'disconnected');
}

function readAdmission(room: Room): Admission | undefined {
  return room.state === 'connected' || room.state === 'reconnecting' ? room.admission : undefined;
}

/**
 * `'waiting'` while this participant waits in the consult's lobby for a
 * clinician to admit them, `'admitted'` once in the room; undefined while not connected.
 */
export function useAdmission(): Admission | undefined {
  return useRoomState(useRoom(), admissionEvents, readAdmission, same, undefined);
}
