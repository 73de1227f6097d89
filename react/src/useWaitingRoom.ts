/** `useWaitingRoom()`: the consult's lobby, for clinicians who may admit. */
import { useCallback } from 'react';
import { ErrorCode, HuizhenError, type Room, type WaitingEntry } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { onRoomEvents, sameItems, useRoomState } from './store.js';

/** What `useWaitingRoom()` returns. */
export interface WaitingRoom {
  /** Who waits, oldest first; empty for participants who may not admit. */
  readonly waiting: readonly WaitingEntry[];
  /** Whether this participant may admit and deny (the `admit` permission). */
  readonly canAdmit: boolean;
  /** Lets `identity` in. Rejects with a `HuizhenError` (PERMISSION_DENIED, NOT_FOUND, ...). */
  admit(identity: string): Promise<void>;
  /** Turns `identity` away; their session ends with `reason`. Rejects like `admit`. */
  deny(identity: string, reason?: string): Promise<void>;
}

const events = onRoomEvents(['waitingRoomChanged', 'connectionStateChanged', 'admitted', 'reconnected']);
const NONE: readonly WaitingEntry[] = [];
const readWaiting = (room: Room): readonly WaitingEntry[] => room.waitingRoom;
const readCanAdmit = (room: Room): boolean => room.state !== 'disconnected' && room.can('admit');

function notJoined(): Promise<never> {
  return Promise.reject(new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected'));
}

/**
 * The lobby of the current room, kept current, with `admit` and `deny`.
 * Everyone who was already waiting when this client joined is listed.
 */
export function useWaitingRoom(): WaitingRoom {
  const room = useRoom();
  const waiting = useRoomState(room, events, readWaiting, sameItems, NONE);
  const canAdmit = useRoomState(room, events, readCanAdmit, Object.is, false);
  const admit = useCallback((identity: string) => (room ? room.admit(identity) : notJoined()), [room]);
  const deny = useCallback(
    (identity: string, reason?: string) => (room ? room.deny(identity, reason) : notJoined()),
    [room],
  );
  return { waiting, canAdmit, admit, deny };
}
