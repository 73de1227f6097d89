/** `<RoomAudio>`: plays every remote participant's audio. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { Track } from '@huizhen/client-sdk';
import { useTracks } from '../useTracks.js';

function AudioTrack({ track }: { track: Track }): ReactNode {
  const element = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = element.current;
    if (!el) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [track]);
  return <audio ref={element} autoPlay data-source={track.source} />;
}

const AUDIO_SOURCES = ['microphone', 'screenAudio'] as const;

/**
 * Plays the microphones and screen-share audio of everyone else in hidden
 * `<audio>` elements (never this client's own). Mount it once inside
 * `<HuizhenRoom>`. Browsers may block autoplay with sound until the user
 * interacts with the page: call `room.startMedia()` from a click after the
 * room's `mediaPlaybackBlocked` event.
 */
export function RoomAudio(): ReactNode {
  const tracks = useTracks({ sources: AUDIO_SOURCES, includeLocal: false });
  return (
    <div className="huizhen-room-audio" hidden>
      {tracks.map((ref) => (
        <AudioTrack key={ref.track.trackId} track={ref.track} />
      ))}
    </div>
  );
}
