/**
 * Which vitals devices each participant has connected, derived from the
 * `device` the SDK puts on every sample: a device id seen for the first
 * time is "connected"; one not heard from for `timeoutMs` (server time), or
 * whose participant left, is "disconnected". No protocol message is needed,
 * and a browser that crashes still ends up disconnected.
 *
 * Device ids come from the patient's browser, so they are bounded per
 * participant: each new id is an audit entry, and a hostile page inventing
 * ids would otherwise flood the consult's audit trail (and this map).
 */
import { ErrorCode, HuizhenError, type VitalsDeviceInfo } from '@huizhen/protocol';

/**
 * Devices one participant may have connected at once. A patient at home has
 * a handful (oximeter, heart-rate strap, cuff, thermometer, glucose meter,
 * manual entry); 8 leaves room for a swapped device while the old one times
 * out. Beyond it a new id is refused until one disconnects, so a flood adds
 * at most 8 connected entries per device timeout.
 */
export const MAX_DEVICES_PER_PARTICIPANT = 8;

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
  readonly #maxPerParticipant: number;
  /** `${identity}\n${device id}` → last heard. */
  readonly #devices = new Map<string, Seen>();
  /** identity → how many of `#devices` are theirs. */
  readonly #perIdentity = new Map<string, number>();

  constructor(timeoutMs: number, maxPerParticipant = MAX_DEVICES_PER_PARTICIPANT) {
    this.#timeoutMs = timeoutMs;
    this.#maxPerParticipant = maxPerParticipant;
  }

  get size(): number {
    return this.#devices.size;
  }

  /**
   * A sample from this device arrived now; returns a connected event when it
   * is new. Throws VITALS_DEVICE_LIMIT (and tracks nothing) when it is new and
   * the participant already has `maxPerParticipant` devices connected.
   */
  seen(identity: string, device: VitalsDeviceInfo, now: number): DeviceEvent | undefined {
    const key = `${identity}\n${device.id}`;
    const known = this.#devices.get(key);
    if (known) {
      known.lastSeen = now;
      known.device = device;
      return undefined;
    }
    const count = this.#perIdentity.get(identity) ?? 0;
    if (count >= this.#maxPerParticipant)
      throw new HuizhenError(
        ErrorCode.VITALS_DEVICE_LIMIT,
        `At most ${this.#maxPerParticipant} vitals devices can be connected at once; disconnect one first.`,
      );
    this.#devices.set(key, { identity, device, lastSeen: now });
    this.#perIdentity.set(identity, count + 1);
    return { state: 'connected', identity, device };
  }

  /** Devices silent for longer than the timeout, now disconnected. */
  sweep(now: number): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (const [key, s] of this.#devices) {
      if (now - s.lastSeen < this.#timeoutMs) continue;
      this.#forget(key, s);
      out.push({ state: 'disconnected', identity: s.identity, device: s.device, reason: 'timeout' });
    }
    return out;
  }

  /** Every device of this participant (or of everyone), disconnected now. */
  drop(identity: string | null, reason: 'left' | 'closed'): DeviceEvent[] {
    const out: DeviceEvent[] = [];
    for (const [key, s] of this.#devices) {
      if (identity !== null && s.identity !== identity) continue;
      this.#forget(key, s);
      out.push({ state: 'disconnected', identity: s.identity, device: s.device, reason });
    }
    return out;
  }

  #forget(key: string, s: Seen): void {
    this.#devices.delete(key);
    const left = (this.#perIdentity.get(s.identity) ?? 1) - 1;
    if (left > 0) this.#perIdentity.set(s.identity, left);
    else this.#perIdentity.delete(s.identity);
  }
}
