import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { IceServerManager } from './IceServerManager.js';

const turn = (username: string) => ({
  urls: ['turn:127.0.0.1:3478?transport=udp'],
  username,
  credential: 'c-' + username,
});

describe('IceServerManager', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const make = (fetch: () => Promise<{ iceServers: ReturnType<typeof turn>[]; iceServersExpireIn?: number }>) => {
    const changes: RTCIceServer[][] = [];
    const manager = new IceServerManager({
      appServers: [{ urls: 'stun:stun.hospital.example:3478' }],
      fetch,
      onChange: (servers) => changes.push(servers),
      logger: () => createLogger('silent'),
    });
    return { manager, changes };
  };

  it("puts the app's servers first and the server's TURN after them", () => {
    const { manager, changes } = make(() => Promise.reject(new Error('unused')));
    expect(manager.servers).toEqual([{ urls: 'stun:stun.hospital.example:3478' }]);
    manager.apply({ iceServers: [turn('100:a')], iceServersExpireIn: 100 });
    expect(manager.servers).toEqual([{ urls: 'stun:stun.hospital.example:3478' }, turn('100:a')]);
    expect(changes).toHaveLength(1);
    // The same servers again are no change.
    manager.apply({ iceServers: [turn('100:a')], iceServersExpireIn: 100 });
    expect(changes).toHaveLength(1);
    // A server without TURN sends none: nothing changes.
    manager.apply({});
    expect(changes).toHaveLength(1);
    manager.stop();
  });

  it('fetches fresh credentials at ~80 % of their lifetime and hands them on', async () => {
    const fetch = vi.fn(async () => ({ iceServers: [turn('300:b')], iceServersExpireIn: 300 }));
    const { manager, changes } = make(fetch);
    manager.apply({ iceServers: [turn('100:a')], iceServersExpireIn: 100 });
    await vi.advanceTimersByTimeAsync(79_000);
    expect(fetch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(changes.at(-1)?.at(-1)).toEqual(turn('300:b'));
    // The next one is planned from the new lifetime.
    await vi.advanceTimersByTimeAsync(239_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(fetch).toHaveBeenCalledTimes(2);
    manager.stop();
  });

  it('does not spin when the credentials cannot outlive the token', async () => {
    // The server caps the expiry at the token's: a refresh brings the same end time.
    const end = Date.now() + 100_000;
    const fetch = vi.fn(async () => ({
      iceServers: [turn('end:x')],
      iceServersExpireIn: Math.round((end - Date.now()) / 1000),
    }));
    const { manager } = make(fetch);
    manager.apply({ iceServers: [turn('end:x')], iceServersExpireIn: 100 });
    await vi.advanceTimersByTimeAsync(99_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    manager.stop();
  });

  it('retries a failed refresh while the credentials last, and stops for good', async () => {
    const fetch = vi.fn(async () => {
      throw new Error('offline');
    });
    const { manager } = make(fetch);
    manager.apply({ iceServers: [turn('100:a')], iceServersExpireIn: 100 });
    await vi.advanceTimersByTimeAsync(80_500);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5_100);
    expect(fetch).toHaveBeenCalledTimes(2);
    manager.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });
});
