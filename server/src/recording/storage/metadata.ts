/**
 * What is kept about one recording besides its media: who asked, when, the
 * spans that were recorded (consented time), the per-track segment files,
 * the consent history, and where the composition stands. Validated whenever
 * it is read back from disk.
 */
import * as z from 'zod/mini';
import { arr, num, oneOf, str } from '@huizhen/protocol';

export const RECORDING_STATES = ['capturing', 'composing', 'ready', 'failed'] as const;
export type RecordingState = (typeof RECORDING_STATES)[number];

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ms = num({ integer: true, min: 0 });

const spanSchema = z.strictObject({
  /** Wall-clock ms; a span is one stretch of time while everyone present had consented. */
  startedAt: ms,
  endedAt: z.optional(ms),
});

const segmentSchema = z.strictObject({
  id: str({ max: 64, pattern: ID }),
  span: num({ integer: true, min: 0 }),
  /** The track (producer) id. */
  track: str({ max: 64 }),
  identity: str({ max: 256 }),
  source: str({ max: 32 }),
  kind: oneOf(['audio', 'video'] as const),
  codec: str({ max: 32 }),
  startedAt: ms,
  endedAt: ms,
  bytes: num({ integer: true, min: 0 }),
});

const consentSchema = z.strictObject({
  time: str({ max: 40 }),
  identity: str({ max: 256 }),
  event: oneOf(['requested', 'consented', 'declined', 'withdrawn', 'joined', 'left', 'stopped'] as const),
});

export const recordingMetaSchema = z.strictObject({
  version: z.literal(1),
  id: str({ max: 64, pattern: ID }),
  room: str({ max: 64, pattern: ID }),
  requestedBy: str({ max: 256 }),
  /** ISO time of the first span. */
  startedAt: str({ max: 40 }),
  finishedAt: z.optional(str({ max: 40 })),
  state: oneOf(RECORDING_STATES),
  spans: arr(spanSchema, { max: 10_000 }),
  segments: arr(segmentSchema, { max: 100_000 }),
  consent: arr(consentSchema, { max: 100_000 }),
  /** Capture restarts after ffmpeg failures. */
  failures: num({ integer: true, min: 0 }),
  composed: z.optional(z.strictObject({ bytes: num({ integer: true, min: 0 }), durationSec: num({ min: 0 }) })),
  /** Composition attempts so far (the job gives up after a few). */
  attempts: num({ integer: true, min: 0 }),
});

export type RecordingMeta = z.infer<typeof recordingMetaSchema>;
export type SegmentMeta = RecordingMeta['segments'][number];
export type SpanMeta = RecordingMeta['spans'][number];

/** Consented time: the sum of the closed spans. */
export function recordedMs(meta: Pick<RecordingMeta, 'spans'>): number {
  return meta.spans.reduce((sum, s) => sum + (s.endedAt !== undefined ? s.endedAt - s.startedAt : 0), 0);
}
