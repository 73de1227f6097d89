/**
 * Every event the SDK emits, as string enums, with the listener signature of
 * each documented in the matching `...EventCallbacks` type. Listen with either
 * the enum member or its string: `room.on(RoomEvent.TrackSubscribed, ...)` and
 * `room.on('trackSubscribed', ...)` are the same.
 */
import type { DisconnectReason, HuizhenError } from './errors.js';
import type { PersonRef, RoomInfo } from './protocol/messages.js';
import type { LocalParticipant } from './LocalParticipant.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { LocalTrack, RemoteTrack, Track, VideoLayers } from './tracks.js';

/** The signaling connection state of a room. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** State of one WebRTC transport (the browser's peer connection to the media server). */
export type MediaConnectionState = 'new' | 'connecting' | 'connected' | 'failed' | 'disconnected' | 'closed';

export type Participant = LocalParticipant | RemoteParticipant;

export enum RoomEvent {
  /**
   * Another participant joined after this client connected. Participants who
   * were already there are in `room.remoteParticipants` when `connect()` resolves.
   *
   * args: (participant: RemoteParticipant)
   */
  ParticipantJoined = 'participantJoined',
  /**
   * A participant left. Their tracks have been unsubscribed (with
   * `trackUnsubscribed` events) before this fires.
   *
   * args: (participant: RemoteParticipant, reason: 'left' | 'disconnected' | 'removed')
   */
  ParticipantLeft = 'participantLeft',
  /**
   * A remote track is set up and (with `autoSubscribe`) receiving media; attach
   * it to show or play it. Fires for tracks that existed at join and for new ones.
   *
   * args: (track: RemoteTrack, participant: RemoteParticipant)
   */
  TrackSubscribed = 'trackSubscribed',
  /**
   * A remote track is gone (unpublished, its participant left, or this room
   * disconnected). Detach and drop its elements.
   *
   * args: (track: RemoteTrack, participant: RemoteParticipant)
   */
  TrackUnsubscribed = 'trackUnsubscribed',
  /**
   * A remote track could not be set up in this browser.
   *
   * args: (trackId: string, participant: RemoteParticipant, error: Error)
   */
  TrackSubscriptionFailed = 'trackSubscriptionFailed',
  /**
   * A remote participant muted one of their tracks.
   *
   * args: (track: RemoteTrack, participant: RemoteParticipant)
   */
  TrackMuted = 'trackMuted',
  /**
   * A remote participant unmuted one of their tracks.
   *
   * args: (track: RemoteTrack, participant: RemoteParticipant)
   */
  TrackUnmuted = 'trackUnmuted',
  /**
   * One of this client's tracks is now published.
   *
   * args: (track: LocalTrack, participant: LocalParticipant)
   */
  LocalTrackPublished = 'localTrackPublished',
  /**
   * One of this client's tracks was unpublished (by the application, or because
   * it ended, e.g. the user stopped a screen share from the browser's UI).
   *
   * args: (track: LocalTrack, participant: LocalParticipant)
   */
  LocalTrackUnpublished = 'localTrackUnpublished',
  /**
   * The loudest participant changed; `null` when nobody is speaking.
   *
   * args: (speaker: Participant | null)
   */
  ActiveSpeakerChanged = 'activeSpeakerChanged',
  /**
   * A clinician admitted this participant from the waiting room. Media is set
   * up: publish now; `room.remoteParticipants` holds who is in the room, and
   * their tracks follow as `trackSubscribed`.
   *
   * args: ()
   */
  Admitted = 'admitted',
  /**
   * The room's state, lock or host changed (`room.info`).
   *
   * args: (info: RoomInfo)
   */
  RoomUpdated = 'roomUpdated',
  /**
   * A host muted one of this client's tracks. It is paused here too;
   * `unmute()` is refused unless `allowUnmute`.
   *
   * args: (track: LocalTrack, by: PersonRef, allowUnmute: boolean)
   */
  MutedByHost = 'mutedByHost',
  /**
   * `room.state` changed.
   *
   * args: (state: ConnectionState)
   */
  ConnectionStateChanged = 'connectionStateChanged',
  /**
   * A media transport changed state. The SDK restarts ICE itself when one
   * fails or stays disconnected; this event is for showing network quality.
   *
   * args: (direction: 'send' | 'recv', state: MediaConnectionState)
   */
  MediaConnectionStateChanged = 'mediaConnectionStateChanged',
  /**
   * The browser refused to start playing an attached element (autoplay policy).
   * Call `room.startMedia()` from a user gesture (a click) to start it.
   *
   * args: (track: Track, element: HTMLMediaElement)
   */
  MediaPlaybackBlocked = 'mediaPlaybackBlocked',
  /**
   * The room is disconnected for good. `error` explains why unless the
   * application called `disconnect()`.
   *
   * args: (reason: DisconnectReason, error?: HuizhenError)
   */
  Disconnected = 'disconnected',
}

export type RoomEventCallbacks = {
  participantJoined: (participant: RemoteParticipant) => void;
  participantLeft: (participant: RemoteParticipant, reason: 'left' | 'disconnected' | 'removed') => void;
  trackSubscribed: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackUnsubscribed: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackSubscriptionFailed: (trackId: string, participant: RemoteParticipant, error: Error) => void;
  trackMuted: (track: RemoteTrack, participant: RemoteParticipant) => void;
  trackUnmuted: (track: RemoteTrack, participant: RemoteParticipant) => void;
  localTrackPublished: (track: LocalTrack, participant: LocalParticipant) => void;
  localTrackUnpublished: (track: LocalTrack, participant: LocalParticipant) => void;
  activeSpeakerChanged: (speaker: Participant | null) => void;
  admitted: () => void;
  roomUpdated: (info: RoomInfo) => void;
  mutedByHost: (track: LocalTrack, by: PersonRef, allowUnmute: boolean) => void;
  connectionStateChanged: (state: ConnectionState) => void;
  mediaConnectionStateChanged: (direction: 'send' | 'recv', state: MediaConnectionState) => void;
  mediaPlaybackBlocked: (track: Track, element: HTMLMediaElement) => void;
  disconnected: (reason: DisconnectReason, error?: HuizhenError) => void;
};

/** Events of a RemoteParticipant, about that participant only. */
export enum ParticipantEvent {
  /** args: (track: RemoteTrack) */
  TrackSubscribed = 'trackSubscribed',
  /** args: (track: RemoteTrack) */
  TrackUnsubscribed = 'trackUnsubscribed',
  /** args: (track: RemoteTrack) */
  TrackMuted = 'trackMuted',
  /** args: (track: RemoteTrack) */
  TrackUnmuted = 'trackUnmuted',
  /** args: (speaking: boolean) */
  IsSpeakingChanged = 'isSpeakingChanged',
}

export type ParticipantEventCallbacks = {
  trackSubscribed: (track: RemoteTrack) => void;
  trackUnsubscribed: (track: RemoteTrack) => void;
  trackMuted: (track: RemoteTrack) => void;
  trackUnmuted: (track: RemoteTrack) => void;
  isSpeakingChanged: (speaking: boolean) => void;
};

/** Events of the LocalParticipant. */
export enum LocalParticipantEvent {
  /** args: (track: LocalTrack) */
  LocalTrackPublished = 'localTrackPublished',
  /** args: (track: LocalTrack) */
  LocalTrackUnpublished = 'localTrackUnpublished',
  /** args: (speaking: boolean) */
  IsSpeakingChanged = 'isSpeakingChanged',
}

export type LocalParticipantEventCallbacks = {
  localTrackPublished: (track: LocalTrack) => void;
  localTrackUnpublished: (track: LocalTrack) => void;
  isSpeakingChanged: (speaking: boolean) => void;
};

/** Events of a single track. */
export enum TrackEvent {
  /** The publisher muted the track. args: () */
  Muted = 'muted',
  /** The publisher unmuted the track. args: () */
  Unmuted = 'unmuted',
  /** The track is finished: unpublished, unsubscribed or its source ended. args: () */
  Ended = 'ended',
  /** The simulcast layer being received changed (remote video). args: (layers: VideoLayers) */
  LayersChanged = 'layersChanged',
  /** An attached element could not start playing. args: (element: HTMLMediaElement) */
  PlaybackBlocked = 'playbackBlocked',
}

export type TrackEventCallbacks = {
  muted: () => void;
  unmuted: () => void;
  ended: () => void;
  layersChanged: (layers: VideoLayers) => void;
  playbackBlocked: (element: HTMLMediaElement) => void;
};
