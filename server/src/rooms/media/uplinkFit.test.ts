import { describe, expect, it } from 'vitest';
import { SCORE_POOR, VIDEO_MIN_BITRATE } from './ConnectionQuality.js';
import { uplinkFits, type UplinkEvidence } from './uplinkFit.js';

const thinReport = (kbps: number) => ({ bandwidthLimited: true, availableOutgoingBitrate: kbps * 1000 });
const base: UplinkEvidence = {
  state: 'video',
  score: 10,
  report: undefined,
  loss: 0,
  rttMs: 40,
  previousEstimate: undefined,
};

describe('uplinkFits', () => {
  it('outside a trial: a thin, bandwidth-limited estimate, heavy loss or a poor score say video does not fit', () => {
    expect(uplinkFits(base)).toBe(true);
    expect(uplinkFits({ ...base, report: thinReport(90) })).toBe(false);
    expect(uplinkFits({ ...base, report: { bandwidthLimited: false, availableOutgoingBitrate: 90_000 } })).toBe(true);
    expect(uplinkFits({ ...base, loss: 0.3 })).toBe(false);
    expect(uplinkFits({ ...base, rttMs: 1500 })).toBe(false);
    expect(uplinkFits({ ...base, score: SCORE_POOR })).toBe(false);
    expect(uplinkFits({ ...base, score: undefined })).toBeUndefined();
  });

  it('in a trial: a queue, loss or a poor score fail it; clean video passes it', () => {
    const trial = { ...base, state: 'trial' as const };
    expect(uplinkFits(trial)).toBe(true);
    expect(uplinkFits({ ...trial, rttMs: 450 })).toBe(false);
    expect(uplinkFits({ ...trial, loss: 0.1 })).toBe(false);
    expect(uplinkFits({ ...trial, score: 3 })).toBe(false);
    expect(uplinkFits({ ...trial, score: undefined })).toBeUndefined();
  });

  it('in a trial: a thin estimate that is still climbing says so; one that stopped climbing fails it', () => {
    const trial = { ...base, state: 'trial' as const };
    // First sample of the trial: nothing to compare with yet.
    expect(uplinkFits({ ...trial, report: thinReport(60) })).toBe('climbing');
    // Climbing as GCC does on a recovered link (about 8 % a second, over 2 s).
    expect(uplinkFits({ ...trial, report: thinReport(70), previousEstimate: 60_000 })).toBe('climbing');
    // Stuck below what the lowest layer needs: the link really is that narrow.
    expect(uplinkFits({ ...trial, report: thinReport(71), previousEstimate: 70_000 })).toBe(false);
    expect(uplinkFits({ ...trial, report: thinReport(60), previousEstimate: 70_000 })).toBe(false);
    // Past what the lowest layer needs: passes even while still limited for the upper layers.
    expect(
      uplinkFits({
        ...trial,
        report: { bandwidthLimited: true, availableOutgoingBitrate: VIDEO_MIN_BITRATE + 1 },
        previousEstimate: 190_000,
      }),
    ).toBe(true);
  });
});
