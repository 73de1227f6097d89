/** `useTracks()`: every track in the room, local and remote, as references that say whose and which. */
import { useCallback } from 'react';
import type { LocalTrack, MediaKind, Participant, RemoteTrack, Room, TrackSource } from '@huizhen/client-sdk';
import { useRoom } from './context.js';
import { combine, onRoomEvents, type RoomSubscriber, useRoomState } from './store.js';

/** One track in the room and whose it is. A new object when the track's mute state changes. */
export interface TrackReference {
  /** Who publishes it (`room.localParticipant` for this client's own). */
  readonly participant: Participant;
  /** The track: a `LocalTrack` for this client's own, a `RemoteTrack` otherwise. */
  readonly track: LocalTrack | RemoteTrack;
  /** camera, microphone, screen or screenAudio. */
  readonly source: TrackSource;
  /** audio or video. */
  readonly kind: MediaKind;
  /** Whether its publisher has it muted. */
  readonly muted: boolean;
  /** Whether it is this client's own track. */
  readonly isLocal: boolean;
}

/** Which tracks `useTracks` returns. */
export interface UseTracksOptions {
  /** Only these sources (e.g. `['camera', 'screen']` for a video grid). All by default. */
  sources?: readonly TrackSource[];
  /** Include this client's own tracks (default true). */
  includeLocal?: boolean;
}

const roomEvents = onRoomEvents([
  'trackSubscribed',
  'trackUnsubscribed',
  'trackMuted',
  'trackUnmuted',
  'localTrackPublished',
  'localTrackUnpublished',
  'participantLeft',
  'connectionStateChanged',
  'reconnected',
  'disconnected',
]);

/** @internal The local tracks' own mute events (local mutes are not room events). */
export const localTrackEvents: RoomSubscriber = (room, notify) => {
  const watched = new Map<LocalTrack, () => void>();
  const watch = (track: LocalTrack): void => {
    if (watched.has(track)) return;
    track.on('muted', notify).on('unmuted', notify);
    watched.set(track, () => track.off('muted', notify).off('unmuted', notify));
  };
  const unwatch = (track: LocalTrack): void => {
    watched.get(track)?.();
    watched.delete(track);
  };
  const stopPublished = room.subscribe('localTrackPublished', watch, { replay: true });
  const stopUnpublished = room.subscribe('localTrackUnpublished', unwatch);
  return () => {
    stopPublished();
    stopUnpublished();
    for (const stop of watched.values()) stop();
    watched.clear();
  };
};

const subscribeTracks = combine(roomEvents, localTrackEvents);
const NONE: TrackReference[] = [];

function sameReferences(a: readonly TrackReference[], b: readonly TrackReference[]): boolean {
  return (
    a.length === b.length &&
    a.every((ref, i) => {
      const other = b[i];
      return other !== undefined && ref.track === other.track && ref.muted === other.muted;
    })
  );
}

/**
 * Every track in the room (this client's first, then each remote
 * participant's in the order they were seen), kept current: tracks that
 * were received before the component mounted are there too. Filter with
 * `sources` and `includeLocal`.
 */
export function useTracks(options: UseTracksOptions = {}): TrackReference[] {
  const includeLocal = options.includeLocal ?? true;
  const sourcesKey = options.sources?.join(',') ?? '';
  const read = useCallback(
    (room: Room): TrackReference[] => {
      if (room.state !== 'connected' && room.state !== 'reconnecting') return NONE;
      const sources = sourcesKey ? new Set(sourcesKey.split(',')) : undefined;
      const refs: TrackReference[] = [];
      for (const participant of room.participants) {
        const isLocal = participant === room.localParticipant;
        if (isLocal && !includeLocal) continue;
        for (const track of participant.tracks.values()) {
          if (sources && !sources.has(track.source)) continue;
          refs.push({
            participant,
            track,
            source: track.source,
            kind: track.kind,
            muted: track.muted,
            isLocal,
          });
        }
      }
      return refs;
    },
    [sourcesKey, includeLocal],
  );
  return useRoomState(useRoom(), subscribeTracks, read, sameReferences, NONE);
}
