/**
 * Client → server requests: one strict zod schema per method (unknown keys are
 * rejected so typos surface early). The server parses every inbound request
 * with these; the SDK builds them with the inferred types.
 */
import type { DtlsParameters, RtpCapabilities, RtpParameters } from 'mediasoup-client/types';
import { MAX_CHAT_LENGTH, MAX_OPINION_LENGTH, TRACK_SOURCES } from './constants.js';
import { dataRequestSchemas, sctpCapabilitiesInput } from './data.js';
import { arr, json, num, oneOf, str, typed, type JsonBounds } from './schema.js';
import { qualityReport } from './quality.js';
import * as z from 'zod/mini';
import { preflightRequestSchemas } from './preflight.js';
import { recordingRequestSchemas } from './recording.js';

export const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
/** Identities as in the token `sub`. */
export const identity = str({ min: 1, max: 128, pattern: /^[A-Za-z0-9_.@:-]+$/ });
const reason = str({ min: 1, max: 500 });

const unit = num({ min: 0, max: 1 });
export const viewPatch = z.strictObject({
  page: z.optional(num({ integer: true, min: 1, max: 100_000 })),
  zoom: z.optional(num({ min: 0.1, max: 20 })),
  panX: z.optional(num({ min: -10, max: 10 })),
  panY: z.optional(num({ min: -10, max: 10 })),
  rotation: z.optional(oneOf([0, 90, 180, 270] as const)),
  /** DICOM window/level. */
  windowCenter: z.optional(num({ min: -100_000, max: 100_000 })),
  windowWidth: z.optional(num({ min: 1, max: 200_000 })),
});
const point = z.strictObject({ x: unit, y: unit });
const color = str({ min: 4, max: 9, pattern: /^#[0-9a-fA-F]{3,8}$/ });
export const markInput = z.strictObject({
  kind: oneOf(['stroke', 'arrow', 'text'] as const),
  page: num({ integer: true, min: 1, max: 100_000 }),
  /** stroke: the path; arrow: [from, to]; text: [anchor]. */
  points: arr(point, { min: 1, max: 2000 }),
  text: z.optional(str({ min: 1, max: 1000 })),
  color: z.optional(color),
});

/** Bounds for the mediasoup blobs a client sends (mediasoup validates their content). */
const RTP_BOUNDS: JsonBounds = { maxDepth: 8, maxItems: 64, maxString: 512 };

export const requestSchemas = {
  /** First message on a connection. */
  join: z.strictObject({
    protocolVersion: num({ integer: true, min: 1, max: 1000 }),
    token: str({ min: 1, max: 8192 }),
    /** The room the client means to join; must equal the token's `room` claim. */
    room: z.optional(id),
    /** Sent by a reconnecting client to resume its previous session. */
    resumeSessionId: z.optional(str({ min: 1, max: 64 })),
    /** With resumeSessionId: the last notification `seq` received; later ones are replayed. */
    resumeFromSeq: z.optional(num({ integer: true, min: 0, max: Number.MAX_SAFE_INTEGER })),
  }),
  /** The client's device capabilities; the server starts consuming once it has them. */
  setRtpCapabilities: z.strictObject({ rtpCapabilities: json<RtpCapabilities>(RTP_BOUNDS) }),
  createTransport: z.strictObject({
    direction: oneOf(['send', 'recv'] as const),
    /** The device's SCTP capabilities: the transport gets an SCTP association for data channels. */
    sctpCapabilities: z.optional(sctpCapabilitiesInput),
  }),
  connectTransport: z.strictObject({
    transportId: id,
    dtlsParameters: typed<DtlsParameters>(
      z.strictObject({
        role: z.optional(oneOf(['auto', 'client', 'server'] as const)),
        fingerprints: arr(z.strictObject({ algorithm: str({ min: 1, max: 32 }), value: str({ min: 1, max: 256 }) }), {
          min: 1,
          max: 8,
        }),
      }),
    ),
  }),
  restartIce: z.strictObject({ transportId: id }),
  produce: z.strictObject({
    transportId: id,
    kind: oneOf(['audio', 'video'] as const),
    source: oneOf(TRACK_SOURCES),
    rtpParameters: json<RtpParameters>(RTP_BOUNDS),
    paused: z.optional(z.boolean()),
  }),
  closeProducer: z.strictObject({ producerId: id }),
  /** Mute (pause) or unmute (resume) one of the participant's own tracks. */
  setProducerPaused: z.strictObject({ producerId: id, paused: z.boolean() }),
  /** The client has set up the consumer locally and is ready for media. */
  resumeConsumer: z.strictObject({ consumerId: id }),
  /** The size the subscriber renders a video track at; the server picks the simulcast layer. */
  setConsumerVideoSize: z.strictObject({
    consumerId: id,
    width: num({ integer: true, min: 0, max: 16384 }),
    height: num({ integer: true, min: 0, max: 16384 }),
  }),
  /** Stop or start receiving a track (e.g. a tile scrolled out of view). */
  setConsumerPaused: z.strictObject({ consumerId: id, paused: z.boolean() }),
  requestKeyFrame: z.strictObject({ consumerId: id }),
  getStats: z.strictObject({}),
  /** Liveness check: lets a client notice a dead connection quickly. */
  ping: z.strictObject({}),
  leave: z.strictObject({}),
  /**
   * Load testing only: a plain RTP transport (no ICE/DTLS), offered to tokens
   * with the `loadtest` claim when the server's `loadTest.enabled` is on.
   * `srtp: true` negotiates SDES-keyed SRTP, with `srtpCryptoSuite`
   * (default AES_CM_128_HMAC_SHA1_80; browsers negotiate AES-GCM, Chromium AEAD_AES_256_GCM).
   */
  /** Swap in a fresh token before the current one expires. Same identity and room. */
  refreshToken: z.strictObject({ token: str({ min: 1, max: 8192 }) }),
  // --- TURN
  getIceServers: z.strictObject({}),

  // --- waiting room and host controls (server checks the permission for each)
  admit: z.strictObject({ identity }),
  deny: z.strictObject({ identity, reason: z.optional(reason) }),
  /** Pause another participant's track; they may unmute only if `allowUnmute`. */
  muteParticipant: z.strictObject({ identity, source: oneOf(TRACK_SOURCES), allowUnmute: z.optional(z.boolean()) }),
  /** Close their session; the identity cannot rejoin this room for its lifetime. */
  removeParticipant: z.strictObject({ identity, reason: z.optional(reason) }),
  /** Locked: no new entries except clinicians of the room's issuers. */
  setLocked: z.strictObject({ locked: z.boolean() }),
  /** End the consult for everyone. */
  endRoom: z.strictObject({ reason: z.optional(reason) }),
  getSummary: z.strictObject({}),

  // --- chat and opinion
  sendChat: z.strictObject({
    text: str({ min: 1, max: MAX_CHAT_LENGTH }),
    /** 'clinicians': visible to clinicians only. */
    to: z.optional(oneOf(['everyone', 'clinicians'] as const)),
  }),
  /** Write or revise your opinion on the consult (会诊意见); every edit is a new version. */
  setOpinion: z.strictObject({ text: str({ min: 1, max: MAX_OPINION_LENGTH }) }),
  getOpinions: z.strictObject({}),

  // --- shared medical records (uploads go over HTTP; see records in the server README)
  listRecords: z.strictObject({}),
  /** A short-lived download URL for this participant and record. */
  getRecordUrl: z.strictObject({ recordId: id }),
  deleteRecord: z.strictObject({ recordId: id }),
  /** Open a record for everyone allowed to see it; the sharer presents. */
  shareRecord: z.strictObject({ recordId: id }),
  stopShare: z.strictObject({ recordId: id }),
  /** Presenter only: move the shared view. Omitted fields keep their value. */
  setViewState: z.strictObject({ recordId: id, view: viewPatch }),
  requestPresenter: z.strictObject({ recordId: id }),
  /** Presenter (or a host) hands presenting to someone who may see the record. */
  grantPresenter: z.strictObject({ recordId: id, identity }),
  /** Ephemeral pointer position in record coordinates (0..1); throttled, not stored. */
  pointer: z.strictObject({ recordId: id, page: num({ integer: true, min: 1, max: 100_000 }), x: unit, y: unit }),
  /** A stored mark on the record. */
  annotate: z.strictObject({ recordId: id, mark: markInput }),
  /** Remove your own most recent mark on this record. */
  undoAnnotation: z.strictObject({ recordId: id }),

  // --- connection quality
  /** The client's summary of its own WebRTC stats (every ~2 s); feeds the server's quality verdict. */
  reportQuality: qualityReport,

  createPlainTransport: z.strictObject({
    direction: oneOf(['send', 'recv'] as const),
    srtp: z.optional(z.boolean()),
    srtpCryptoSuite: z.optional(oneOf(['AEAD_AES_128_GCM', 'AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'] as const)),
  }),
  /** Tells the server where the load generator receives (recv) or sends from (send). */
  connectPlainTransport: z.strictObject({
    transportId: id,
    ip: str({ min: 2, max: 64, pattern: /^[0-9a-fA-F.:]+$/ }),
    port: num({ integer: true, min: 1, max: 65535 }),
    srtpParameters: z.optional(
      z.strictObject({ cryptoSuite: str({ min: 1, max: 64 }), keyBase64: str({ min: 1, max: 128 }) }),
    ),
  }),

  // --- pre-call check (preflight.ts)
  ...preflightRequestSchemas,
  // --- data channels (see data.ts)
  ...dataRequestSchemas,
  // --- recording with consent (see recording.ts)
  ...recordingRequestSchemas,
} as const;

export type Method = keyof typeof requestSchemas;
export const METHODS = Object.keys(requestSchemas) as Method[];
export type RequestData<M extends Method> = z.infer<(typeof requestSchemas)[M]>;
