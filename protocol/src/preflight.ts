/**
 * The pre-call check (preflight) on the wire: a media loopback outside every
 * room. A fresh connection sends `startPreflight` instead of `join`; the server
 * answers with its router capabilities and two WebRTC transports on a router of
 * their own, consumes what the client publishes straight back to the same
 * connection, and tears it all down on `endPreflight`, on close, or when its
 * time cap runs out (`preflightEnded`). Nothing here is ever part of a room.
 */
import type { DtlsParameters, RtpCapabilities, RtpParameters } from 'mediasoup-client/types';
import { arr, json, num, oneOf, str, typed, type JsonBounds } from './schema.js';
import { iceServer, mediaKind, rtpCapabilitiesBlob, rtpParametersBlob, statsBlob, transportOptions } from './shapes.js';
import * as z from 'zod/mini';

const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
const RTP_BOUNDS: JsonBounds = { maxDepth: 8, maxItems: 64, maxString: 512 };

export const preflightRequestSchemas = {
  /** First message on a connection (instead of `join`). Any valid token will do; its room is not entered. */
  startPreflight: z.strictObject({
    protocolVersion: num({ integer: true, min: 1, max: 1000 }),
    token: str({ min: 1, max: 8192 }),
  }),
  preflightConnectTransport: z.strictObject({
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
  /**
   * Publishes a test track on the preflight send transport; the server consumes
   * it back on the recv transport (paused until `preflightResumeConsumer`).
   * One track per kind.
   */
  preflightProduce: z.strictObject({
    transportId: id,
    kind: oneOf(['audio', 'video'] as const),
    rtpParameters: json<RtpParameters>(RTP_BOUNDS),
    /** The client's device capabilities, to consume the track back. */
    rtpCapabilities: json<RtpCapabilities>(RTP_BOUNDS),
  }),
  preflightResumeConsumer: z.strictObject({ consumerId: id }),
  /** What the server sees of the loopback (transport stats: bitrate in and out, RTT, ...). */
  preflightStats: z.strictObject({}),
  endPreflight: z.strictObject({}),
} as const;

const empty = z.object({});

export const preflightResponseSchemas = {
  startPreflight: z.object({
    protocolVersion: z.number(),
    preflightId: z.string(),
    routerRtpCapabilities: rtpCapabilitiesBlob,
    sendTransport: transportOptions,
    recvTransport: transportOptions,
    /** The server ends the loopback after this long, whatever the client does. */
    maxDurationMs: z.number(),
    /** The most the server accepts from the client per second, in bits. */
    maxBitrate: z.number(),
    /** TURN servers for this check, with credentials that expire shortly after it (absent: none configured). */
    iceServers: z.optional(z.array(iceServer)),
  }),
  preflightConnectTransport: empty,
  preflightProduce: z.object({
    producerId: z.string(),
    consumer: z.object({
      consumerId: z.string(),
      producerId: z.string(),
      kind: mediaKind,
      rtpParameters: rtpParametersBlob,
    }),
  }),
  preflightResumeConsumer: empty,
  preflightStats: z.object({ transports: z.array(statsBlob) }),
  endPreflight: z.object({ durationMs: z.number() }),
};

/** timeLimit: the server's cap on duration; bitrateLimit: the client sent far more than allowed. */
export const PREFLIGHT_END_REASONS = ['timeLimit', 'bitrateLimit', 'mediaError', 'serverShuttingDown'] as const;
export type PreflightEndReason = (typeof PREFLIGHT_END_REASONS)[number];

export const preflightNotificationSchemas = {
  /** The server ended the loopback on its own (the socket closes right after). */
  preflightEnded: z.object({ reason: oneOf(PREFLIGHT_END_REASONS), durationMs: z.number() }),
};
