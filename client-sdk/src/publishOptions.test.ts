import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@huizhen/protocol';
import { DEFAULT_MICROPHONE_BITRATE, audioCodecOptions, microphoneBitrate } from './publishOptions.js';

describe('microphone bitrate', () => {
  it('defaults to a speech rate that leaves a 64 kbit/s downlink room for signaling', () => {
    expect(microphoneBitrate(undefined)).toBe(DEFAULT_MICROPHONE_BITRATE);
    expect(audioCodecOptions()).toEqual({ opusDtx: true, opusFec: true, opusMaxAverageBitrate: 24_000 });
    expect(audioCodecOptions(microphoneBitrate(64_000)).opusMaxAverageBitrate).toBe(64_000);
  });

  it('refuses what Opus cannot do or a weak link cannot carry, with a typed error', () => {
    for (const bad of [0, 5999, 128_001, 24_000.5, Number.NaN]) {
      expect(() => microphoneBitrate(bad)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_REQUEST }));
    }
  });
});
