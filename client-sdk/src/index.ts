/**
 * @huizhen/client-sdk: join Huizhen telemedicine consult rooms from a browser.
 * Importing this module touches no browser API; only connecting and
 * publishing do.
 *
 * @module @huizhen/client-sdk
 */
export { connect } from './connect.js';
export { Room, type Admission, type Permission } from './Room.js';
// --- subscribe with replay
export { REPLAYED_EVENTS, type ListenOptions } from './replay.js';
export { RoomRecords, POINTER_INTERVAL_MS, type ViewPatch, type MarkInput, type RecordUrl } from './RoomRecords.js';
export type { RecordBody, UploadRecordOptions } from './recordsHttp.js';
export type { ConnectOptions } from './options.js';
// --- data channels
export {
  RoomData,
  type DataMessage,
  type DataPayload,
  type DataTopicHandler,
  type PublishDataOptions,
} from './data/RoomData.js';
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
export { Track, LocalTrack, RemoteTrack, type VideoLayers, type HostMute } from './tracks.js';
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
  type PointerPosition,
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
export { TypedEmitter, type EventListeners, type TypedEmitterOptions } from '@huizhen/protocol';
export {
  SignalClient,
  type WebSocketLike,
  type WebSocketFactory,
  type AnyNotification,
  type SignalCloseInfo,
  type SignalClientOptions,
  type RequestOptions,
} from './SignalClient.js';
export {
  DefaultReconnectPolicy,
  noReconnect,
  type ReconnectPolicy,
  type ReconnectContext,
  type DefaultReconnectPolicyOptions,
} from './ReconnectPolicy.js';
export type { TokenProvider } from './TokenRefresher.js';
export { createLogger, type Logger, type LogLevel, type LogSink } from './logger.js';
export {
  PROTOCOL_VERSION,
  ROLES,
  CLINICIAN_ROLES,
  ROOM_KINDS,
  TRACK_SOURCES,
  RECORD_VISIBILITIES,
  RECORD_TYPES,
  MAX_CHAT_LENGTH,
  MAX_OPINION_LENGTH,
  DATA_TOPIC_PATTERN,
  type Role,
  type TrackSource,
  type MediaKind,
  type ParticipantInfo,
  type TrackInfo,
  type RoomInfo,
  type RoomKind,
  type RoomState,
  type PersonRef,
  type WaitingEntry,
  type ChatMessage,
  type Opinion,
  type ConsultSummary,
  type RecordInfo,
  type RecordVisibility,
  type RecordType,
  type SharedRecord,
  type ViewState,
  type Mark,
} from '@huizhen/protocol';

// --- pre-call check
export { preflight, PreflightTest } from './preflight/preflight.js';
export { playTestSound, type TestSoundOptions } from './preflight/speaker.js';
export { THRESHOLDS as PREFLIGHT_THRESHOLDS } from './preflight/verdict.js';
export {
  PreflightError,
  PreflightFailureReason,
  type PreflightOptions,
  type PreflightReport,
  type PreflightProgress,
  type PreflightStep,
  type PreflightStepStatus,
  type PreflightVerdict,
  type PreflightEvents,
  type CameraCheck,
  type MicrophoneCheck,
  type SignalingCheck,
  type MediaCheck,
  type CandidateType,
  type DeviceStatus,
} from './preflight/types.js';
// --- connection quality
export type { ParticipantQuality } from './LinkState.js';
export type { ConnectionQuality, LinkDirection, QualityReport } from '@huizhen/protocol';
export { REPORT_INTERVAL_MS } from './QualityReporter.js';
// --- recording
export {
  RoomRecording,
  type RecordingState,
  type RecordingStatus,
  type RoomRecordingEvents,
} from './recording/RoomRecording.js';
export { RECORDING_STATES } from '@huizhen/protocol';
// --- vitals: everything of the `@huizhen/client-sdk/vitals` entry point
export * from './vitals.js';
// --- evaluation
export { submitEvaluation, type SubmitEvaluationOptions } from './evaluation/submitEvaluation.js';
export {
  EVALUATION_DIMENSIONS,
  MAX_EVALUATION_COMMENT,
  MIN_RATING,
  MAX_RATING,
  commentProblem,
  parseEvaluation,
  type EvaluationDimension,
  type EvaluationInput,
  type StoredEvaluation,
  type EvaluationAggregate,
} from '@huizhen/protocol';
