/**
 * The `recording` section of the server configuration (documented in
 * config/README.md).
 */
import { num, oneOf, str } from '@huizhen/protocol';
import * as z from 'zod/mini';

export const recordingConfigSchema = z.strictObject({
  /**
   * Whether rooms may record. On by default: the capture needs only Debian's
   * ffmpeg, and nothing is recorded unless a clinician asks and everyone
   * present consents. If ffmpeg is missing the server starts anyway, logs
   * why, and recording requests are answered RECORDING_UNAVAILABLE (a call
   * must never fail because the recorder cannot run).
   */
  enabled: z.boolean(),
  /** ffmpeg binary (ffprobe is expected beside it). */
  ffmpegPath: str({ min: 1, max: 1024 }),
  /** `nice` increment for capture and composition: the calls come first. */
  niceness: num({ integer: true, min: 0, max: 19 }),
  /** Lifetime of a download URL. */
  urlTtlSec: num({ integer: true, min: 10, max: 3600 }),
  /** `keep` recordings, or `delete` them `retentionDays` after they were made. */
  retention: oneOf(['keep', 'delete'] as const),
  retentionDays: num({ integer: true, min: 1, max: 36_500 }),
  /** Consented time after which a recording stops writing for good. */
  maxDurationSec: num({ integer: true, min: 10, max: 24 * 3600 }),
});

export type RecordingConfig = z.infer<typeof recordingConfigSchema>;
