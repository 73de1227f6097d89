/** Server → client notifications: one schema per name. */
import * as z from 'zod/mini';
import { dataNotificationSchemas } from './data.js';
import {
  chatMessage,
  consultSummary,
  mark,
  mediaKind,
  opinion,
  participantInfo,
  personRef,
  recordInfo,
  roomInfo,
  roomViewShape,
  iceServersShape,
  rtpParametersBlob,
  sharedRecord,
  trackSource,
  viewState,
  vitalsAlert,
  waitingEntry,
} from './shapes.js';
import { preflightNotificationSchemas } from './preflight.js';
import { recordingNotificationSchemas } from './recording.js';
import { AUDIO_ONLY_REASONS, LINK_DIRECTIONS, connectionQuality } from './quality.js';

const text = z.string();
const byIdentity = z.object({ identity: text });

export const notificationSchemas = {
  participantJoined: z.object({ participant: participantInfo }),
  participantLeft: z.object({ identity: text, reason: z.literal(['left', 'disconnected', 'removed']) }),
  /** Their connection dropped; they keep their place for the grace period. */
  participantReconnecting: byIdentity,
  participantReconnected: byIdentity,
  /** To participants who may admit: the lobby changed. */
  waitingRoomChanged: z.object({ waiting: z.array(waitingEntry) }),
  /** To a waiting participant: you are in; set up media now (no reconnect needed). */
  admitted: z.object({ ...roomViewShape, ...iceServersShape }),
  /** Room state, lock or host changed. */
  roomUpdated: z.object({ room: roomInfo }),
  /** A host paused one of your tracks. */
  mutedByHost: z.object({ trackId: text, source: trackSource, by: personRef, allowUnmute: z.boolean() }),
  chat: z.object({ message: chatMessage }),
  /** To clinicians: an opinion was written or revised. */
  opinionUpdated: z.object({ opinion }),
  /** To those who may see it: a record was uploaded or deleted. */
  recordAdded: z.object({ record: recordInfo }),
  recordDeleted: z.object({ recordId: text }),
  recordShared: z.object({ share: sharedRecord }),
  recordShareStopped: z.object({ recordId: text }),
  viewStateChanged: z.object({ recordId: text, view: viewState, by: text }),
  presenterChanged: z.object({ recordId: text, presenter: text }),
  /** To the presenter: someone asks to present. */
  presenterRequested: z.object({ recordId: text, from: personRef }),
  pointer: z.object({ recordId: text, identity: text, page: z.number(), x: z.number(), y: z.number() }),
  annotationAdded: z.object({ recordId: text, mark }),
  annotationRemoved: z.object({ recordId: text, markId: text }),
  /** A track became available to this participant; set it up and call `resumeConsumer`. */
  consumerCreated: z.object({
    consumerId: text,
    trackId: text,
    participantIdentity: text,
    kind: mediaKind,
    source: trackSource,
    rtpParameters: rtpParametersBlob,
    /** The publisher has the track muted. */
    producerPaused: z.boolean(),
  }),
  consumerClosed: z.object({ consumerId: text, trackId: text, participantIdentity: text }),
  trackMuted: z.object({ participantIdentity: text, trackId: text }),
  trackUnmuted: z.object({ participantIdentity: text, trackId: text }),
  consumerLayersChanged: z.object({
    consumerId: text,
    spatialLayer: z.nullable(z.number()),
    temporalLayer: z.nullable(z.number()),
  }),
  activeSpeakerChanged: z.object({ identity: z.nullable(text) }),
  // --- connection quality
  /**
   * To clinicians and to the participant themselves (never to other patients):
   * how well a participant's link carries media now. `uplink` / `downlink`
   * say which way is the weak one; the numbers are what the verdict rests on.
   */
  connectionQualityChanged: z.object({
    identity: text,
    quality: connectionQuality,
    uplink: z.optional(connectionQuality),
    downlink: z.optional(connectionQuality),
    rttMs: z.optional(z.number()),
    loss: z.optional(z.number()),
    availableBitrate: z.optional(z.number()),
  }),
  /**
   * Video stopped (or came back) because the link cannot carry it. `downlink`:
   * the server stopped sending video to `identity` (audio goes on); `uplink`:
   * `identity` stops sending their camera (their SDK pauses it; not a mute).
   */
  audioOnlyChanged: z.object({
    identity: text,
    audioOnly: z.boolean(),
    reason: z.literal(AUDIO_ONLY_REASONS),
    direction: z.optional(z.literal(LINK_DIRECTIONS)),
  }),
  /**
   * The server is closing this session; the socket closes right after.
   * code: ADMISSION_DENIED, REMOVED, ROOM_ENDED, TOKEN_EXPIRED, DUPLICATE_IDENTITY, ...
   */
  sessionClosed: z.object({
    code: text,
    reason: text,
    /** With ROOM_ENDED, for clinicians: who took part, when, and for how long. */
    summary: z.optional(consultSummary),
  }),
  /**
   * Cluster mode: this node is going down (drain); reconnect through the node
   * at `url` and resume the session there (the SDK does this by itself).
   */
  moveNode: z.object({
    url: z.string().check(z.maxLength(2048), z.regex(/^https?:\/\/[^\s]+$/)),
    reason: text,
  }),
  // --- pre-call check (preflight.ts)
  ...preflightNotificationSchemas,

  // --- data channels (see data.ts)
  ...dataNotificationSchemas,
  // --- vitals
  /**
   * To the clinical team: a vitals threshold from the server's config was
   * crossed for long enough (`raised`, once per episode), or the reading is
   * back in range (`cleared`). `value` is the reading that did it, `at` its
   * measurement time (ms since the epoch).
   */
  vitalsAlert,
  // --- recording with consent (see recording.ts)
  ...recordingNotificationSchemas,
};

export type Notification = keyof typeof notificationSchemas;
export const NOTIFICATIONS = Object.keys(notificationSchemas) as Notification[];
export type NotificationData = { [N in Notification]: z.infer<(typeof notificationSchemas)[N]> };
