/** `<VideoTile>`: one participant's video in a `<video>` element, with a name label. */
import { useCallback, useEffect, useRef, useSyncExternalStore, type CSSProperties, type ReactNode } from 'react';
import type { Participant, Track } from '@huizhen/client-sdk';
import type { TrackReference } from '../useTracks.js';

/** Props of `<VideoTile>`. */
export interface VideoTileProps {
  /** The video track to show (a `TrackReference` from `useTracks`, or a track itself). None shows the placeholder. */
  track?: TrackReference | Track | undefined;
  /** Whose tile it is, for the label; taken from a `TrackReference` when not given. */
  participant?: Participant | undefined;
  /** The label; by default the participant's name (or identity). Pass `null` for none. */
  label?: ReactNode;
  /** Mirror the picture (the usual choice for one's own camera). Default: mirrored for a local camera. */
  mirror?: boolean;
  /** How the video fills the tile: `cover` (default) or `contain` (screen shares, documents). */
  fit?: 'cover' | 'contain';
  /** Class of the outer element (`huizhen-tile` is always set). */
  className?: string;
  /** Style of the outer element. */
  style?: CSSProperties;
}

function isReference(value: TrackReference | Track): value is TrackReference {
  return 'track' in value && 'participant' in value;
}

const noSubscription = (): (() => void) => () => undefined;

/** Whether `track` is muted now, re-rendering when that changes. */
function useMuted(track: Track | undefined): boolean {
  // One subscribe function per track: a new one each render would resubscribe every render.
  const subscribe = useCallback(
    (notify: () => void) => {
      if (!track) return noSubscription();
      track.on('muted', notify).on('unmuted', notify);
      return () => track.off('muted', notify).off('unmuted', notify);
    },
    [track],
  );
  return useSyncExternalStore(
    subscribe,
    () => track?.muted ?? false,
    () => false,
  );
}

/**
 * Shows a video track: attaches it to its `<video>` when mounted or when the
 * track changes, and detaches it when unmounted. For a remote track the SDK
 * watches the element's size and asks the server for the simulcast layer that
 * fits it (a thumbnail gets a small layer), so one `<VideoTile>` per view is all
 * it takes. Without a track, or while it is muted, a placeholder with the name
 * is shown instead. Audio tracks are played by `<RoomAudio>`, not here.
 *
 * The outer element carries `data-source`, `data-muted` and `data-local` for styling.
 */
export function VideoTile(props: VideoTileProps): ReactNode {
  const ref = props.track && isReference(props.track) ? props.track : undefined;
  const track = ref ? ref.track : (props.track as Track | undefined);
  const participant = props.participant ?? ref?.participant;
  const video = track?.kind === 'video' ? track : undefined;
  const muted = useMuted(video);
  const element = useRef<HTMLVideoElement>(null);

  useEffect(() => {
    const el = element.current;
    if (!video || !el) return;
    video.attach(el);
    return () => {
      video.detach(el);
    };
  }, [video]);

  const name = participant ? participant.name || participant.identity : '';
  const label = props.label === undefined ? name : props.label;
  const mirror = props.mirror ?? (video?.isLocal === true && video.source === 'camera');
  const className = ['huizhen-tile', props.className].filter(Boolean).join(' ');
  const showVideo = video !== undefined && !muted;
  return (
    <div
      className={className}
      style={props.style}
      data-source={video?.source}
      data-muted={muted || !video ? 'true' : 'false'}
      data-local={video?.isLocal ? 'true' : 'false'}
    >
      {video ? (
        <video
          ref={element}
          autoPlay
          playsInline
          muted
          hidden={!showVideo}
          style={{
            width: '100%',
            height: '100%',
            objectFit: props.fit ?? 'cover',
            ...(mirror ? { transform: 'scaleX(-1)' } : {}),
          }}
        />
      ) : null}
      {showVideo ? null : (
        <div className="huizhen-tile-placeholder" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </div>
      )}
      {label !== null && label !== '' ? <div className="huizhen-tile-label">{label}</div> : null}
    </div>
  );
}
