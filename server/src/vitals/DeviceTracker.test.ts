import { describe, expect, it } from 'vitest';
import { ErrorCode, type VitalsDeviceInfo } from '@huizhen/protocol';
import { DeviceTracker, MAX_DEVICES_PER_PARTICIPANT } from './DeviceTracker.js';

const NOW = Date.UTC(2026, 11, 2, 6, 0, 0);
const dev = (i: number): VitalsDeviceInfo => ({ id: `ble-${i}`, kind: 'bluetooth' });

describe('DeviceTracker', () => {
  it('refuses a participant a device beyond the cap with VITALS_DEVICE_LIMIT, and tracks nothing for it', () => {
    const tracker = new DeviceTracker(30_000, 3);
    for (let i = 0; i < 3; i++) expect(tracker.seen('pt-1', dev(i), NOW)).toMatchObject({ state: 'connected' });
    expect(() => tracker.seen('pt-1', dev(3), NOW)).toThrow(
      expect.objectContaining({ code: ErrorCode.VITALS_DEVICE_LIMIT }),
    );
    expect(tracker.size).toBe(3);
    // The devices already connected keep working; another participant has a cap of their own.
    expect(tracker.seen('pt-1', dev(1), NOW + 1000)).toBeUndefined();
    expect(tracker.seen('pt-2', dev(3), NOW)).toMatchObject({ state: 'connected', identity: 'pt-2' });
  });

  it('makes room again once a device times out or its participant leaves', () => {
    const tracker = new DeviceTracker(30_000, 2);
    tracker.seen('pt-1', dev(0), NOW);
    tracker.seen('pt-1', dev(1), NOW + 20_000);
    expect(() => tracker.seen('pt-1', dev(2), NOW + 20_000)).toThrow(/At most 2 vitals devices/);
    expect(tracker.sweep(NOW + 31_000).map((e) => e.device.id)).toEqual(['ble-0']);
    expect(tracker.seen('pt-1', dev(2), NOW + 31_000)).toMatchObject({ state: 'connected' });
    expect(tracker.drop('pt-1', 'left')).toHaveLength(2);
    expect(tracker.seen('pt-1', dev(3), NOW + 32_000)).toMatchObject({ state: 'connected' });
    expect(tracker.seen('pt-1', dev(4), NOW + 32_000)).toMatchObject({ state: 'connected' });
  });

  it('caps at MAX_DEVICES_PER_PARTICIPANT by default', () => {
    const tracker = new DeviceTracker(30_000);
    for (let i = 0; i < MAX_DEVICES_PER_PARTICIPANT; i++) tracker.seen('pt-1', dev(i), NOW);
    expect(() => tracker.seen('pt-1', dev(MAX_DEVICES_PER_PARTICIPANT), NOW)).toThrow(
      expect.objectContaining({ code: ErrorCode.VITALS_DEVICE_LIMIT }),
    );
  });
});
