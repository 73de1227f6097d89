/**
 * Connection quality and the network audio-only state: the values both ends
 * agree on, and the bounded summary of its own WebRTC stats a client reports.
 */
import * as z from 'zod/mini';
import { num, oneOf } from './schema.js';

/** 'lost': no media arrives at all (ICE disconnected or silent for seconds); 'unknown' until measured. */
export const CONNECTION_QUALITIES = ['excellent', 'good', 'poor', 'lost'] as const;
/** The server's verdict on a participant's connection: excellent, good, poor or lost. */
export type ConnectionQuality = (typeof CONNECTION_QUALITIES)[number];
export const connectionQuality = oneOf(CONNECTION_QUALITIES);

/** Which way video does not fit: towards the participant (downlink) or from them (uplink). */
export const LINK_DIRECTIONS = ['downlink', 'uplink'] as const;
/** downlink (towards the participant) or uplink (from them). */
export type LinkDirection = (typeof LINK_DIRECTIONS)[number];

/** Why a participant is on audio only: 'network' (the link cannot carry video). */
export const AUDIO_ONLY_REASONS = ['network'] as const;

/**
 * What a client measured on its own peer connections in the last interval.
 * Every field is optional (a browser may not report it) and bounded, so a
 * client cannot push absurd values into the server's decisions.
 */
export const qualityReport = z.strictObject({
  /** Round trip to the media server, ms (selected candidate pair). */
  rttMs: z.optional(num({ min: 0, max: 60_000 })),
  /** Inbound audio jitter, ms. */
  jitterMs: z.optional(num({ min: 0, max: 60_000 })),
  /** Inbound packet loss over the interval, 0..1. */
  inboundLoss: z.optional(num({ min: 0, max: 1 })),
  /** Outbound packet loss the server reported back (RTCP), 0..1. */
  outboundLoss: z.optional(num({ min: 0, max: 1 })),
  /** The browser's own send-side estimate, bit/s. */
  availableOutgoingBitrate: z.optional(num({ min: 0, max: 1_000_000_000 })),
  /** Frames per second the camera actually sends (all layers' top). */
  sentFps: z.optional(num({ min: 0, max: 240 })),
  /** Frames per second decoded from remote video (the best stream). */
  receivedFps: z.optional(num({ min: 0, max: 240 })),
  /** The encoder is held back by bandwidth (qualityLimitationReason). */
  bandwidthLimited: z.optional(z.boolean()),
});
/** A browser's stats summary sent for the server's quality verdict. */
export type QualityReport = z.infer<typeof qualityReport>;
