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
  /** audio or video. */
  kind: mediaKind,
  /** camera, microphone, screen or screenAudio. */
  source: trackSource,
  /** Whether its publisher has it muted. */
  muted: z.boolean(),
});
/** A published track as the server describes it. */
export type TrackInfo = z.infer<typeof trackInfo>;

export const participantInfo = z.object({
  /** Identity from the join token (`sub`). */
  identity: text,
  /** Display name from the token (may be empty). */
  name: text,
  /** Role from the token. */
  role,
  /** When they joined (ms since the epoch). */
  joinedAt: ms,
  /** What they publish. */
  tracks: z.array(trackInfo),
});
/** A participant in the room as the server describes it. */
export type ParticipantInfo = z.infer<typeof participantInfo>;

export const roomInfo = z.object({
  /** The room's id (its name in the token). */
  id: text,
  /** consult, clinic or rounds. */
  kind: oneOf(ROOM_KINDS),
  /** The consult's lifecycle: created, waiting, active, ended. */
  state: oneOf(ROOM_STATES),
  /** Whether the room is locked against new entries. */
  locked: z.boolean(),
  /** Identity of the host doctor, once known. */
  host: z.nullable(text),
  /** How many participants (lobby included) it holds at most. */
  capacity: z.number(),
  /** When the room was opened (ms since the epoch). */
  createdAt: ms,
  /** When the consult started (a clinician and a patient together), or null. */
  startedAt: nullableMs,
  /** When it ended, or null. */
  endedAt: nullableMs,
});
/** A consult room's state. */
export type RoomInfo = z.infer<typeof roomInfo>;

export const waitingEntry = z.object({
  /** Identity of who waits. */
  identity: text,
  /** Their display name. */
  name: text,
  /** Their role (patient, family, ...). */
  role,
  /** When they started waiting (ms since the epoch). */
  since: ms,
});
/** Someone waiting in the lobby. */
export type WaitingEntry = z.infer<typeof waitingEntry>;

const personShape = {
  /** Identity from the token (`sub`). */
  identity: text,
  /** Display name (may be empty). */
  name: text,
  /** Role. */
  role,
};
export const personRef = z.object(personShape);
/** Who did something: identity, name and role. */
export type PersonRef = z.infer<typeof personRef>;

export const chatMessage = z.object({
  /** The message's id. */
  id: text,
  /** Server order within the room, from 1. */
  seq: z.number(),
  /** Who wrote it. */
  from: personRef,
  /** The text (at most `MAX_CHAT_LENGTH` characters). */
  text,
  /** Everyone, or the clinicians only. */
  to: oneOf(['everyone', 'clinicians'] as const),
  /** When the server received it (ms since the epoch). */
  sentAt: ms,
});
/** One chat message. */
export type ChatMessage = z.infer<typeof chatMessage>;

export const opinion = z.object({
  /** 1 for the first version of this author's opinion. */
  version: z.number(),
  /** Who wrote it, and the issuer (hospital) of their token. */
  author: z.object({
    ...personShape,
    /** The token issuer (their hospital's identity system). */
    issuer: text,
  }),
  /** The opinion (at most `MAX_OPINION_LENGTH` characters). */
  text,
  /** When this version was written (ms since the epoch). */
  writtenAt: ms,
});
/** A clinician's written consult opinion, one version of it. */
export type Opinion = z.infer<typeof opinion>;

export const consultSummary = z.object({
  /** The room as it ended. */
  room: roomInfo,
  /** From start to end, seconds; null when it never started. */
  durationSec: z.nullable(z.number()),
  /** Everyone who took part. */
  participants: z.array(
    z.object({
      ...personShape,
      /** The token issuer (their hospital's identity system). */
      issuer: text,
      /** When they first joined (ms since the epoch). */
      firstJoinedAt: ms,
      /** When they last left, or null while still there. */
      lastLeftAt: nullableMs,
    }),
  ),
  // --- evaluation: how many patients and family rated the consult (read them at /api/rooms/:id/evaluations)
  /** How many patients and family rated the consult. */
  evaluations: z.optional(z.number()),
});
/** Who took part in a consult and for how long. */
export type ConsultSummary = z.infer<typeof consultSummary>;

export const recordInfo = z.object({
  /** The record's id. */
  id: text,
  /** Sanitized file name, for display only. */
  name: text,
  /** Detected from the content, never from what the uploader declared. */
  type: oneOf(RECORD_TYPES),
  /** Size in bytes. */
  size: z.number(),
  /** Who may see it: everyone, or clinicians only. */
  visibility: oneOf(RECORD_VISIBILITIES),
  /** Who uploaded it. */
  uploadedBy: personRef,
  /** When (ms since the epoch). */
  uploadedAt: ms,
});
/** A medical record in the room. */
export type RecordInfo = z.infer<typeof recordInfo>;

export const viewState = z.object({
  /** The page shown, from 1. */
  page: z.number(),
  /** Zoom factor (1 = fit). */
  zoom: z.number(),
  /** Horizontal pan, in page widths. */
  panX: z.number(),
  /** Vertical pan, in page heights. */
  panY: z.number(),
  /** Rotation in degrees. */
  rotation: oneOf([0, 90, 180, 270] as const),
  /** DICOM window center (level); null for the image's own. */
  windowCenter: z.nullable(z.number()),
  /** DICOM window width; null for the image's own. */
  windowWidth: z.nullable(z.number()),
  /** Increases with every change. */
  version: z.number(),
});
/** How a shared record is shown to everyone. */
export type ViewState = z.infer<typeof viewState>;

export const mark = z.object({
  /** The annotation's id. */
  id: text,
  /** Server order among the record's annotations. */
  seq: z.number(),
  /** Who drew it. */
  author: personRef,
  /** A freehand stroke, an arrow or a text label. */
  kind: oneOf(['stroke', 'arrow', 'text'] as const),
  /** The page it is on, from 1. */
  page: z.number(),
  /** Its points in page coordinates. */
  points: z.array(
    z.object({
      /** 0 (left) to 1 (right). */
      x: z.number(),
      /** 0 (top) to 1 (bottom). */
      y: z.number(),
    }),
  ),
  /** The label of a text mark. */
  text: z.optional(text),
  /** CSS hex color, e.g. `#e53935`. */
  color: z.optional(text),
  /** When it was drawn (ms since the epoch). */
  createdAt: ms,
});
/** An annotation on a shared record. */
export type Mark = z.infer<typeof mark>;

export const sharedRecord = z.object({
  /** The record. */
  record: recordInfo,
  /** Identity of who leads the view. */
  presenter: text,
  /** The synchronized view. */
  view: viewState,
  /** Its annotations, in order. */
  marks: z.array(mark),
});
/** The record being shared in the room. */
export type SharedRecord = z.infer<typeof sharedRecord>;

/** What a participant gets once inside the room (at join, or when admitted). */
// --- vitals
/**
 * A vitals threshold from the server's config was crossed for long enough
 * (`raised`, once per episode), or the reading is back in range (`cleared`).
 * `value` is the reading that did it, `at` its measurement time (ms since the epoch).
 */
export const vitalsAlert = z.object({
  /** Whose reading. */
  identity: z.string(),
  /** Which vital sign. */
  type: z.literal(['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature', 'bloodPressure', 'bloodGlucose']),
  /** Blood pressure: which reading the threshold applies to. */
  component: z.optional(z.literal(['systolic', 'diastolic', 'mean'])),
  /** Raised (once per episode) or cleared. */
  state: z.literal(['raised', 'cleared']),
  /** The reading that did it. */
  value: z.optional(z.number()),
  /** The configured limit. */
  threshold: z.number(),
  /** Whether the reading went below or above the limit. */
  direction: z.literal(['below', 'above']),
  /** A sentence for the clinician. */
  message: z.string(),
  /** The reading's measurement time (ms since the epoch). */
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
