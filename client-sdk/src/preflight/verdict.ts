/**
 * From measurements to a verdict and advice in plain words. The thresholds,
 * and why:
 *
 * - Round trip (RTT): excellent ≤ 150 ms, good ≤ 300 ms. ITU-T G.114 puts
 *   one-way delay under 150 ms as transparent for conversation; 300 ms round
 *   trip is 150 ms each way. Beyond it, doctor and patient talk over each other.
 * - Packet loss: excellent ≤ 1 %, good ≤ 3 %. NACK/RTX retransmission and
 *   Opus in-band FEC repair about 1–2 % without anything visible or audible;
 *   above ~3 % video freezes and speech starts to break up.
 * - Jitter: excellent ≤ 20 ms, good ≤ 50 ms. WebRTC's jitter buffer absorbs
 *   this much without adding noticeable delay; more means added delay and
 *   concealed (robotic) audio.
 * - Bitrate: excellent ≥ 500 kbit/s (a clear 640×360 camera picture with
 *   sound), good ≥ 150 kbit/s (Huizhen's lowest simulcast layer, ~100 kbit/s,
 *   plus Opus at ~40 kbit/s). Below that a visit is sound-only in practice.
 *   Judged on the better of what came back through the server and the
 *   browser's own estimate of the path (congestion control): the first is
 *   bounded by what the encoder chose to send for this picture, the second
 *   by the network; a weak link pulls both down.
 * - ICE over TCP (UDP blocked): at most `good`. TCP retransmits lost packets
 *   in order, so one loss stalls everything behind it; video lags on it.
 * - Microphone: a visit without sound is impossible, so no usable microphone
 *   is `failed`; a camera problem is at most `poor` (the visit can go on with
 *   sound only). A microphone that gives only silence (below -60 dBFS, about
 *   the noise floor of a quiet room on a real microphone) is at most `poor`.
 */
import type { CameraCheck, MediaCheck, MicrophoneCheck, PreflightVerdict, SignalingCheck } from './types.js';

/** The limits of each verdict (exported as `PREFLIGHT_THRESHOLDS`); the reasons are in this file's header. */
export const THRESHOLDS = {
  /** Round trip, ms: at most this for each verdict. */
  rttMs: {
    /** Excellent at or below. */
    excellent: 150,
    /** Good at or below. */
    good: 300,
  },
  /** Packet loss, percent: at most this for each verdict. */
  lossPercent: {
    /** Excellent at or below. */
    excellent: 1,
    /** Good at or below. */
    good: 3,
  },
  /** Jitter, ms: at most this for each verdict. */
  jitterMs: {
    /** Excellent at or below. */
    excellent: 20,
    /** Good at or below. */
    good: 50,
  },
  /** Bitrate, kbit/s: at least this for each verdict. */
  bitrateKbps: {
    /** Excellent at or above. */
    excellent: 500,
    /** Good at or above. */
    good: 150,
  },
  /** Peak level below this counts as silence. */
  silenceDb: -60,
} as const;

const RANK: Record<PreflightVerdict, number> = { failed: 0, poor: 1, good: 2, excellent: 3 };
const worst = (...verdicts: PreflightVerdict[]): PreflightVerdict =>
  verdicts.reduce((a, b) => (RANK[b] < RANK[a] ? b : a), 'excellent');

/** Lower is better: at most `excellent`, at most `good`, otherwise `poor`. */
function grade(value: number | undefined, limits: { excellent: number; good: number }): PreflightVerdict {
  if (value === undefined) return 'excellent';
  if (value <= limits.excellent) return 'excellent';
  if (value <= limits.good) return 'good';
  return 'poor';
}

/** Higher is better. */
function gradeUp(value: number | undefined, limits: { excellent: number; good: number }): PreflightVerdict {
  if (value === undefined) return 'excellent';
  if (value >= limits.excellent) return 'excellent';
  if (value >= limits.good) return 'good';
  return 'poor';
}

export const ADVICE = {
  excellent: 'Everything works well. You are ready for your visit.',
  good: 'Your connection is good enough for a video visit.',
  weak: 'Your connection is weak, so the picture may be blurry or freeze. Move closer to your Wi-Fi router, or switch off other downloads and video streaming on your network.',
  lossy:
    'Your connection is losing data. Move closer to your Wi-Fi router, or switch off other downloads and video streaming on your network.',
  slow: 'Your connection is slow to respond, so there may be a delay when you talk. If you can, move closer to your Wi-Fi router or use a cable.',
  tcp: 'Your network blocks the fastest way to send video, so a slower one is used. If the picture lags, try another network, for example your phone’s mobile data.',
  mediaBlocked:
    'Your network blocks the video connection to the clinic. Try another network (for example your phone’s mobile data), or ask the clinic for help.',
  noRelay: 'A relayed connection was asked for, but the clinic’s server offers no relay. Ask the clinic for help.',
  noMedia:
    'The connection to the clinic was made, but no video came back. Try again; if it keeps happening, try another network.',
  serverUnreachable: 'We could not reach the clinic’s server. Check that you are online, then try again.',
  tokenRejected: 'Your invitation link is not valid any more. Ask the clinic for a new link.',
  rateLimited: 'You have run the check several times in a row. Please wait a minute, then try again.',
  cameraDenied:
    'Your browser is not allowed to use the camera. Click the camera icon in the address bar, choose Allow, and run the check again.',
  cameraMissing: 'We could not find a camera. Connect one, or you can still join with sound only.',
  cameraInUse:
    'Your camera is being used by another app (for example another video call). Close that app and run the check again.',
  cameraNoPicture: 'Your camera sends no picture. Check that it is not covered or switched off.',
  micDenied:
    'Your browser is not allowed to use the microphone. Click the microphone icon in the address bar, choose Allow, and run the check again.',
  micMissing: 'We could not find a microphone. Connect a headset or microphone; the doctor needs to hear you.',
  micInUse: 'Your microphone is being used by another app. Close that app and run the check again.',
  micSilent:
    'We could not hear anything from your microphone. Check that it is not muted, speak, and run the check again.',
  deviceError: 'Your camera or microphone did not start. Restart your browser and run the check again.',
  unsupported: 'This browser cannot make video calls. Please use a current Chrome, Edge, Firefox or Safari.',
} as const;

export interface VerdictInput {
  camera: CameraCheck;
  microphone: MicrophoneCheck;
  signaling: SignalingCheck;
  media: MediaCheck;
  /** Advice already decided by a failure (token, rate limit, blocked media, ...). */
  failureAdvice?: string;
}

/** The verdict and what to tell the patient, most important first. */
export function decideVerdict(input: VerdictInput): { verdict: PreflightVerdict; advice: string[] } {
  const { camera, microphone, signaling, media } = input;
  const advice: string[] = [];
  let verdict: PreflightVerdict = 'excellent';
  const lower = (v: PreflightVerdict, line?: string) => {
    verdict = worst(verdict, v);
    if (line && !advice.includes(line)) advice.push(line);
  };

  if (input.failureAdvice) lower('failed', input.failureAdvice);
  if (signaling.status === 'failed') lower('failed', ADVICE.serverUnreachable);
  if (media.status === 'failed') lower('failed', input.failureAdvice ? undefined : ADVICE.mediaBlocked);

  switch (microphone.status) {
    case 'denied':
      lower('failed', ADVICE.micDenied);
      break;
    case 'notFound':
      lower('failed', ADVICE.micMissing);
      break;
    case 'inUse':
      lower('failed', ADVICE.micInUse);
      break;
    case 'error':
    case 'noSignal':
      lower('failed', ADVICE.deviceError);
      break;
    case 'silent':
      lower('poor', ADVICE.micSilent);
      break;
    default:
  }
  switch (camera.status) {
    case 'denied':
      lower('poor', ADVICE.cameraDenied);
      break;
    case 'notFound':
      lower('poor', ADVICE.cameraMissing);
      break;
    case 'inUse':
      lower('poor', ADVICE.cameraInUse);
      break;
    case 'noSignal':
      lower('poor', ADVICE.cameraNoPicture);
      break;
    case 'error':
      lower('poor', ADVICE.deviceError);
      break;
    default:
  }

  if (media.status === 'ok') {
    const loss = grade(media.packetLossPercent, THRESHOLDS.lossPercent);
    const rtt = grade(media.rttMs, THRESHOLDS.rttMs);
    const jitter = grade(media.jitterMs, THRESHOLDS.jitterMs);
    const measured = [media.bitrateKbps, media.availableBitrateKbps].filter((v): v is number => v !== undefined);
    const bitrate = gradeUp(measured.length ? Math.max(...measured) : undefined, THRESHOLDS.bitrateKbps);
    lower(bitrate, bitrate === 'poor' ? ADVICE.weak : undefined);
    lower(loss, loss === 'poor' ? ADVICE.lossy : undefined);
    lower(rtt, rtt === 'poor' ? ADVICE.slow : undefined);
    lower(jitter, jitter === 'poor' ? ADVICE.slow : undefined);
    if (media.protocol === 'tcp') lower('good', ADVICE.tcp);
  }

  if (advice.length === 0) advice.push(verdict === 'excellent' ? ADVICE.excellent : ADVICE.good);
  return { verdict, advice };
}
