/** `useRoomEvent()`: listen to one room event for as long as the component is mounted. */
import { useEffect, useRef } from 'react';
import type { ListenOptions, RoomEventCallbacks } from '@huizhen/client-sdk';
import { useRoom } from './context.js';

/**
 * Calls `listener` on every `event` of the current room while mounted (the
 * newest `listener` passed; it need not be memoized). With `{ replay: true }`
 * it is first called for what already holds (see the SDK's `ListenOptions`).
 *
 * ```tsx
 * useRoomEvent('mutedByHost', (track, by) => toast(`${by.name} muted your ${track.source}`));
 * ```
 */
export function useRoomEvent<E extends keyof RoomEventCallbacks>(
  event: E,
  listener: RoomEventCallbacks[E],
  options?: ListenOptions,
): void {
  const room = useRoom();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  const replay = options?.replay === true;
  useEffect(() => {
    if (!room) return;
    const forward = ((...args: Parameters<RoomEventCallbacks[E]>) =>
      (latest.current as (...a: Parameters<RoomEventCallbacks[E]>) => void)(...args)) as RoomEventCallbacks[E];
    return room.subscribe(event, forward, { replay });
  }, [room, event, replay]);
}
