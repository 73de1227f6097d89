import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { TokenRefresher } from './TokenRefresher.js';

describe('TokenRefresher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setUp(send: (token: string) => Promise<number>) {
    let n = 0;
    const provider = vi.fn(async () => `token-${++n}`);
    const refreshed: [string, number][] = [];
    const refresher = new TokenRefresher({
      provider,
      send: vi.fn(send),
      onRefreshed: (token, expiresIn) => refreshed.push([token, expiresIn]),
      logger: () => createLogger(),
    });
    return { refresher, provider, refreshed };
  }

  it('refreshes at 80 % of the lifetime, then again for the new token', async () => {
    const { refresher, provider, refreshed } = setUp(async () => 300);
    refresher.schedule(600);
    await vi.advanceTimersByTimeAsync(479_000);
    expect(provider).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(provider).toHaveBeenCalledTimes(1);
    expect(refreshed).toEqual([['token-1', 300]]);
    // The new token lives 300 s: next refresh 240 s later.
    await vi.advanceTimersByTimeAsync(239_000);
    expect(provider).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(refreshed).toEqual([
      ['token-1', 300],
      ['token-2', 300],
    ]);
    refresher.stop();
  });

  it('retries a failed refresh while the old token lasts, then stops', async () => {
    let fail = true;
    const { refresher, provider, refreshed } = setUp(async () => {
      if (fail) throw new Error('auth backend down');
      return 600;
    });
    refresher.schedule(100);
    await vi.advanceTimersByTimeAsync(80_000);
    expect(provider).toHaveBeenCalledTimes(1);
    // 20 s left: retry halfway through them.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(provider).toHaveBeenCalledTimes(2);
    fail = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(provider).toHaveBeenCalledTimes(3);
    expect(refreshed).toEqual([['token-3', 600]]);
    refresher.stop();
  });

  it('does nothing while paused or after stop', async () => {
    const { refresher, provider } = setUp(async () => 600);
    refresher.schedule(10);
    refresher.pause();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(provider).not.toHaveBeenCalled();
    refresher.schedule(10);
    refresher.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(provider).not.toHaveBeenCalled();
  });
});
