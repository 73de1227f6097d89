/**
 * Connection quality of one participant, from what the SFU measures and what
 * the client reports: a verdict per direction (uplink: participant → server,
 * downlink: server → participant), the worse of the two overall, and
 * hysteresis so a single bad second does not flap every tile in the room.
 *
 * Pure: samples in, verdicts out. LinkMonitor gathers the samples.
 */
import type { ConnectionQuality } from '@huizhen/protocol';

/** One measurement interval of one participant's link. Undefined: not measured this time. */
export interface LinkSample {
  /** At least one of the participant's transports has ICE connected (or completed). */
  iceConnected: boolean;
  /** Milliseconds since the server last received any media or RTCP from the participant. */
  silentForMs: number;
  /** Round trip between server and participant, ms (RTCP, or the client's candidate pair). */
  rttMs?: number;
  /** Loss of what the participant sends us (0..1). */
  uplinkLoss?: number;
  /** Loss of what we send them, as their receiver reports say (0..1). */
  downlinkLoss?: number;
  /** The server's send-side estimate towards the participant, bit/s (recv transport BWE). */
  downlinkBitrate?: number;
  /** The participant's own send-side estimate, bit/s (their browser's BWE). */
  uplinkBitrate?: number;
  /** Worst mediasoup score (0..10) of the participant's producers (their sending). */
  producerScore?: number;
  /** Worst mediasoup score (0..10) of the consumers towards the participant. */
  consumerScore?: number;
  /** Inbound jitter the client measured, ms. */
  jitterMs?: number;
  /** Video is stopped that way because the link cannot carry it: that direction is poor, whatever else says. */
  uplinkVideoBlocked?: boolean;
  downlinkVideoBlocked?: boolean;
}

export type LinkQuality = Exclude<ConnectionQuality, 'lost'>;

// --- thresholds, and why ------------------------------------------------------

/**
 * Round trip. Under 150 ms a conversation feels live (ITU-T G.114 puts the
 * comfortable one-way limit at 150 ms, and most consults are regional); above
 * 400 ms people start talking over each other.
 */
export const RTT_EXCELLENT_MS = 150;
export const RTT_POOR_MS = 400;
/**
 * Packet loss. Opus with in-band FEC hides up to about 2 % unnoticed; beyond
 * about 8 % speech breaks up audibly and video freezes between key frames.
 */
export const LOSS_EXCELLENT = 0.02;
export const LOSS_POOR = 0.08;
/**
 * Bitrate the lowest camera layer needs: the SDK's quarter-resolution layer is
 * capped at 150 kbit/s, plus ~40 kbit/s of Opus and RTP/SRTP overhead, so a link
 * estimated below 200 kbit/s cannot carry any video next to the audio.
 */
export const VIDEO_MIN_BITRATE = 200_000;
/** mediasoup scores are 0..10 (10: no loss). 4 and below means heavy loss or no stable stream. */
export const SCORE_POOR = 4;
export const SCORE_EXCELLENT = 9;
/** Jitter above 60 ms needs a deep jitter buffer: audible delay and concealment; under 30 ms it goes unnoticed. */
export const JITTER_EXCELLENT_MS = 30;
export const JITTER_POOR_MS = 60;
/**
 * No media or RTCP at all for this long means the link is gone (audio with
 * DTX still sends a packet every 400 ms, RTCP goes every second or so).
 */
export const LOST_AFTER_MS = 3_000;

/** Samples in a row a worse verdict needs before it is announced (2 × 2 s: quick to warn). */
export const WORSEN_AFTER = 2;
/** Samples in a row a better verdict needs (3 × 2 s: slow to give the all-clear). */
export const IMPROVE_AFTER = 3;

const RANK: Record<ConnectionQuality, number> = { excellent: 3, good: 2, poor: 1, lost: 0 };

export function worse(a: ConnectionQuality, b: ConnectionQuality): ConnectionQuality {
  return RANK[a] <= RANK[b] ? a : b;
}

function grade(value: number | undefined, excellentBelow: number, poorFrom: number): LinkQuality | undefined {
  if (value === undefined) return undefined;
  if (value >= poorFrom) return 'poor';
  return value < excellentBelow ? 'excellent' : 'good';
}

function gradeScore(score: number | undefined): LinkQuality | undefined {
  if (score === undefined) return undefined;
  if (score <= SCORE_POOR) return 'poor';
  return score >= SCORE_EXCELLENT ? 'excellent' : 'good';
}

function gradeBitrate(bitrate: number | undefined): LinkQuality | undefined {
  // An estimate only says "too little"; a high one does not make a lossy link good.
  if (bitrate === undefined) return undefined;
  return bitrate < VIDEO_MIN_BITRATE ? 'poor' : undefined;
}

function combine(grades: (LinkQuality | undefined)[]): LinkQuality | undefined {
  let out: LinkQuality | undefined;
  for (const g of grades) if (g) out = out ? (worse(out, g) as LinkQuality) : g;
  return out;
}

/** The instantaneous verdict for each direction (undefined: nothing measured that way). */
export function classify(sample: LinkSample): {
  quality: ConnectionQuality | undefined;
  uplink: LinkQuality | undefined;
  downlink: LinkQuality | undefined;
} {
  const rtt = grade(sample.rttMs, RTT_EXCELLENT_MS, RTT_POOR_MS);
  const uplink = combine([
    grade(sample.uplinkLoss, LOSS_EXCELLENT, LOSS_POOR),
    gradeBitrate(sample.uplinkBitrate),
    gradeScore(sample.producerScore),
    rtt,
    sample.uplinkVideoBlocked ? 'poor' : undefined,
  ]);
  const downlink = combine([
    grade(sample.downlinkLoss, LOSS_EXCELLENT, LOSS_POOR),
    gradeBitrate(sample.downlinkBitrate),
    gradeScore(sample.consumerScore),
    grade(sample.jitterMs, JITTER_EXCELLENT_MS, JITTER_POOR_MS),
    rtt,
    sample.downlinkVideoBlocked ? 'poor' : undefined,
  ]);
  if (!sample.iceConnected || sample.silentForMs >= LOST_AFTER_MS) return { quality: 'lost', uplink, downlink };
  const both = combine([uplink, downlink]);
  return { quality: both, uplink, downlink };
}

/**
 * One participant's announced quality. A change is announced once the new
 * verdict held for WORSEN_AFTER (worse) or IMPROVE_AFTER (better) samples in a
 * row; `lost` and the way back from it are announced at once, because they
 * are certain (no media at all, or media again) and a doctor must see them.
 */
export class QualityTracker {
  #announced: ConnectionQuality | undefined;
  #candidate: ConnectionQuality | undefined;
  #streak = 0;
  uplink: LinkQuality | undefined;
  downlink: LinkQuality | undefined;

  get quality(): ConnectionQuality | undefined {
    return this.#announced;
  }

  /** Takes one sample; returns the new quality when it changed, else undefined. */
  push(sample: LinkSample): ConnectionQuality | undefined {
    const verdict = classify(sample);
    const next = verdict.quality;
    if (next === undefined) return undefined;
    this.uplink = verdict.uplink;
    this.downlink = verdict.downlink;
    if (next === this.#announced) {
      this.#candidate = undefined;
      this.#streak = 0;
      return undefined;
    }
    if (next === this.#candidate) this.#streak++;
    else {
      this.#candidate = next;
      this.#streak = 1;
    }
    const current = this.#announced;
    const needed =
      next === 'lost' || current === 'lost' || current === undefined
        ? 1
        : RANK[next] < RANK[current]
          ? WORSEN_AFTER
          : IMPROVE_AFTER;
    if (this.#streak < needed) return undefined;
    this.#announced = next;
    this.#candidate = undefined;
    this.#streak = 0;
    return next;
  }
}
