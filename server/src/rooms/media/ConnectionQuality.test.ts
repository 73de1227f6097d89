import { describe, expect, it } from 'vitest';
import {
  IMPROVE_AFTER,
  LOST_AFTER_MS,
  QualityTracker,
  WORSEN_AFTER,
  classify,
  type LinkSample,
} from './ConnectionQuality.js';

const clean: LinkSample = {
  iceConnected: true,
  silentForMs: 0,
  rttMs: 40,
  uplinkLoss: 0,
  downlinkLoss: 0,
  downlinkBitrate: 2_000_000,
  producerScore: 10,
  consumerScore: 10,
};
/** What the SFU saw of a patient behind a 96 kbit/s link with video on. */
const weak: LinkSample = { ...clean, rttMs: 900, downlinkLoss: 0.12, downlinkBitrate: 85_000, consumerScore: 3 };

describe('classify', () => {
  it('grades a clean link excellent', () => {
    expect(classify(clean)).toEqual({ quality: 'excellent', uplink: 'excellent', downlink: 'excellent' });
  });

  it('grades a middling round trip good, and each direction by its own measurements', () => {
    expect(classify({ ...clean, rttMs: 250 }).quality).toBe('good');
    const upLossy = classify({ ...clean, uplinkLoss: 0.1 });
    expect(upLossy).toMatchObject({ quality: 'poor', uplink: 'poor', downlink: 'excellent' });
  });

  it('calls a downlink too thin for the lowest video layer poor, even without loss', () => {
    expect(classify({ ...clean, downlinkBitrate: 120_000 })).toMatchObject({ quality: 'poor', downlink: 'poor' });
    // A high estimate alone does not make a lossy link good.
    expect(classify({ ...clean, downlinkBitrate: 50_000_000, downlinkLoss: 0.05 }).downlink).toBe('good');
  });

  it('counts a direction whose video is stopped for the network as poor', () => {
    expect(classify({ ...clean, uplinkVideoBlocked: true })).toMatchObject({ quality: 'poor', uplink: 'poor' });
  });

  it('is lost when ICE is down or nothing arrived for a while', () => {
    expect(classify({ ...clean, iceConnected: false }).quality).toBe('lost');
    expect(classify({ ...clean, silentForMs: LOST_AFTER_MS }).quality).toBe('lost');
    expect(classify({ ...clean, silentForMs: LOST_AFTER_MS - 1 }).quality).toBe('excellent');
  });

  it('says nothing when nothing was measured', () => {
    expect(classify({ iceConnected: true, silentForMs: 0 }).quality).toBeUndefined();
  });
});

describe('QualityTracker hysteresis', () => {
  it('announces the first verdict at once, then only changes that hold', () => {
    const t = new QualityTracker();
    expect(t.push(clean)).toBe('excellent');
    expect(t.push(clean)).toBeUndefined();
    // One bad sample is not enough to worsen...
    for (let i = 1; i < WORSEN_AFTER; i++) expect(t.push(weak)).toBeUndefined();
    expect(t.push(weak)).toBe('poor');
    expect(t.quality).toBe('poor');
    // ...and getting better takes longer than getting worse.
    for (let i = 1; i < IMPROVE_AFTER; i++) expect(t.push(clean)).toBeUndefined();
    expect(t.push(clean)).toBe('excellent');
  });

  it('does not flap on a link that alternates', () => {
    const t = new QualityTracker();
    t.push(clean);
    const announced = [];
    for (let i = 0; i < 20; i++) announced.push(t.push(i % 2 ? clean : weak));
    expect(announced.filter(Boolean)).toEqual([]);
    expect(t.quality).toBe('excellent');
  });

  it('announces lost and the way back at once', () => {
    const t = new QualityTracker();
    t.push(weak);
    expect(t.quality).toBe('poor');
    expect(t.push({ ...weak, iceConnected: false })).toBe('lost');
    expect(t.push(weak)).toBe('poor');
  });

  it('restarts the count when the candidate changes', () => {
    const t = new QualityTracker();
    t.push(clean);
    expect(t.push({ ...clean, rttMs: 250 })).toBeUndefined(); // good, 1 of 2
    expect(t.push(weak)).toBeUndefined(); // poor, 1 of 2
    expect(t.push(weak)).toBe('poor');
  });
});
