import { describe, expect, it } from 'vitest';
import { DownSampler } from './DownSampler.js';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const sampler = () => new DownSampler({ numericIntervalMs: 1000, windowSec: 10, everySec: 300 });

/** Measurement times (ms after T0) of the readings `keepNumeric` keeps, fed in order. */
function kept(down: DownSampler, offsets: number[], who = 'pt-1', type: 'heartRate' | 'spo2' = 'heartRate'): number[] {
  return offsets.filter((ms) => down.keepNumeric(who, type, T0 + ms));
}

describe('DownSampler.keepNumeric', () => {
  it('keeps a 1 Hz device whose readings come 999 ms apart', () => {
    const offsets = Array.from({ length: 10 }, (_, i) => i * 999);
    expect(kept(sampler(), offsets)).toEqual(offsets);
  });

  it('keeps a 1 Hz series with tens of milliseconds of jitter whole', () => {
    const offsets = [0, 1030, 1985, 3010, 3960, 5000, 5990, 7040];
    expect(kept(sampler(), offsets)).toEqual(offsets);
  });

  it('thins a faster stream to one reading a second', () => {
    const offsets = Array.from({ length: 17 }, (_, i) => i * 250);
    expect(kept(sampler(), offsets)).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('never keeps two readings closer than 0.9 s', () => {
    const offsets = Array.from({ length: 40 }, (_, i) => i * 120);
    const times = kept(sampler(), offsets);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
    expect(times.length).toBeGreaterThanOrEqual(4);
  });

  it('thins each participant and type on its own', () => {
    const down = sampler();
    expect(down.keepNumeric('pt-1', 'heartRate', T0)).toBe(true);
    expect(down.keepNumeric('pt-1', 'spo2', T0 + 10)).toBe(true);
    expect(down.keepNumeric('pt-2', 'heartRate', T0 + 20)).toBe(true);
    expect(down.keepNumeric('pt-1', 'heartRate', T0 + 500)).toBe(false);
  });

  it("starts afresh with a reading from before the last kept one (a device's stored backlog)", () => {
    const down = sampler();
    expect(kept(down, [60_000, 0, 500, 1000])).toEqual([60_000, 0, 1000]);
  });
});
