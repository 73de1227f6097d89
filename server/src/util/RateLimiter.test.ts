import { describe, expect, it } from 'vitest';
import { RateLimiter } from './RateLimiter.js';

describe('RateLimiter', () => {
  it('allows a burst, then refuses until tokens refill', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    now += 100; // one token at 10/s
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
  });

  it('never stores more than the burst', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 3, () => now);
    now += 60_000;
    let allowed = 0;
    while (limiter.take()) allowed++;
    expect(allowed).toBe(3);
  });
});
