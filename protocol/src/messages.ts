/**
 * The Huizhen signaling protocol, version 1: the single source of truth for
 * message names, payload types and their runtime validators. The server
 * validates every inbound request with `requestValidators`; the SDK uses the
 * same types to build them.
 *
 * Framing (JSON text frames over WebSocket at `/ws`):
 *   client → server  request       { id, method, data }
 *   server → client  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   server → client  notification  { notification, data }
 */
import type { WireError } from './errors.js';
import { array, boolean, json, number, object, oneOf, optional, string, type Infer } from './validate.js';

export const PROTOCOL_VERSION = 1;

/** Largest inbound frame the server accepts (bytes). Chat and records come over HTTP or later methods. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const ROLES = ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'] as const;
export type Role = (typeof ROLES)[number];

/** What a participant may do; each role has a fixed set (server table), a token may narrow it. */
export const PERMISSIONS = [
  'publishAudio',
  'publishVideo',
  'publishScreen',
  'subscribe',
  'subscribeVideo',
  'admit',
  'muteOthers',
  'remove',
  'lock',
  'end',
  'viewRecords',
  'shareRecords',
  'annotate',
  'chat',
  'writeOpinion',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Roles that run the clinical side of a room (see the server's permission table). */
export const CLINICIAN_ROLES: readonly Role[] = ['doctor', 'specialist', 'nurse'];

/**
 * consult: a 1:1 (or small) consult; patients and family wait in the lobby.
 * clinic: a multi-party clinic across hospitals.
 * rounds: a few presenters to many viewers.
 */
export const ROOM_KINDS = ['consult', 'clinic', 'rounds'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

export const ROOM_STATES = ['created', 'waiting', 'active', 'ended'] as const;
export type RoomState = (typeof ROOM_STATES)[number];

export const TRACK_SOURCES = ['camera', 'microphone', 'screen', 'screenAudio'] as const;
export type TrackSource = (typeof TRACK_SOURCES)[number];

export type MediaKind = 'audio' | 'video';

const id = string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
/** Identities as in the token `sub`. */
const identity = string({ min: 1, max: 128, pattern: /^[A-Za-z0-9_.@:-]+$/ });
const reason = string({ min: 1, max: 500 });

const unit = number({ min: 0, max: 1 });
const viewPatch = object({
  page: optional(number({ integer: true, min: 1, max: 100_000 })),
  zoom: optional(number({ min: 0.1, max: 20 })),
  panX: optional(number({ min: -10, max: 10 })),
  panY: optional(number({ min: -10, max: 10 })),
  rotation: optional(oneOf([0, 90, 180, 270] as const)),
  /** DICOM window/level. */
  windowCenter: optional(number({ min: -100_000, max: 100_000 })),
  windowWidth: optional(number({ min: 1, max: 200_000 })),
});
const point = object({ x: unit, y: unit });
const color = string({ min: 4, max: 9, pattern: /^#[0-9a-fA-F]{3,8}$/ });
const markInput = object({
  kind: oneOf(['stroke', 'arrow', 'text'] as const),
  page: number({ integer: true, min: 1, max: 100_000 }),
  /** stroke: the path; arrow: [from, to]; text: [anchor]. */
  points: array(point, { min: 1, max: 2000 }),
  text: optional(string({ min: 1, max: 1000 })),
  color: optional(color),
});

export const RECORD_VISIBILITIES = ['everyone', 'clinicians'] as const;
export type RecordVisibility = (typeof RECORD_VISIBILITIES)[number];
export const RECORD_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'application/dicom'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** Longest chat message, in characters. */
export const MAX_CHAT_LENGTH = 2000;
/** Longest written opinion, in characters. */
export const MAX_OPINION_LENGTH = 20000;
const rtpBlob = json({ maxDepth: 8, maxItems: 64, maxString: 512 });

export const requestValidators = {
  /** First message on a connection. */
  join: object({
    protocolVersion: number({ integer: true, min: 1, max: 1000 }),
    token: string({ min: 1, max: 8192 }),
    /** The room the client means to join; must equal the token's `room` claim. */
    room: optional(id),
    /** Sent by a reconnecting client to resume its previous session. */
    resumeSessionId: optional(string({ min: 1, max: 64 })),
    /** With resumeSessionId: the last notification `seq` received; later ones are replayed. */
    resumeFromSeq: optional(number({ integer: true, min: 0, max: Number.MAX_SAFE_INTEGER })),
  }),
  /** The client's device capabilities; the server starts consuming once it has them. */
  setRtpCapabilities: object({ rtpCapabilities: rtpBlob }),
  createTransport: object({ direction: oneOf(['send', 'recv'] as const) }),
  connectTransport: object({
    transportId: id,
    dtlsParameters: object({
      role: optional(oneOf(['auto', 'client', 'server'] as const)),
      fingerprints: array(object({ algorithm: string({ min: 1, max: 32 }), value: string({ min: 1, max: 256 }) }), {
        min: 1,
        max: 8,
      }),
    }),
  }),
  restartIce: object({ transportId: id }),
  produce: object({
    transportId: id,
    kind: oneOf(['audio', 'video'] as const),
    source: oneOf(TRACK_SOURCES),
    rtpParameters: rtpBlob,
    paused: optional(boolean()),
  }),
  closeProducer: object({ producerId: id }),
  /** Mute (pause) or unmute (resume) one of the participant's own tracks. */
  setProducerPaused: object({ producerId: id, paused: boolean() }),
  /** The client has set up the consumer locally and is ready for media. */
  resumeConsumer: object({ consumerId: id }),
  /** The size the subscriber renders a video track at; the server picks the simulcast layer. */
  setConsumerVideoSize: object({
    consumerId: id,
    width: number({ integer: true, min: 0, max: 16384 }),
    height: number({ integer: true, min: 0, max: 16384 }),
  }),
  /** Stop or start receiving a track (e.g. a tile scrolled out of view). */
  setConsumerPaused: object({ consumerId: id, paused: boolean() }),
  requestKeyFrame: object({ consumerId: id }),
  getStats: object({}),
  /** Liveness check: lets a client notice a dead connection quickly. */
  ping: object({}),
  leave: object({}),
  /**
   * Load testing only: a plain RTP transport (no ICE/DTLS), offered to tokens
   * with the `loadtest` claim when the server's `loadTest.enabled` is on.
   * `srtp: true` negotiates SDES-keyed SRTP (AES_CM_128_HMAC_SHA1_80).
   */
  /** Swap in a fresh token before the current one expires. Same identity and room. */
  refreshToken: object({ token: string({ min: 1, max: 8192 }) }),

  // --- waiting room and host controls (server checks the permission for each)
  admit: object({ identity }),
  deny: object({ identity, reason: optional(reason) }),
  /** Pause another participant's track; they may unmute only if `allowUnmute`. */
  muteParticipant: object({ identity, source: oneOf(TRACK_SOURCES), allowUnmute: optional(boolean()) }),
  /** Close their session; the identity cannot rejoin this room for its lifetime. */
  removeParticipant: object({ identity, reason: optional(reason) }),
  /** Locked: no new entries except clinicians of the room's issuers. */
  setLocked: object({ locked: boolean() }),
  /** End the consult for everyone. */
  endRoom: object({ reason: optional(reason) }),
  getSummary: object({}),

  // --- chat and opinion
  sendChat: object({
    text: string({ min: 1, max: MAX_CHAT_LENGTH }),
    /** 'clinicians': visible to clinicians only. */
    to: optional(oneOf(['everyone', 'clinicians'] as const)),
  }),
  /** Write or revise your opinion on the consult (会诊意见); every edit is a new version. */
  setOpinion: object({ text: string({ min: 1, max: MAX_OPINION_LENGTH }) }),
  getOpinions: object({}),

  // --- shared medical records (uploads go over HTTP; see records in the server README)
  listRecords: object({}),
  /** A short-lived download URL for this participant and record. */
  getRecordUrl: object({ recordId: id }),
  deleteRecord: object({ recordId: id }),
  /** Open a record for everyone allowed to see it; the sharer presents. */
  shareRecord: object({ recordId: id }),
  stopShare: object({ recordId: id }),
  /** Presenter only: move the shared view. Omitted fields keep their value. */
  setViewState: object({ recordId: id, view: viewPatch }),
  requestPresenter: object({ recordId: id }),
  /** Presenter (or a host) hands presenting to someone who may see the record. */
  grantPresenter: object({ recordId: id, identity }),
  /** Ephemeral pointer position in record coordinates (0..1); throttled, not stored. */
  pointer: object({ recordId: id, page: number({ integer: true, min: 1, max: 100_000 }), x: unit, y: unit }),
  /** A stored mark on the record. */
  annotate: object({ recordId: id, mark: markInput }),
  /** Remove your own most recent mark on this record. */
  undoAnnotation: object({ recordId: id }),

  createPlainTransport: object({
    direction: oneOf(['send', 'recv'] as const),
    srtp: optional(boolean()),
  }),
  /** Tells the server where the load generator receives (recv) or sends from (send). */
  connectPlainTransport: object({
    transportId: id,
    ip: string({ min: 2, max: 64, pattern: /^[0-9a-fA-F.:]+$/ }),
    port: number({ integer: true, min: 1, max: 65535 }),
    srtpParameters: optional(
      object({ cryptoSuite: string({ min: 1, max: 64 }), keyBase64: string({ min: 1, max: 128 }) }),
    ),
  }),
} as const;

export type Method = keyof typeof requestValidators;
export const METHODS = Object.keys(requestValidators) as Method[];
export type RequestData<M extends Method> = Infer<(typeof requestValidators)[M]>;

// ---------------------------------------------------------------------------
// Shapes sent by the server.

export interface TrackInfo {
  /** The producer id on the server; stable for the life of the track. */
  trackId: string;
  kind: MediaKind;
  source: TrackSource;
  muted: boolean;
}

export interface ParticipantInfo {
  identity: string;
  name: string;
  role: Role;
  joinedAt: number;
  tracks: TrackInfo[];
}

export interface RoomInfo {
  id: string;
  kind: RoomKind;
  state: RoomState;
  locked: boolean;
  /** Identity of the host doctor, once known. */
  host: string | null;
  capacity: number;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface WaitingEntry {
  identity: string;
  name: string;
  role: Role;
  /** When they started waiting (ms since the epoch). */
  since: number;
}

export interface PersonRef {
  identity: string;
  name: string;
  role: Role;
}

export interface ChatMessage {
  id: string;
  /** Server order within the room, from 1. */
  seq: number;
  from: PersonRef;
  text: string;
  to: 'everyone' | 'clinicians';
  sentAt: number;
}

export interface Opinion {
  /** 1 for the first version of this author's opinion. */
  version: number;
  author: PersonRef & { issuer: string };
  text: string;
  writtenAt: number;
}

export interface ConsultSummary {
  room: RoomInfo;
  durationSec: number | null;
  participants: (PersonRef & { issuer: string; firstJoinedAt: number; lastLeftAt: number | null })[];
}

export interface RecordInfo {
  id: string;
  /** Sanitized file name, for display only. */
  name: string;
  /** Detected from the content, never from what the uploader declared. */
  type: RecordType;
  size: number;
  visibility: RecordVisibility;
  uploadedBy: PersonRef;
  uploadedAt: number;
}

export interface ViewState {
  page: number;
  zoom: number;
  panX: number;
  panY: number;
  rotation: 0 | 90 | 180 | 270;
  windowCenter: number | null;
  windowWidth: number | null;
  /** Increases with every change. */
  version: number;
}

export interface Mark {
  id: string;
  seq: number;
  author: PersonRef;
  kind: 'stroke' | 'arrow' | 'text';
  page: number;
  points: { x: number; y: number }[];
  text?: string;
  color?: string;
  createdAt: number;
}

export interface SharedRecord {
  record: RecordInfo;
  presenter: string;
  view: ViewState;
  marks: Mark[];
}

/** What a participant gets once inside the room (at join, or when admitted). */
export interface RoomView {
  room: RoomInfo;
  participants: ParticipantInfo[];
  routerRtpCapabilities: Record<string, unknown>;
  chatHistory: ChatMessage[];
  /** Only for participants who may admit. */
  waitingRoom?: WaitingEntry[];
  /** The record being shared now, if this participant may see it. */
  share?: SharedRecord;
}

export interface TransportOptions {
  id: string;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
  sctpParameters?: Record<string, unknown>;
}

export interface ResponseData {
  join: {
    protocolVersion: number;
    sessionId: string;
    /** True when a reconnect resumed the previous session (tracks and subscriptions kept). */
    resumed: boolean;
    participant: ParticipantInfo;
    /** This participant's permissions in this room. */
    permissions: Permission[];
    /** Seconds until the token used to join expires. */
    tokenExpiresIn: number;
    /** waiting: in the lobby until a clinician admits (then `admitted` arrives). */
    admission: 'admitted' | 'waiting';
  } & (({ admission: 'admitted' } & RoomView) | { admission: 'waiting'; room: Pick<RoomInfo, 'id' | 'kind'> });
  setRtpCapabilities: Record<string, never>;
  createTransport: TransportOptions;
  connectTransport: Record<string, never>;
  restartIce: { iceParameters: Record<string, unknown> };
  produce: { trackId: string };
  closeProducer: Record<string, never>;
  setProducerPaused: Record<string, never>;
  resumeConsumer: Record<string, never>;
  setConsumerVideoSize: { spatialLayer: number | null };
  setConsumerPaused: Record<string, never>;
  requestKeyFrame: Record<string, never>;
  getStats: { transports: Record<string, unknown>[] };
  ping: Record<string, never>;
  leave: Record<string, never>;
  createPlainTransport: {
    id: string;
    /** Where the server listens for this transport's RTP (and RTCP: rtcp-mux). */
    ip: string;
    port: number;
    srtpParameters?: { cryptoSuite: string; keyBase64: string };
  };
  connectPlainTransport: Record<string, never>;
  refreshToken: { tokenExpiresIn: number };
  admit: Record<string, never>;
  deny: Record<string, never>;
  muteParticipant: Record<string, never>;
  removeParticipant: Record<string, never>;
  setLocked: { room: RoomInfo };
  endRoom: { summary: ConsultSummary };
  getSummary: { summary: ConsultSummary };
  sendChat: { message: ChatMessage };
  setOpinion: { opinion: Opinion };
  getOpinions: { opinions: Opinion[] };
  listRecords: { records: RecordInfo[] };
  getRecordUrl: { url: string; expiresAt: number };
  deleteRecord: Record<string, never>;
  shareRecord: { share: SharedRecord };
  stopShare: Record<string, never>;
  setViewState: { view: ViewState };
  requestPresenter: Record<string, never>;
  grantPresenter: Record<string, never>;
  pointer: Record<string, never>;
  annotate: { mark: Mark };
  undoAnnotation: { markId: string | null };
}

export interface NotificationData {
  participantJoined: { participant: ParticipantInfo };
  participantLeft: { identity: string; reason: 'left' | 'disconnected' | 'removed' };
  /** Their connection dropped; they keep their place for the grace period. */
  participantReconnecting: { identity: string };
  participantReconnected: { identity: string };
  /** To participants who may admit: the lobby changed. */
  waitingRoomChanged: { waiting: WaitingEntry[] };
  /** To a waiting participant: you are in; set up media now (no reconnect needed). */
  admitted: RoomView;
  /** Room state, lock or host changed. */
  roomUpdated: { room: RoomInfo };
  /** A host paused one of your tracks. */
  mutedByHost: { trackId: string; source: TrackSource; by: PersonRef; allowUnmute: boolean };
  chat: { message: ChatMessage };
  /** To clinicians: an opinion was written or revised. */
  opinionUpdated: { opinion: Opinion };
  /** To those who may see it: a record was uploaded or deleted. */
  recordAdded: { record: RecordInfo };
  recordDeleted: { recordId: string };
  recordShared: { share: SharedRecord };
  recordShareStopped: { recordId: string };
  viewStateChanged: { recordId: string; view: ViewState; by: string };
  presenterChanged: { recordId: string; presenter: string };
  /** To the presenter: someone asks to present. */
  presenterRequested: { recordId: string; from: PersonRef };
  pointer: { recordId: string; identity: string; page: number; x: number; y: number };
  annotationAdded: { recordId: string; mark: Mark };
  annotationRemoved: { recordId: string; markId: string };
  /** A track became available to this participant; set it up and call `resumeConsumer`. */
  consumerCreated: {
    consumerId: string;
    trackId: string;
    participantIdentity: string;
    kind: MediaKind;
    source: TrackSource;
    rtpParameters: Record<string, unknown>;
    /** The publisher has the track muted. */
    producerPaused: boolean;
  };
  consumerClosed: { consumerId: string; trackId: string; participantIdentity: string };
  trackMuted: { participantIdentity: string; trackId: string };
  trackUnmuted: { participantIdentity: string; trackId: string };
  consumerLayersChanged: { consumerId: string; spatialLayer: number | null; temporalLayer: number | null };
  activeSpeakerChanged: { identity: string | null };
  /**
   * The server is closing this session; the socket closes right after.
   * code: ADMISSION_DENIED, REMOVED, ROOM_ENDED, TOKEN_EXPIRED, DUPLICATE_IDENTITY, ...
   */
  sessionClosed: {
    code: string;
    reason: string;
    /** With ROOM_ENDED, for clinicians: who took part, when, and for how long. */
    summary?: ConsultSummary;
  };
}

export type Notification = keyof NotificationData;

export interface RequestMessage<M extends Method = Method> {
  id: number;
  method: M;
  data: RequestData<M>;
}

/** `id` is null only for errors about a frame that had no readable id (e.g. not JSON). */
export type ResponseMessage<M extends Method = Method> =
  { id: number; ok: true; data: ResponseData[M] } | { id: number | null; ok: false; error: WireError };

export interface NotificationMessage<N extends Notification = Notification> {
  notification: N;
  data: NotificationData[N];
  /**
   * Per-session sequence number; absent on ephemeral notifications (pointer,
   * active speaker, layer changes). A reconnecting client sends the last one
   * it received as `resumeFromSeq`.
   */
  seq?: number;
}

export type ServerMessage = ResponseMessage | NotificationMessage;

/** Validates the frame envelope (not the payload) of a client request. */
export const requestEnvelope = object({
  id: number({ integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  method: string({ min: 1, max: 64 }),
  // Loose bounds for the envelope; each method's validator sets the real limits.
  data: optional(json({ maxDepth: 12, maxItems: 4096, maxString: 32768 })),
});
