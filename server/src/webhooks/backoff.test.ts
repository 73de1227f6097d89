import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, backoffDelayMs } from './backoff.js';

const options = { initialMs: 1000, maxMs: 600_000 };

describe('webhook backoff', () => {
  it('doubles from the initial wait up to the cap', () => {
    const ceilings = Array.from({ length: 13 }, (_, i) => backoffCeilingMs(i + 1, options));
    expect(ceilings).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 600_000, 600_000, 600_000,
    ]);
    expect(backoffCeilingMs(10_000, options)).toBe(600_000);
  });

  it('waits a random fraction of the ceiling (full jitter)', () => {
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(3, options, () => 0.999_999)).toBe(3999);
    expect(backoffDelayMs(50, options, () => 0.999_999)).toBe(599_999);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(5, options);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(16_000);
    }
  });
});
