import { describe, expect, it } from 'vitest';
import { DefaultReconnectPolicy, noReconnect, type ReconnectContext } from './ReconnectPolicy.js';

const at = (retryCount: number, elapsedMs: number): ReconnectContext => ({
  retryCount,
  elapsedMs,
  closeCode: 1006,
  closeReason: '',
});

describe('DefaultReconnectPolicy', () => {
  it('backs off 0.3 s, 1 s, 2 s, 4 s, then keeps 4 s', () => {
    const policy = new DefaultReconnectPolicy({ jitter: 0 });
    expect([0, 1, 2, 3, 4, 5].map((n) => policy.nextRetryDelayMs(at(n, 0)))).toEqual([
      300, 1000, 2000, 4000, 4000, 4000,
    ]);
  });

  it('spreads each delay by the jitter, both ways', () => {
    const low = new DefaultReconnectPolicy({ random: () => 0 });
    const high = new DefaultReconnectPolicy({ random: () => 0.999999 });
    expect(low.nextRetryDelayMs(at(1, 0))).toBe(700);
    expect(high.nextRetryDelayMs(at(1, 0))).toBe(1300);
  });

  it('gives up when the next attempt would start after the grace period', () => {
    const policy = new DefaultReconnectPolicy({ jitter: 0 });
    expect(policy.nextRetryDelayMs(at(5, 15_999))).toBe(4000);
    expect(policy.nextRetryDelayMs(at(5, 16_001))).toBeNull();
    expect(new DefaultReconnectPolicy({ jitter: 0, maxElapsedMs: 1000 }).nextRetryDelayMs(at(1, 100))).toBeNull();
  });

  it('refuses an empty delay list', () => {
    expect(() => new DefaultReconnectPolicy({ delaysMs: [] })).toThrow(RangeError);
  });

  it('noReconnect never retries', () => {
    expect(noReconnect.nextRetryDelayMs(at(0, 0))).toBeNull();
  });
});
