/**
 * What two nodes say to each other over a node link to pipe a room's media
 * between their routers. Every frame is validated on arrival like a client's:
 * a node with the secret is trusted to be a node, not to be bug-free.
 *
 * Frames: `req` (answered by one `res` with the same id) and `note` (no answer).
 */
import {
  LINK_DIRECTIONS,
  connectionQuality,
  dataTopic,
  int,
  json,
  mediaKind,
  num,
  oneOf,
  sctpStreamParametersInput,
  str,
  trackSource,
} from '@huizhen/protocol';
import type { types } from 'mediasoup';
import * as z from 'zod/mini';

/** A pipe consumer's RTP parameters, checked in depth by mediasoup itself when the copy is produced. */
const rtpParameters = json<types.RtpParameters>({ maxDepth: 12, maxItems: 4096, maxString: 32768 });
const roomId = str({ min: 1, max: 128 });
const method = str({ min: 1, max: 64, pattern: /^[A-Za-z]+$/ });
const mediaId = str({ min: 1, max: 64 });
/** A pipe transport's address: loopback or a node's media address, never a name to resolve. */
const ip = str({ min: 2, max: 45, pattern: /^[0-9a-fA-F.:]+$/ });
const srtpParameters = z.strictObject({
  cryptoSuite: oneOf([
    'AEAD_AES_256_GCM',
    'AEAD_AES_128_GCM',
    'AES_CM_128_HMAC_SHA1_80',
    'AES_CM_128_HMAC_SHA1_32',
  ] as const),
  keyBase64: str({ min: 16, max: 128, pattern: /^[A-Za-z0-9+/=]+$/ }),
});
/** A client's request or the home's answer, checked against the client protocol where it is used. */
const clientMessage = json<unknown>({ maxDepth: 16, maxItems: 4096, maxString: 65536 });
const sessionId = str({ min: 1, max: 64 });
export const pipeEndpoint = z.strictObject({ ip, port: int(1, 65_535), srtpParameters });

/** One data stream a pipe's SCTP association now carries from the caller (a pipe DataConsumer's stream). */
const pipeDataStream = z.strictObject({
  sctpStreamParameters: sctpStreamParametersInput,
  label: str({ min: 1, max: 64 }),
  protocol: str({ max: 64 }),
  reliable: z.boolean(),
});

/** Requests, by method: what the caller sends and what the answer carries. */
export const linkRequests = {
  /** Open (or return) the callee's end of the room's pipe, connected to the caller's end. */
  openPipe: {
    data: z.strictObject({ room: roomId, endpoint: pipeEndpoint }),
    result: z.strictObject({ endpoint: pipeEndpoint }),
  },
  /** Create on the callee's router the producer the caller's pipe now sends (same id). */
  importProducer: {
    data: z.strictObject({
      room: roomId,
      producerId: mediaId,
      kind: mediaKind,
      rtpParameters,
      paused: z.boolean(),
      identity: str({ min: 1, max: 256 }),
      source: trackSource,
    }),
    result: z.strictObject({}),
  },
  // --- relay: a participant connected to this node (the edge) in a room homed on the callee
  /** Run a client's join (the request as the client sent it) at the room's home; the answer is the home's join response. */
  relayJoin: {
    data: z.strictObject({ room: roomId, request: clientMessage, remoteIp: z.nullable(ip) }),
    result: z.strictObject({ response: clientMessage }),
  },
  /** Run one workflow request of a relayed session at the room's home. */
  relayRequest: {
    data: z.strictObject({ room: roomId, sessionId, method, request: clientMessage }),
    result: z.strictObject({ response: clientMessage }),
  },
  /**
   * Edge → home: a relayed session published on a data topic; the edge's pipe
   * now sends it on `stream`. The home takes it into the room's data relay as
   * that participant's (same checks as a local publisher's).
   */
  relayPublishData: {
    data: z.strictObject({
      room: roomId,
      sessionId,
      stream: z.strictObject({ ...pipeDataStream.shape, label: dataTopic }),
    }),
    result: z.strictObject({ maxMessageBytes: int(1, 1 << 30) }),
  },
  /**
   * Edge → home: open the room's data channels to a relayed session. The home
   * sends them down its pipe to the edge; the answer says on which streams.
   */
  relaySubscribeData: {
    data: z.strictObject({ room: roomId, sessionId }),
    result: z.strictObject({
      streams: z.array(pipeDataStream).check(z.maxLength(4)),
      maxMessageBytes: int(1, 1 << 30),
    }),
  },
  /** Home → edge: a host paused a relayed session's track (null trackId: it has none of that source). */
  relayHostPause: {
    data: z.strictObject({ room: roomId, sessionId, source: trackSource, allowUnmute: z.boolean() }),
    result: z.strictObject({ trackId: z.nullable(mediaId), changed: z.boolean() }),
  },
} as const;

/** Notes, by method. */
export const linkNotes = {
  // --- relay
  /** Home → edge: a notification for a relayed session (seq as the home numbered it; null: ephemeral). */
  relayNotify: z.strictObject({
    room: roomId,
    sessionId,
    name: method,
    data: clientMessage,
    seq: z.nullable(int(1, Number.MAX_SAFE_INTEGER)),
  }),
  /** Home → edge: the session resumed elsewhere or ended without a notification: stop acting for it. */
  relayEnded: z.strictObject({ room: roomId, sessionId }),
  /** Home → edge: the room's home moved away (drain): the client reconnects and finds the room's new home. */
  relayMoved: z.strictObject({ room: roomId, sessionId }),
  /** Edge → home: the client's connection dropped (the reconnect grace starts) or it left. */
  relayGone: z.strictObject({ room: roomId, sessionId, left: z.boolean() }),
  /** Edge → home: the connection quality the edge measured for a relayed session (the home tells the room). */
  relayQuality: z.strictObject({
    room: roomId,
    sessionId,
    update: z.strictObject({
      quality: connectionQuality,
      uplink: z.optional(connectionQuality),
      downlink: z.optional(connectionQuality),
      rttMs: z.optional(num({ min: 0, max: 600_000 })),
      loss: z.optional(num({ min: 0, max: 1 })),
      availableBitrate: z.optional(num({ min: 0, max: 1e10 })),
    }),
  }),
  /** Edge → home: the network audio-only fallback of a relayed session went on or off. */
  relayAudioOnly: z.strictObject({
    room: roomId,
    sessionId,
    audioOnly: z.boolean(),
    direction: oneOf(LINK_DIRECTIONS),
  }),
  /** Edge → home: a relayed session's track was muted or unmuted by its owner (the home tells the room). */
  relayTrackMuted: z.strictObject({ room: roomId, sessionId, trackId: mediaId, paused: z.boolean() }),
  /** Home → every node with participants in the room: the room's other nodes, which each node sends its own tracks to. */
  roomNodes: z.strictObject({
    room: roomId,
    nodes: z
      .array(z.strictObject({ id: str({ min: 1, max: 128 }), url: str({ min: 1, max: 2048 }) }))
      .check(z.maxLength(64)),
  }),
  /** The exported producer paused or resumed at its source. */
  producerPaused: z.strictObject({ room: roomId, producerId: mediaId, paused: z.boolean() }),
  /** The exported producer closed at its source: close the imported copy. */
  producerClosed: z.strictObject({ room: roomId, producerId: mediaId }),
  /** The importer no longer needs the producer: stop sending it. */
  releaseProducer: z.strictObject({ room: roomId, producerId: mediaId }),
  /** A data stream the sender's pipe carried ended: close what the receiver made of it. */
  pipeDataClosed: z.strictObject({ room: roomId, streamId: int(0, 65534) }),
  /** The room's pipe between the two nodes is no longer needed. */
  closePipe: z.strictObject({ room: roomId }),
} as const;

export type LinkRequestMethod = keyof typeof linkRequests;
export type LinkNoteMethod = keyof typeof linkNotes;
export type LinkRequestData<M extends LinkRequestMethod> = z.infer<(typeof linkRequests)[M]['data']>;
export type LinkRequestResult<M extends LinkRequestMethod> = z.infer<(typeof linkRequests)[M]['result']>;
export type LinkNoteData<M extends LinkNoteMethod> = z.infer<(typeof linkNotes)[M]>;
export type PipeEndpoint = z.infer<typeof pipeEndpoint>;

const requestId = int(1, Number.MAX_SAFE_INTEGER);
export const linkFrame = z.union([
  z.strictObject({ t: z.literal('req'), id: requestId, m: method, d: z.unknown() }),
  z.strictObject({ t: z.literal('note'), m: method, d: z.unknown() }),
  z.strictObject({ t: z.literal('res'), id: requestId, ok: z.literal(true), d: z.unknown() }),
  z.strictObject({
    t: z.literal('res'),
    id: requestId,
    ok: z.literal(false),
    code: str({ min: 1, max: 64 }),
    message: str({ min: 0, max: 1000 }),
  }),
]);
export type LinkFrame = z.infer<typeof linkFrame>;
