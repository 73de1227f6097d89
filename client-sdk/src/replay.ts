/**
 * Subscribe-with-replay: `room.on(event, listener, { replay: true })` also calls
 * the listener at once for what already happened and still holds, so a
 * listener added late (a React `useEffect` after `connect()` resolved, a view
 * mounted mid-call) misses no track and no participant. Adding a listener and
 * replaying happen in one synchronous step: no event can fall between them.
 */
import type { LocalParticipant } from './LocalParticipant.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { ConnectionState, RoomEventCallbacks } from './events.js';
import type { WaitingEntry } from '@huizhen/protocol';

/** The third argument of `room.on`. */
export interface ListenOptions {
  /**
   * Call the listener right away with the current state, as if the events had
   * been heard: `trackSubscribed` for every remote track received now,
   * `participantJoined` for everyone in the room, `waitingRoomChanged` with the
   * lobby (when not empty), `localTrackPublished` for each track this client
   * publishes, `connectionStateChanged` with the current state. Other events
   * have no state to replay.
   */
  replay?: boolean;
}

/** What a replay reads from the room. */
export interface ReplaySource {
  readonly remoteParticipants: ReadonlyMap<string, RemoteParticipant>;
  readonly waitingRoom: readonly WaitingEntry[];
  readonly localParticipant: LocalParticipant;
  readonly state: ConnectionState;
}

/** The events `{ replay: true }` replays; the others have no state behind them. */
export const REPLAYED_EVENTS = [
  'trackSubscribed',
  'participantJoined',
  'waitingRoomChanged',
  'localTrackPublished',
  'connectionStateChanged',
] as const satisfies readonly (keyof RoomEventCallbacks)[];

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
    case 'localTrackPublished': {
      const local = source.localParticipant;
      const call = listener as RoomEventCallbacks['localTrackPublished'];
      for (const track of [...local.tracks.values()]) call(track, local);
      return;
    }
    case 'connectionStateChanged': {
      (listener as RoomEventCallbacks['connectionStateChanged'])(source.state);
      return;
    }
    default:
      return;
  }
}
