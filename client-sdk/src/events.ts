/**
 * Every event the SDK emits, as string enums, with the listener signature of
 * each documented in the matching `...EventCallbacks` type. Listen with either
 * the enum member or its string: `room.on(RoomEvent.TrackSubscribed, ...)` and
 * `room.on('trackSubscribed', ...)` are the same.
 */
import type { DisconnectReason, HuizhenError } from './errors.js';
import type {
  ChatMessage,
  Mark,
  Opinion,
  PersonRef,
  RecordInfo,
  RoomInfo,
  SharedRecord,
  ViewState,
  WaitingEntry,
} from '@huizhen/protocol';
import type { DataMessage } from './data/RoomData.js';
import type { ConnectionQuality, LinkDirection } from '@huizhen/protocol';
import type { LocalParticipant } from './LocalParticipant.js';
import type { RemoteParticipant } from './RemoteParticipant.js';
import type { LocalTrack, RemoteTrack, Track, VideoLayers } from './tracks.js';
import type { RoomVitalsEvents } from './vitals/RoomVitals.js';
import type { RoomRecordingEvents } from './recording/RoomRecording.js';

/** The signaling connection state of a room. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** A remote participant's pointer on the shared record (record coordinates, 0..1). */
export interface PointerPosition {
  recordId: string;
  /** Who is pointing. */
  identity: string;
  page: number;
  x: number;
  y: number;
}

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
   * A host muted one of this client's tracks. It is paused here too
   * (`track.muted`, `track.mutedByHost`); `unmute()` /
   * `setMicrophoneEnabled(true)` then fail with PERMISSION_DENIED unless
   * `allowUnmute`.
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
   * application called `disconnect()`. Sessions the server closes (denied,
   * removed, ended, token expired, duplicate identity) end here directly; a
   * lost connection ends here only once reconnecting has given up.
   *
   * args: (reason: DisconnectReason, error?: HuizhenError)
   */
  Disconnected = 'disconnected',

  // --- reconnection -----------------------------------------------------------

  /**
   * The signaling connection dropped unexpectedly; the SDK is reconnecting
   * (`room.state` is 'reconnecting'). Participants, tracks and published media
   * stay as they are meanwhile. `error` says what was lost.
   *
   * args: (error: HuizhenError)
   */
  Reconnecting = 'reconnecting',
  /**
   * Connected again. `resumed: true`: the same session went on (same
   * `sessionId`, tracks and subscriptions kept; what was missed has been
   * applied, ICE restarted). `resumed: false`: the server no longer had the
   * session (the outage outlasted its grace period), so the SDK joined afresh:
   * a new `sessionId`, remote tracks re-subscribed (`trackUnsubscribed` then
   * `trackSubscribed`), local tracks published again under new track ids (or
   * unpublished, if the fresh join had to wait in the lobby).
   *
   * args: (resumed: boolean)
   */
  Reconnected = 'reconnected',
  /**
   * A remote participant's connection dropped; they keep their place (and
   * tracks) while the server waits for them to come back.
   *
   * args: (participant: RemoteParticipant)
   */
  ParticipantReconnecting = 'participantReconnecting',
  /**
   * A remote participant who was reconnecting is back.
   *
   * args: (participant: RemoteParticipant)
   */
  ParticipantReconnected = 'participantReconnected',

  // --- waiting room, chat and opinions ---------------------------------------------

  /**
   * The waiting room changed (someone arrived, left, was admitted or denied).
   * Only for participants who may admit; the full list is also `room.waitingRoom`.
   *
   * args: (waiting: WaitingEntry[])
   */
  WaitingRoomChanged = 'waitingRoomChanged',
  /**
   * A chat message was added to `room.chatHistory`: from someone else, or this
   * client's own once the server accepted it. Fires once per message id;
   * `room.chatHistory` is always in server order (`seq`).
   *
   * args: (message: ChatMessage)
   */
  Chat = 'chat',
  /**
   * A consult opinion was written or revised (clinicians only), including this
   * client's own after `setOpinion`.
   *
   * args: (opinion: Opinion)
   */
  OpinionUpdated = 'opinionUpdated',

  // --- shared records (room.records) ---------------------------------------------------

  /**
   * A record this participant may see was uploaded (by anyone, including this client).
   *
   * args: (record: RecordInfo)
   */
  RecordAdded = 'recordAdded',
  /**
   * A record was deleted.
   *
   * args: (recordId: string)
   */
  RecordDeleted = 'recordDeleted',
  /**
   * A record is now shared (opened for everyone allowed to see it);
   * `room.records.current` holds it, its view state and its marks.
   *
   * args: (share: SharedRecord)
   */
  RecordShared = 'recordShared',
  /**
   * The shared record was closed; `room.records.current` is now undefined.
   *
   * args: (recordId: string)
   */
  RecordShareStopped = 'recordShareStopped',
  /**
   * The presenter moved the shared view (page, zoom, pan, rotation, window/level).
   * `by` is the presenter's identity (this client's, for its own changes).
   *
   * args: (recordId: string, view: ViewState, by: string)
   */
  ViewStateChanged = 'viewStateChanged',
  /**
   * Presenting was handed to someone else.
   *
   * args: (recordId: string, presenter: string)
   */
  PresenterChanged = 'presenterChanged',
  /**
   * To the presenter: someone asks to present. Answer with
   * `room.records.grantPresenter(from.identity)`.
   *
   * args: (recordId: string, from: PersonRef)
   */
  PresenterRequested = 'presenterRequested',
  /**
   * Someone else's pointer moved on the shared record. Ephemeral: not stored,
   * not replayed, and not emitted for this client's own pointer.
   *
   * args: (pointer: PointerPosition)
   */
  Pointer = 'pointer',
  /**
   * A mark was added to a record (including this client's own).
   *
   * args: (recordId: string, mark: Mark)
   */
  AnnotationAdded = 'annotationAdded',
  /**
   * A mark was removed (its author undid it).
   *
   * args: (recordId: string, markId: string)
   */
  AnnotationRemoved = 'annotationRemoved',
  /**
   * What this client should show of the shared record changed:
   * `room.records.localView`. While following the presenter it tracks the
   * shared view; after `setLocalView()` it is this viewer's own until
   * `followPresenter()`.
   *
   * args: (view: ViewState, following: boolean)
   */
  LocalViewChanged = 'localViewChanged',
  // --- TURN
  /**
   * A TURN server refused this client's credentials (wrong secret or
   * expired: 401). Media may still flow directly; with
   * `iceTransportPolicy: 'relay'` it cannot, and the media connection fails.
   *
   * args: (error: HuizhenError) with code ICE_SERVER_FAILED
   */
  IceServerError = 'iceServerError',
  // --- data channels
  /**
   * Another participant published on a data topic (`room.data.publish`).
   * `participant` is undefined only if this client does not know the sender
   * yet; `message.from` always names them as the server authenticated them.
   * Topics a module took over (`room.data.handleTopic`, e.g. vitals) do not
   * arrive here.
   *
   * args: (payload: string | Uint8Array, participant: RemoteParticipant | undefined, topic: string, message: DataMessage)
   */
  DataReceived = 'dataReceived',
  /**
   * The server did not forward a message this client published (too large,
   * over the rate limit, refused by the topic's policy). Sent at most once per
   * topic and code per second, however many messages were refused.
   *
   * args: (topic: string, error: HuizhenError)
   */
  DataRefused = 'dataRefused',

  // --- connection quality ------------------------------------------------------------

  /**
   * A participant's connection quality changed (`participant.connectionQuality`):
   * 'excellent' | 'good' | 'poor' | 'lost', measured by the server with
   * hysteresis. Clinicians get it for everyone; others for themselves only.
   *
   * args: (quality: ConnectionQuality, participant: Participant)
   */
  ConnectionQualityChanged = 'connectionQualityChanged',
  /**
   * Video to or from a participant stopped (`audioOnly: true`) or came back
   * because their network cannot carry it; audio goes on. `direction`
   * 'uplink': they do not send video (for this client's own participant: the
   * SDK paused the camera; not a mute, `track.pausedForNetwork`); 'downlink':
   * they receive no video. Not a user's choice: show it apart from mute.
   *
   * args: (participant: Participant, audioOnly: boolean, direction: 'uplink' | 'downlink')
   */
  AudioOnlyChanged = 'audioOnlyChanged',

  // --- vitals (room.vitals)
  /**
   * A remote participant's vitals sample (validated against the protocol schema).
   *
   * args: (sample: VitalsSample, participant: RemoteParticipant)
   */
  VitalsReceived = 'vitalsReceived',
  /**
   * To the clinical team: the server raised or cleared a vitals alert.
   *
   * args: (alert: VitalsAlert, participant: RemoteParticipant | undefined)
   */
  VitalsAlert = 'vitalsAlert',
  /**
   * A device connected with `room.vitals.connect()` stopped (error null after
   * `room.vitals.disconnect()`).
   *
   * args: (device: VitalsDevice, error: VitalsDeviceError | null)
   */
  VitalsDeviceDisconnected = 'vitalsDeviceDisconnected',
  /**
   * Sending vitals failed; `dropped` samples were given up (0: retried).
   *
   * args: (error: HuizhenError, dropped: number)
   */
  VitalsPublishFailed = 'vitalsPublishFailed',

  // --- recording (room.recording)
  /**
   * The consult's recording changed state ('off' | 'awaiting-consent' |
   * 'recording' | 'paused') or who has not consented changed
   * (`room.recording.state`). `consentRequested`: this participant is asked
   * now, show the consent prompt (`room.recording.consentRequested`). Not
   * emitted for the state found at join or admission: read
   * `room.recording.state` then.
   *
   * args: (status: RecordingStatus, consentRequested: boolean)
   */
  RecordingStateChanged = 'recordingStateChanged',
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
  reconnecting: (error: HuizhenError) => void;
  reconnected: (resumed: boolean) => void;
  participantReconnecting: (participant: RemoteParticipant) => void;
  participantReconnected: (participant: RemoteParticipant) => void;
  waitingRoomChanged: (waiting: WaitingEntry[]) => void;
  chat: (message: ChatMessage) => void;
  opinionUpdated: (opinion: Opinion) => void;
  recordAdded: (record: RecordInfo) => void;
  recordDeleted: (recordId: string) => void;
  recordShared: (share: SharedRecord) => void;
  recordShareStopped: (recordId: string) => void;
  viewStateChanged: (recordId: string, view: ViewState, by: string) => void;
  presenterChanged: (recordId: string, presenter: string) => void;
  presenterRequested: (recordId: string, from: PersonRef) => void;
  pointer: (pointer: PointerPosition) => void;
  annotationAdded: (recordId: string, mark: Mark) => void;
  annotationRemoved: (recordId: string, markId: string) => void;
  localViewChanged: (view: ViewState, following: boolean) => void;
  // --- TURN
  iceServerError: (error: HuizhenError) => void;
  // --- data channels
  dataReceived: (
    payload: string | Uint8Array,
    participant: RemoteParticipant | undefined,
    topic: string,
    message: DataMessage,
  ) => void;
  dataRefused: (topic: string, error: HuizhenError) => void;
  connectionQualityChanged: (quality: ConnectionQuality, participant: Participant) => void;
  audioOnlyChanged: (participant: Participant, audioOnly: boolean, direction: LinkDirection) => void;
} & RoomVitalsEvents<RemoteParticipant> &
  RoomRecordingEvents;

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
  /** Their connection dropped; they keep their place meanwhile. args: () */
  Reconnecting = 'reconnecting',
  /** They are back after reconnecting. args: () */
  Reconnected = 'reconnected',
  /** args: (quality: ConnectionQuality) */
  ConnectionQualityChanged = 'connectionQualityChanged',
  /** Video stopped or came back for the network. args: (audioOnly: boolean, direction: 'uplink' | 'downlink') */
  AudioOnlyChanged = 'audioOnlyChanged',
}

export type ParticipantEventCallbacks = {
  trackSubscribed: (track: RemoteTrack) => void;
  trackUnsubscribed: (track: RemoteTrack) => void;
  trackMuted: (track: RemoteTrack) => void;
  trackUnmuted: (track: RemoteTrack) => void;
  isSpeakingChanged: (speaking: boolean) => void;
  reconnecting: () => void;
  reconnected: () => void;
  connectionQualityChanged: (quality: ConnectionQuality) => void;
  audioOnlyChanged: (audioOnly: boolean, direction: LinkDirection) => void;
};

/** Events of the LocalParticipant. */
export enum LocalParticipantEvent {
  /** args: (track: LocalTrack) */
  LocalTrackPublished = 'localTrackPublished',
  /** args: (track: LocalTrack) */
  LocalTrackUnpublished = 'localTrackUnpublished',
  /** args: (speaking: boolean) */
  IsSpeakingChanged = 'isSpeakingChanged',
  /** args: (quality: ConnectionQuality) */
  ConnectionQualityChanged = 'connectionQualityChanged',
  /** args: (audioOnly: boolean, direction: 'uplink' | 'downlink') */
  AudioOnlyChanged = 'audioOnlyChanged',
}

export type LocalParticipantEventCallbacks = {
  localTrackPublished: (track: LocalTrack) => void;
  localTrackUnpublished: (track: LocalTrack) => void;
  isSpeakingChanged: (speaking: boolean) => void;
  connectionQualityChanged: (quality: ConnectionQuality) => void;
  audioOnlyChanged: (audioOnly: boolean, direction: LinkDirection) => void;
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
