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
  /** The shared record pointed at. */
  recordId: string;
  /** Who is pointing. */
  identity: string;
  /** The page (1-based) of that record. */
  page: number;
  /** Horizontal position on the page, 0 (left) to 1 (right). */
  x: number;
  /** Vertical position on the page, 0 (top) to 1 (bottom). */
  y: number;
}

/** State of one WebRTC transport (the browser's peer connection to the media server). */
export type MediaConnectionState = 'new' | 'connecting' | 'connected' | 'failed' | 'disconnected' | 'closed';

/** Any participant: this client's own (`room.localParticipant`) or another one. */
export type Participant = LocalParticipant | RemoteParticipant;

/** Events of a Room (`room.on(RoomEvent.X, listener)`); each listener's signature is in `RoomEventCallbacks`. */
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

/** The listener signature of each room event (see `RoomEvent` for when each fires). */
export type RoomEventCallbacks = {
  /** Another participant joined after this client connected. Participants who were already there are in `room.remoteParticipants` when `connect()` resolves. See {@link RoomEvent.ParticipantJoined}. */
  participantJoined: (participant: RemoteParticipant) => void;
  /** A participant left. Their tracks have been unsubscribed (with `trackUnsubscribed` events) before this fires. See {@link RoomEvent.ParticipantLeft}. */
  participantLeft: (participant: RemoteParticipant, reason: 'left' | 'disconnected' | 'removed') => void;
  /** A remote track is set up and (with `autoSubscribe`) receiving media; attach it to show or play it. Fires for tracks that existed at join and for new ones. See {@link RoomEvent.TrackSubscribed}. */
  trackSubscribed: (track: RemoteTrack, participant: RemoteParticipant) => void;
  /** A remote track is gone (unpublished, its participant left, or this room disconnected). Detach and drop its elements. See {@link RoomEvent.TrackUnsubscribed}. */
  trackUnsubscribed: (track: RemoteTrack, participant: RemoteParticipant) => void;
  /** A remote track could not be set up in this browser. See {@link RoomEvent.TrackSubscriptionFailed}. */
  trackSubscriptionFailed: (trackId: string, participant: RemoteParticipant, error: Error) => void;
  /** A remote participant muted one of their tracks. See {@link RoomEvent.TrackMuted}. */
  trackMuted: (track: RemoteTrack, participant: RemoteParticipant) => void;
  /** A remote participant unmuted one of their tracks. See {@link RoomEvent.TrackUnmuted}. */
  trackUnmuted: (track: RemoteTrack, participant: RemoteParticipant) => void;
  /** One of this client's tracks is now published. See {@link RoomEvent.LocalTrackPublished}. */
  localTrackPublished: (track: LocalTrack, participant: LocalParticipant) => void;
  /** One of this client's tracks was unpublished (by the application, or because it ended, e.g. the user stopped a screen share from the browser's UI). See {@link RoomEvent.LocalTrackUnpublished}. */
  localTrackUnpublished: (track: LocalTrack, participant: LocalParticipant) => void;
  /** The loudest participant changed; `null` when nobody is speaking. See {@link RoomEvent.ActiveSpeakerChanged}. */
  activeSpeakerChanged: (speaker: Participant | null) => void;
  /** A clinician admitted this participant from the waiting room. Media is set up: publish now; `room.remoteParticipants` holds who is in the room, and their tracks follow as `trackSubscribed`. See {@link RoomEvent.Admitted}. */
  admitted: () => void;
  /** The room's state, lock or host changed (`room.info`). See {@link RoomEvent.RoomUpdated}. */
  roomUpdated: (info: RoomInfo) => void;
  /** A host muted one of this client's tracks. It is paused here too (`track.muted`, `track.mutedByHost`); `unmute()` / `setMicrophoneEnabled(true)` then fail with PERMISSION_DENIED unless `allowUnmute`. See {@link RoomEvent.MutedByHost}. */
  mutedByHost: (track: LocalTrack, by: PersonRef, allowUnmute: boolean) => void;
  /** `room.state` changed. See {@link RoomEvent.ConnectionStateChanged}. */
  connectionStateChanged: (state: ConnectionState) => void;
  /** A media transport changed state. The SDK restarts ICE itself when one fails or stays disconnected; this event is for showing network quality. See {@link RoomEvent.MediaConnectionStateChanged}. */
  mediaConnectionStateChanged: (direction: 'send' | 'recv', state: MediaConnectionState) => void;
  /** The browser refused to start playing an attached element (autoplay policy). Call `room.startMedia()` from a user gesture (a click) to start it. See {@link RoomEvent.MediaPlaybackBlocked}. */
  mediaPlaybackBlocked: (track: Track, element: HTMLMediaElement) => void;
  /** The room is disconnected for good. `error` explains why unless the application called `disconnect()`. Sessions the server closes (denied, removed, ended, token expired, duplicate identity) end here directly; a lost connection ends here only once reconnecting has given up. See {@link RoomEvent.Disconnected}. */
  disconnected: (reason: DisconnectReason, error?: HuizhenError) => void;
  /** The signaling connection dropped unexpectedly; the SDK is reconnecting (`room.state` is 'reconnecting'). Participants, tracks and published media stay as they are meanwhile. `error` says what was lost. See {@link RoomEvent.Reconnecting}. */
  reconnecting: (error: HuizhenError) => void;
  /** Connected again. `resumed: true`: the same session went on (same `sessionId`, tracks and subscriptions kept; what was missed has been applied, ICE restarted). `resumed: false`: the server no longer had the session (the outage outlasted its grace period), so the SDK joined afresh: a new `sessionId`, remote tracks re-subscribed (`trackUnsubscribed` then `trackSubscribed`), local tracks published again under new track ids (or unpublished, if the fresh join had to wait in the lobby). See {@link RoomEvent.Reconnected}. */
  reconnected: (resumed: boolean) => void;
  /** A remote participant's connection dropped; they keep their place (and tracks) while the server waits for them to come back. See {@link RoomEvent.ParticipantReconnecting}. */
  participantReconnecting: (participant: RemoteParticipant) => void;
  /** A remote participant who was reconnecting is back. See {@link RoomEvent.ParticipantReconnected}. */
  participantReconnected: (participant: RemoteParticipant) => void;
  /** The waiting room changed (someone arrived, left, was admitted or denied). Only for participants who may admit; the full list is also `room.waitingRoom`. See {@link RoomEvent.WaitingRoomChanged}. */
  waitingRoomChanged: (waiting: WaitingEntry[]) => void;
  /** A chat message was added to `room.chatHistory`: from someone else, or this client's own once the server accepted it. Fires once per message id; `room.chatHistory` is always in server order (`seq`). See {@link RoomEvent.Chat}. */
  chat: (message: ChatMessage) => void;
  /** A consult opinion was written or revised (clinicians only), including this client's own after `setOpinion`. See {@link RoomEvent.OpinionUpdated}. */
  opinionUpdated: (opinion: Opinion) => void;
  /** A record this participant may see was uploaded (by anyone, including this client). See {@link RoomEvent.RecordAdded}. */
  recordAdded: (record: RecordInfo) => void;
  /** A record was deleted. See {@link RoomEvent.RecordDeleted}. */
  recordDeleted: (recordId: string) => void;
  /** A record is now shared (opened for everyone allowed to see it); `room.records.current` holds it, its view state and its marks. See {@link RoomEvent.RecordShared}. */
  recordShared: (share: SharedRecord) => void;
  /** The shared record was closed; `room.records.current` is now undefined. See {@link RoomEvent.RecordShareStopped}. */
  recordShareStopped: (recordId: string) => void;
  /** The presenter moved the shared view (page, zoom, pan, rotation, window/level). `by` is the presenter's identity (this client's, for its own changes). See {@link RoomEvent.ViewStateChanged}. */
  viewStateChanged: (recordId: string, view: ViewState, by: string) => void;
  /** Presenting was handed to someone else. See {@link RoomEvent.PresenterChanged}. */
  presenterChanged: (recordId: string, presenter: string) => void;
  /** To the presenter: someone asks to present. Answer with `room.records.grantPresenter(from.identity)`. See {@link RoomEvent.PresenterRequested}. */
  presenterRequested: (recordId: string, from: PersonRef) => void;
  /** Someone else's pointer moved on the shared record. Ephemeral: not stored, not replayed, and not emitted for this client's own pointer. See {@link RoomEvent.Pointer}. */
  pointer: (pointer: PointerPosition) => void;
  /** A mark was added to a record (including this client's own). See {@link RoomEvent.AnnotationAdded}. */
  annotationAdded: (recordId: string, mark: Mark) => void;
  /** A mark was removed (its author undid it). See {@link RoomEvent.AnnotationRemoved}. */
  annotationRemoved: (recordId: string, markId: string) => void;
  /** What this client should show of the shared record changed: `room.records.localView`. While following the presenter it tracks the shared view; after `setLocalView()` it is this viewer's own until `followPresenter()`. See {@link RoomEvent.LocalViewChanged}. */
  localViewChanged: (view: ViewState, following: boolean) => void;
  // --- TURN
  /** A TURN server refused this client's credentials (wrong secret or expired: 401). Media may still flow directly; with `iceTransportPolicy: 'relay'` it cannot, and the media connection fails. See {@link RoomEvent.IceServerError}. */
  iceServerError: (error: HuizhenError) => void;
  // --- data channels
  /** Another participant published on a data topic (`room.data.publish`). `participant` is undefined only if this client does not know the sender yet; `message.from` always names them as the server authenticated them. Topics a module took over (`room.data.handleTopic`, e.g. vitals) do not arrive here. See {@link RoomEvent.DataReceived}. */
  dataReceived: (
    payload: string | Uint8Array,
    participant: RemoteParticipant | undefined,
    topic: string,
    message: DataMessage,
  ) => void;
  /** The server did not forward a message this client published (too large, over the rate limit, refused by the topic's policy). Sent at most once per topic and code per second, however many messages were refused. See {@link RoomEvent.DataRefused}. */
  dataRefused: (topic: string, error: HuizhenError) => void;
  /** A participant's connection quality changed (`participant.connectionQuality`): 'excellent' | 'good' | 'poor' | 'lost', measured by the server with hysteresis. Clinicians get it for everyone; others for themselves only. See {@link RoomEvent.ConnectionQualityChanged}. */
  connectionQualityChanged: (quality: ConnectionQuality, participant: Participant) => void;
  /** Video to or from a participant stopped (`audioOnly: true`) or came back because their network cannot carry it; audio goes on. `direction` 'uplink': they do not send video (for this client's own participant: the SDK paused the camera; not a mute, `track.pausedForNetwork`); 'downlink': they receive no video. Not a user's choice: show it apart from mute. See {@link RoomEvent.AudioOnlyChanged}. */
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

/** The listener signature of each `ParticipantEvent`. */
export type ParticipantEventCallbacks = {
  /** One of this participant's tracks is received; see {@link RoomEvent.TrackSubscribed}. */
  trackSubscribed: (track: RemoteTrack) => void;
  /** One of this participant's tracks is gone; see {@link RoomEvent.TrackUnsubscribed}. */
  trackUnsubscribed: (track: RemoteTrack) => void;
  /** This participant muted one of their tracks. */
  trackMuted: (track: RemoteTrack) => void;
  /** This participant unmuted one of their tracks. */
  trackUnmuted: (track: RemoteTrack) => void;
  /** This participant started or stopped speaking. */
  isSpeakingChanged: (speaking: boolean) => void;
  /** Their connection dropped; they keep their place meanwhile. */
  reconnecting: () => void;
  /** They are back after reconnecting. */
  reconnected: () => void;
  /** The server's verdict on their connection changed. */
  connectionQualityChanged: (quality: ConnectionQuality) => void;
  /** Their video stopped or came back because of the network (`direction`: whose link). */
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

/** The listener signature of each `LocalParticipantEvent`. */
export type LocalParticipantEventCallbacks = {
  /** This client published a track. */
  localTrackPublished: (track: LocalTrack) => void;
  /** This client stopped publishing a track. */
  localTrackUnpublished: (track: LocalTrack) => void;
  /** This client started or stopped speaking. */
  isSpeakingChanged: (speaking: boolean) => void;
  /** The server's verdict on this client's connection changed. */
  connectionQualityChanged: (quality: ConnectionQuality) => void;
  /** This client's video stopped or came back because of the network (`direction`: which link). */
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

/** The listener signature of each `TrackEvent`. */
export type TrackEventCallbacks = {
  /** The publisher muted the track. */
  muted: () => void;
  /** The publisher unmuted the track. */
  unmuted: () => void;
  /** The track is finished: unpublished, unsubscribed or its source ended. */
  ended: () => void;
  /** The simulcast layer being received changed (remote video). */
  layersChanged: (layers: VideoLayers) => void;
  /** An attached element could not start playing (autoplay blocked). */
  playbackBlocked: (element: HTMLMediaElement) => void;
};
