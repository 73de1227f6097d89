/**
 * The shapes the server sends (participants, rooms, chat, records, ...), as
 * zod schemas; the TypeScript types are inferred from them. Objects here strip
 * unknown keys instead of rejecting them, so an older SDK keeps working with a
 * newer server that adds a field.
 */
import type {
  DtlsParameters,
  IceCandidate,
  IceParameters,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
} from 'mediasoup-client/types';
import { RECORD_TYPES, RECORD_VISIBILITIES, ROLES, ROOM_KINDS, ROOM_STATES, TRACK_SOURCES } from './constants.js';
import { arr, json, oneOf, type JsonBounds } from './schema.js';
import * as z from 'zod/mini';
import { vitalsSample } from './vitals.js';
import { recordingStatus } from './recording.js';

/** Server-made mediasoup blobs: looser than what a client may send, still bounded. */
const SERVER_BLOB: JsonBounds = { maxDepth: 12, maxItems: 4096, maxString: 32768 };
export const rtpCapabilitiesBlob = json<RtpCapabilities>(SERVER_BLOB);
export const rtpParametersBlob = json<RtpParameters>(SERVER_BLOB);
export const iceParametersBlob = json<IceParameters>(SERVER_BLOB);
export const iceCandidatesBlob = arr(json<IceCandidate>(SERVER_BLOB), { max: 256 });
export const dtlsParametersBlob = json<DtlsParameters>(SERVER_BLOB);
export const sctpParametersBlob = json<SctpParameters>(SERVER_BLOB);
export const statsBlob = json(SERVER_BLOB);

const text = z.string();
const ms = z.number();
const nullableMs = z.nullable(z.number());

export const mediaKind = oneOf(['audio', 'video'] as const);
export const trackSource = oneOf(TRACK_SOURCES);
export const role = oneOf(ROLES);

export const trackInfo = z.object({
  /** The producer id on the server; stable for the life of the track. */
  trackId: text,
  kind: mediaKind,
  source: trackSource,
  muted: z.boolean(),
});
export type TrackInfo = z.infer<typeof trackInfo>;

export const participantInfo = z.object({
  identity: text,
  name: text,
  role,
  joinedAt: ms,
  tracks: z.array(trackInfo),
});
export type ParticipantInfo = z.infer<typeof participantInfo>;

export const roomInfo = z.object({
  id: text,
  kind: oneOf(ROOM_KINDS),
  state: oneOf(ROOM_STATES),
  locked: z.boolean(),
  /** Identity of the host doctor, once known. */
  host: z.nullable(text),
  capacity: z.number(),
  createdAt: ms,
  startedAt: nullableMs,
  endedAt: nullableMs,
});
export type RoomInfo = z.infer<typeof roomInfo>;

export const waitingEntry = z.object({
  identity: text,
  name: text,
  role,
  /** When they started waiting (ms since the epoch). */
  since: ms,
});
export type WaitingEntry = z.infer<typeof waitingEntry>;

const personShape = { identity: text, name: text, role };
export const personRef = z.object(personShape);
export type PersonRef = z.infer<typeof personRef>;

export const chatMessage = z.object({
  id: text,
  /** Server order within the room, from 1. */
  seq: z.number(),
  from: personRef,
  text,
  to: oneOf(['everyone', 'clinicians'] as const),
  sentAt: ms,
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const opinion = z.object({
  /** 1 for the first version of this author's opinion. */
  version: z.number(),
  author: z.object({ ...personShape, issuer: text }),
  text,
  writtenAt: ms,
});
export type Opinion = z.infer<typeof opinion>;

export const consultSummary = z.object({
  room: roomInfo,
  durationSec: z.nullable(z.number()),
  participants: z.array(z.object({ ...personShape, issuer: text, firstJoinedAt: ms, lastLeftAt: nullableMs })),
});
export type ConsultSummary = z.infer<typeof consultSummary>;

export const recordInfo = z.object({
  id: text,
  /** Sanitized file name, for display only. */
  name: text,
  /** Detected from the content, never from what the uploader declared. */
  type: oneOf(RECORD_TYPES),
  size: z.number(),
  visibility: oneOf(RECORD_VISIBILITIES),
  uploadedBy: personRef,
  uploadedAt: ms,
});
export type RecordInfo = z.infer<typeof recordInfo>;

export const viewState = z.object({
  page: z.number(),
  zoom: z.number(),
  panX: z.number(),
  panY: z.number(),
  rotation: oneOf([0, 90, 180, 270] as const),
  windowCenter: z.nullable(z.number()),
  windowWidth: z.nullable(z.number()),
  /** Increases with every change. */
  version: z.number(),
});
export type ViewState = z.infer<typeof viewState>;

export const mark = z.object({
  id: text,
  seq: z.number(),
  author: personRef,
  kind: oneOf(['stroke', 'arrow', 'text'] as const),
  page: z.number(),
  points: z.array(z.object({ x: z.number(), y: z.number() })),
  text: z.optional(text),
  color: z.optional(text),
  createdAt: ms,
});
export type Mark = z.infer<typeof mark>;

export const sharedRecord = z.object({
  record: recordInfo,
  presenter: text,
  view: viewState,
  marks: z.array(mark),
});
export type SharedRecord = z.infer<typeof sharedRecord>;

/** What a participant gets once inside the room (at join, or when admitted). */
// --- vitals
/**
 * A vitals threshold from the server's config was crossed for long enough
 * (`raised`, once per episode), or the reading is back in range (`cleared`).
 * `value` is the reading that did it, `at` its measurement time (ms since the epoch).
 */
export const vitalsAlert = z.object({
  identity: z.string(),
  type: z.literal(['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature', 'bloodPressure', 'bloodGlucose']),
  /** Blood pressure: which reading the threshold applies to. */
  component: z.optional(z.literal(['systolic', 'diastolic', 'mean'])),
  state: z.literal(['raised', 'cleared']),
  value: z.optional(z.number()),
  threshold: z.number(),
  direction: z.literal(['below', 'above']),
  message: z.string(),
  at: z.number(),
});

export const roomViewShape = {
  room: roomInfo,
  participants: z.array(participantInfo),
  routerRtpCapabilities: rtpCapabilitiesBlob,
  chatHistory: z.array(chatMessage),
  /** Only for participants who may admit. */
  waitingRoom: z.optional(z.array(waitingEntry)),
  /** The record being shared now, if this participant may see it. */
  share: z.optional(sharedRecord),
  // --- vitals
  /** The latest vitals reading of each type per participant, for those who may see them (so late joiners see BP too). */
  vitals: z.optional(
    z.array(
      z.object({
        identity: z.string(),
        samples: z.array(vitalsSample),
        /** Alerts raised now and not yet cleared (for the clinical team only). */
        alerts: z.optional(z.array(vitalsAlert)),
      }),
    ),
  ),
  // --- recording
  /**
   * The consult's recording as it stands (so late joiners and admits are asked at once);
   * present only when the server can record at all.
   */
  recording: z.optional(recordingStatus),
};
export const roomView = z.object(roomViewShape);

// --- TURN: ICE servers with time-limited credentials
/** One TURN server entry, as `RTCIceServer` takes it. */
export const iceServer = z.object({
  urls: z.array(text),
  username: z.optional(text),
  credential: z.optional(text),
});
export type IceServer = z.infer<typeof iceServer>;
/**
 * TURN servers for this participant (absent when the server has none) and the
 * seconds until their credentials expire (never after the token does).
 */
export const iceServersShape = {
  iceServers: z.optional(z.array(iceServer)),
  iceServersExpireIn: z.optional(z.number()),
};
export type RoomView = z.infer<typeof roomView>;

export const transportOptions = z.object({
  id: text,
  iceParameters: iceParametersBlob,
  iceCandidates: iceCandidatesBlob,
  dtlsParameters: dtlsParametersBlob,
  sctpParameters: z.optional(sctpParametersBlob),
});
export type TransportOptions = z.infer<typeof transportOptions>;
