/**
 * Subscribe-with-replay: `room.on(event, listener, { replay: true })` also calls
 * the listener at once for what already happened and still holds, so a
 * listener added late (a React `useEffect` after `connect()` resolved, a view
 * mounted mid-call) misses no track and no participant. Adding a listener and
 * replaying happen in one synchronous step: no event can fall between them.
 */
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { RoomEventCallbacks } from './events.js';
import type { WaitingEntry } from '@huizhen/protocol';

/** The third argument of `room.on`. */
export interface ListenOptions {
  /**
   * Call the listener right away with the current state, as if the events had
   * been heard: `trackSubscribed` for every remote track received now,
   * `participantJoined` for everyone in the room, `waitingRoomChanged` with the
   * lobby (when not empty). Other events have no state to replay.
   */
  replay?: boolean;
}

/** What a replay reads from the room. */
export interface ReplaySource {
  readonly remoteParticipants: ReadonlyMap<string, RemoteParticipant>;
  readonly waitingRoom: readonly WaitingEntry[];
}

/** Calls `listener` for the current state behind `event` (nothing for events without one). */
export function replay<E extends keyof RoomEventCallbacks>(
  source: ReplaySource,
  event: E,
  listener: RoomEventCallbacks[E],
): void {
  // Snapshots: a listener that disconnects or unsubscribes mid-replay changes nothing here.
  const participants = [...source.remoteParticipants.values()];
  switch (event) {
    case 'trackSubscribed': {
      const call = listener as RoomEventCallbacks['trackSubscribed'];
      for (const participant of participants)
        for (const track of [...participant.tracks.values()]) call(track, participant);
      return;
    }
    case 'participantJoined': {
      const call = listener as RoomEventCallbacks['participantJoined'];
      for (const participant of participants) call(participant);
      return;
    }
    case 'waitingRoomChanged': {
      if (source.waitingRoom.length > 0)
        (listener as RoomEventCallbacks['waitingRoomChanged'])([...source.waitingRoom]);
      return;
    }
    default:
      return;
  }
}
