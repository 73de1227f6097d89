/**
 * @internal
 * Room state as a `useSyncExternalStore` store. Room events only say "look
 * again"; the snapshot is read from the room each time and kept when it
 * equals the last one. So a change that happened before the subscription
 * (the tracks of people already in the room, announced before an effect ran)
 * is never missed: React reads the snapshot again right after subscribing.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { Room, RoomEventCallbacks } from '@huizhen/client-sdk';

/** @internal Starts calling `notify` on every change the hook depends on; returns the function that stops. */
export type RoomSubscriber = (room: Room, notify: () => void) => () => void;

/** @internal A subscriber for a fixed list of room events. */
export function onRoomEvents(events: readonly (keyof RoomEventCallbacks)[]): RoomSubscriber {
  return (room, notify) => {
    const stops = events.map((event) => room.subscribe(event, notify as RoomEventCallbacks[typeof event]));
    return () => {
      for (const stop of stops) stop();
    };
  };
}

/** @internal Both subscribers at once. */
export function combine(...subscribers: RoomSubscriber[]): RoomSubscriber {
  return (room, notify) => {
    const stops = subscribers.map((subscribe) => subscribe(room, notify));
    return () => {
      for (const stop of stops) stop();
    };
  };
}

/** @internal Equal arrays: same length, same items (by `Object.is`). */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => Object.is(item, b[i]));
}

/** The store's `getSnapshot`: reads afresh, returns the last value while it is equal. */
function snapshotReader<T>(
  room: Room | undefined,
  read: (room: Room) => T,
  equal: (a: T, b: T) => boolean,
  fallback: T,
): () => T {
  let last: { value: T } | undefined;
  return () => {
    if (!room) return fallback;
    const next = read(room);
    if (last && equal(last.value, next)) return last.value;
    last = { value: next };
    return next;
  };
}

/**
 * @internal
 * `read(room)` kept current through `subscribe`; `fallback` while there is no
 * room. `subscribe`, `read` and `equal` must be stable (module constants or memoized).
 */
export function useRoomState<T>(
  room: Room | undefined,
  subscribe: RoomSubscriber,
  read: (room: Room) => T,
  equal: (a: T, b: T) => boolean,
  fallback: T,
): T {
  const subscribeStore = useCallback(
    (notify: () => void) => (room ? subscribe(room, notify) : () => undefined),
    [room, subscribe],
  );
  const getSnapshot = useMemo(() => snapshotReader(room, read, equal, fallback), [room, read, equal, fallback]);
  return useSyncExternalStore(subscribeStore, getSnapshot, getSnapshot);
}
