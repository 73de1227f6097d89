/**
 * Whether a participant's uplink carries video, from what the SFU sees of
 * their stream (the producer's score) and what their client reports (its
 * bandwidth estimate and whether the encoder is held back by it). Pure;
 * LinkMonitor feeds the answer to the uplink's VideoGate.
 */
import type { QualityReport } from '@huizhen/protocol';
import { LOSS_POOR, RTT_POOR_MS, SCORE_POOR, VIDEO_MIN_BITRATE } from './ConnectionQuality.js';
import type { GateState } from './VideoGate.js';

/** Loss and round trip beyond which video is what hurts the link (outside a trial). */
export const FIT_MAX_LOSS = 0.15;
export const FIT_MAX_RTT_MS = 1_000;
/**
 * An estimate that grew by more than this since the previous sample is still
 * climbing. GCC raises its estimate by about 8 % a second on a clear link, so
 * over a 2 s sample a recovered link shows well above it.
 */
export const ESTIMATE_RISING = 1.05;

export interface UplinkEvidence {
  state: GateState;
  /** The producer's score while video is sent (undefined while the camera is paused for the network). */
  score: number | undefined;
  report: QualityReport | undefined;
  loss: number | undefined;
  rttMs: number | undefined;
  /** The client's estimate at the previous sample of this trial (undefined at a trial's first sample). */
  previousEstimate: number | undefined;
}

/**
 * True: video fits; false: it does not; undefined: nothing says either way
 * yet; 'climbing': not yet either, but the link is being found (a trial's
 * thin estimate still growing), so the trial should go on.
 */
export function uplinkFits(e: UplinkEvidence): boolean | 'climbing' | undefined {
  const estimate = e.report?.availableOutgoingBitrate;
  // The encoder itself says bandwidth holds it back, and the estimate is below the lowest layer's needs.
  const thin = e.report?.bandwidthLimited === true && (estimate ?? 0) < VIDEO_MIN_BITRATE;
  if (e.state !== 'trial') {
    if (e.report === undefined && e.score === undefined) return undefined;
    return !thin && fitsVideo(e.loss, e.rttMs) && (e.score === undefined || e.score > SCORE_POOR);
  }
  // During a trial (camera on again at the lowest layer): a queue or loss fails it at once.
  if ((e.loss ?? 0) > LOSS_POOR || (e.rttMs ?? 0) >= RTT_POOR_MS) return false;
  if (e.score === undefined) return undefined;
  if (e.score <= SCORE_POOR) return false;
  if (!thin) return true;
  // After minutes of audio only the client's estimate starts near the audio's bitrate and climbs
  // only while video is sent: a thin estimate that is still climbing is a link being found, not
  // one that is too narrow. It fails the trial once it stops climbing while still too thin.
  const rising =
    e.previousEstimate === undefined || (estimate !== undefined && estimate > e.previousEstimate * ESTIMATE_RISING);
  return rising ? 'climbing' : false;
}

export function fitsVideo(loss: number | undefined, rttMs: number | undefined): boolean {
  if (loss !== undefined && loss > FIT_MAX_LOSS) return false;
  if (rttMs !== undefined && rttMs > FIT_MAX_RTT_MS) return false;
  return true;
}
