import { describe, expect, it } from 'vitest';
import type { CameraCheck, MediaCheck, MicrophoneCheck, SignalingCheck } from './types.js';
import { ADVICE, decideVerdict } from './verdict.js';

const camera: CameraCheck = { status: 'ok', message: '' };
const microphone: MicrophoneCheck = { status: 'ok', peakDb: -12, message: '' };
const signaling: SignalingCheck = { status: 'ok', rttMs: 20, message: '' };
const media = (m: Partial<MediaCheck>): MediaCheck => ({
  status: 'ok',
  candidateType: 'host',
  protocol: 'udp',
  rttMs: 40,
  jitterMs: 5,
  packetLossPercent: 0,
  bitrateKbps: 800,
  message: '',
  ...m,
});
const verdictOf = (m: Partial<MediaCheck>, extra: object = {}) =>
  decideVerdict({ camera, microphone, signaling, media: media(m), ...extra });

describe('preflight verdict', () => {
  it('is excellent on a clean, fast path', () => {
    expect(verdictOf({})).toEqual({ verdict: 'excellent', advice: [ADVICE.excellent] });
  });

  it('grades each measurement at its documented thresholds', () => {
    expect(verdictOf({ rttMs: 150 }).verdict).toBe('excellent');
    expect(verdictOf({ rttMs: 151 }).verdict).toBe('good');
    expect(verdictOf({ rttMs: 301 })).toEqual({ verdict: 'poor', advice: [ADVICE.slow] });
    expect(verdictOf({ packetLossPercent: 2 }).verdict).toBe('good');
    expect(verdictOf({ packetLossPercent: 5 })).toEqual({ verdict: 'poor', advice: [ADVICE.lossy] });
    expect(verdictOf({ jitterMs: 80 }).verdict).toBe('poor');
    expect(verdictOf({ bitrateKbps: 200 }).verdict).toBe('good');
    expect(verdictOf({ bitrateKbps: 90 })).toEqual({ verdict: 'poor', advice: [ADVICE.weak] });
  });

  it('takes the better of the bitrate that came back and the path estimate', () => {
    // A still picture needs little, but the path was shown to carry plenty.
    expect(verdictOf({ bitrateKbps: 190, availableBitrateKbps: 1200 }).verdict).toBe('excellent');
    // A weak link pulls both down.
    expect(verdictOf({ bitrateKbps: 60, availableBitrateKbps: 80 }).verdict).toBe('poor');
  });

  it('caps ICE over TCP at good and says why', () => {
    expect(verdictOf({ protocol: 'tcp' })).toEqual({ verdict: 'good', advice: [ADVICE.tcp] });
  });

  it('fails without a microphone, but only lowers to poor without a camera', () => {
    expect(
      decideVerdict({ camera, microphone: { status: 'denied', message: '' }, signaling, media: media({}) }),
    ).toEqual({
      verdict: 'failed',
      advice: [ADVICE.micDenied],
    });
    expect(
      decideVerdict({ camera: { status: 'notFound', message: '' }, microphone, signaling, media: media({}) }),
    ).toEqual({ verdict: 'poor', advice: [ADVICE.cameraMissing] });
    expect(
      decideVerdict({ camera, microphone: { status: 'silent', message: '' }, signaling, media: media({}) }).verdict,
    ).toBe('poor');
  });

  it('fails with the failure advice first when the media path is blocked', () => {
    const result = decideVerdict({
      camera,
      microphone,
      signaling,
      media: { status: 'failed', message: '' },
      failureAdvice: ADVICE.mediaBlocked,
    });
    expect(result).toEqual({ verdict: 'failed', advice: [ADVICE.mediaBlocked] });
  });
});
