/**
 * @huizhen/client-sdk: join Huizhen telemedicine consult rooms from a browser.
 * Importing this module touches no browser API; only connecting and
 * publishing do.
 */
export { connect } from './connect.js';
export { Room, type Admission } from './Room.js';
export type { ConnectOptions } from './options.js';
export {
  LocalParticipant,
  CAMERA_SIMULCAST_ENCODINGS,
  DEFAULT_CAMERA_RESOLUTION,
  type CameraOptions,
  type MicrophoneOptions,
  type ScreenShareOptions,
  type PublishTrackOptions,
  type VideoResolution,
} from './LocalParticipant.js';
export { RemoteParticipant } from './RemoteParticipant.js';
export { Track, LocalTrack, RemoteTrack, type VideoLayers } from './tracks.js';
export {
  RoomEvent,
  ParticipantEvent,
  LocalParticipantEvent,
  TrackEvent,
  type RoomEventCallbacks,
  type ParticipantEventCallbacks,
  type LocalParticipantEventCallbacks,
  type TrackEventCallbacks,
  type ConnectionState,
  type MediaConnectionState,
  type Participant,
} from './events.js';
export {
  HuizhenError,
  ConnectionError,
  ConnectionErrorReason,
  DisconnectReason,
  ErrorCode,
  CloseCode,
  isHuizhenError,
  isErrorCode,
} from './errors.js';
export { TypedEmitter, type EventListeners, type TypedEmitterOptions } from './TypedEmitter.js';
export {
  SignalClient,
  type WebSocketLike,
  type WebSocketFactory,
  type AnyNotification,
  type SignalCloseInfo,
  type SignalClientOptions,
  type RequestOptions,
} from './SignalClient.js';
export type { ReconnectPolicy, ReconnectContext } from './ReconnectPolicy.js';
export { createLogger, type Logger, type LogLevel, type LogSink } from './logger.js';
export {
  PROTOCOL_VERSION,
  ROLES,
  TRACK_SOURCES,
  type Role,
  type TrackSource,
  type MediaKind,
  type ParticipantInfo,
  type TrackInfo,
  type RoomInfo,
  type RoomKind,
  type RoomState,
  type PersonRef,
} from './protocol/messages.js';
