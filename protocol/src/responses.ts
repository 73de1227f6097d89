/** Server → client: the data of a successful response, one schema per method. */
import { PERMISSIONS, ROOM_KINDS } from './constants.js';
import { dataResponseSchemas } from './data.js';
import type { Method } from './requests.js';
import { oneOf } from './schema.js';
import * as z from 'zod/mini';
import {
  chatMessage,
  consultSummary,
  iceParametersBlob,
  iceServer,
  iceServersShape,
  mark,
  opinion,
  participantInfo,
  recordInfo,
  roomInfo,
  roomViewShape,
  sharedRecord,
  statsBlob,
  transportOptions,
  viewState,
} from './shapes.js';
import { preflightResponseSchemas } from './preflight.js';
import { recordingResponseSchemas } from './recording.js';

const empty = z.object({});
const joinedShape = {
  protocolVersion: z.number(),
  sessionId: z.string(),
  /** True when a reconnect resumed the previous session (tracks and subscriptions kept). */
  resumed: z.boolean(),
  /**
   * With `resumed`: the session went on at a node of the cluster that does not
   * hold its media: the node it was connected to went away, or the room was
   * rebuilt on a new home after its home died. Nobody saw it leave, but its
   * transports, tracks and subscriptions are gone: set media up again (as after
   * a fresh join) and publish again. Absent otherwise.
   */
  mediaMoved: z.optional(z.boolean()),
  participant: participantInfo,
  /** This participant's permissions in this room. */
  permissions: z.array(oneOf(PERMISSIONS)),
  /** Seconds until the token used to join expires. */
  tokenExpiresIn: z.number(),
  /**
   * Cluster mode: the signaling URLs of the cluster's other live nodes, for
   * the SDK to reconnect to when this node fails (empty in embedded mode;
   * absent from servers older than this field).
   */
  clusterNodes: z.optional(z.array(z.string().check(z.maxLength(2048))).check(z.maxLength(64))),
  // --- TURN
  ...iceServersShape,
};
const srtpParameters = z.object({ cryptoSuite: z.string(), keyBase64: z.string() });

export const responseSchemas = {
  /** waiting: in the lobby until a clinician admits (then `admitted` arrives). */
  join: z.discriminatedUnion('admission', [
    z.object({ ...joinedShape, admission: z.literal('admitted'), ...roomViewShape }),
    z.object({
      ...joinedShape,
      admission: z.literal('waiting'),
      room: z.object({ id: z.string(), kind: oneOf(ROOM_KINDS) }),
    }),
  ]),
  setRtpCapabilities: empty,
  createTransport: transportOptions,
  connectTransport: empty,
  restartIce: z.object({ iceParameters: iceParametersBlob }),
  produce: z.object({ trackId: z.string() }),
  closeProducer: empty,
  setProducerPaused: empty,
  resumeConsumer: empty,
  setConsumerVideoSize: z.object({ spatialLayer: z.nullable(z.number()) }),
  setConsumerPaused: empty,
  requestKeyFrame: empty,
  getStats: z.object({ transports: z.array(statsBlob) }),
  ping: empty,
  // --- connection quality
  reportQuality: empty,
  leave: empty,
  refreshToken: z.object({ tokenExpiresIn: z.number(), ...iceServersShape }),
  // --- TURN: fresh credentials without a new token (they still end with the token)
  getIceServers: z.object({ iceServers: z.array(iceServer), iceServersExpireIn: z.optional(z.number()) }),
  admit: empty,
  deny: empty,
  muteParticipant: empty,
  removeParticipant: empty,
  setLocked: z.object({ room: roomInfo }),
  endRoom: z.object({ summary: consultSummary }),
  getSummary: z.object({ summary: consultSummary }),
  sendChat: z.object({ message: chatMessage }),
  setOpinion: z.object({ opinion }),
  getOpinions: z.object({ opinions: z.array(opinion) }),
  listRecords: z.object({ records: z.array(recordInfo) }),
  getRecordUrl: z.object({ url: z.string(), expiresAt: z.number() }),
  deleteRecord: empty,
  shareRecord: z.object({ share: sharedRecord }),
  stopShare: empty,
  setViewState: z.object({ view: viewState }),
  requestPresenter: empty,
  grantPresenter: empty,
  pointer: empty,
  annotate: z.object({ mark }),
  undoAnnotation: z.object({ markId: z.nullable(z.string()) }),
  createPlainTransport: z.object({
    id: z.string(),
    /** Where the server listens for this transport's RTP (and RTCP: rtcp-mux). */
    ip: z.string(),
    port: z.number(),
    srtpParameters: z.optional(srtpParameters),
  }),
  connectPlainTransport: empty,
  // --- pre-call check (preflight.ts)
  ...preflightResponseSchemas,

  // --- data channels (see data.ts)
  ...dataResponseSchemas,
  // --- recording with consent (see recording.ts)
  ...recordingResponseSchemas,
} satisfies Record<Method, z.core.$ZodType>;

export type ResponseData = { [M in Method]: z.infer<(typeof responseSchemas)[M]> };
