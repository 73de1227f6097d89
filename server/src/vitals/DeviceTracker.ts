/**
 * Which vitals devices each participant has connected, derived from the
 * `device` the SDK puts on every sample: a device id seen for the first
 * time is "connected"; one not heard from for `timeoutMs` (server time), or
 * whose participant left, is "disconnected". No protocol message is needed,
 * and a browser that crashes still ends up disconnected.
 */
import type { VitalsDeviceInfo } from '@huizhen/protocol';

export interface DeviceEvent {
  state: 'connected' | 'disconnected';
  identity: string;
  device: VitalsDeviceInfo;
  reason?: 'timeout' | 'left' | 'closed';
}

interface Seen {
  identity: string;
  device: VitalsDeviceInfo;
  lastSeen: number;
}

export class DeviceTracker {
  readonly #timeoutMs: number;
  /** `${identity}\n${device id}` → last heard. */
  readonly #devices = new Map<string, Seen>();

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#devices.size;
  }

  /** A sample from this device arrived now; returns a connected event when it is new. */
  seen(identity: string, device: VitalsDeviceInfo, now: number): DeviceEvent | undefined {
    const key = `${identity}\n${device.id}`;
    const known = this.#devices.get(key);
    if (known) {
      known.lastSeen = now;
      known.device = device;
      return undefined;
    }
    this.#devices.set(key, { identity, device, lastSeen: now });
    return { state: 'connected', identity, device };
  }

  /** Devices silent for longer than the timeout, now disconnected. */
  sweep(now: number): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (const [key, s] of this.#devices) {
      if (now - s.lastSeen < this.#timeoutMs) continue;
      this.#devices.delete(key);
      out.push({ state: 'disconnected', identity: s.identity, device: s.device, reason: 'timeout' });
    }
    return out;
  }

  /** Every device of this participant (or of everyone), disconnected now. */
  drop(identity: string | null, reason: 'left' | 'closed'): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (const [key, s] of this.#devices) {
      if (identity !== null && s.identity !== identity) continue;
      this.#devices.delete(key);
      out.push({ state: 'disconnected', identity: s.identity, device: s.device, reason });
    }
    return out;
  }
}
