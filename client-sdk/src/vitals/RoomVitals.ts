/**
 * `room.vitals`: a patient's wearable readings in the consult.
 *
 * Sending: `connect(device)` starts a VitalsDevice (Bluetooth, simulated,
 * manual entry) and publishes what it reads; `publish(sample)` sends one
 * sample by hand. Samples are checked against the protocol schema, batched
 * (VitalsOutbox: ≤ 4 messages/s) and sent on the data channel, topic
 * `vitals`, reliably.
 *
 * Receiving (clinicians): each inbound `vitals` message is parsed with the
 * protocol schema (a bad one is counted and logged without its contents, never
 * shown), kept per participant (`latest`, `history` for trend charts) and
 * emitted as `vitalsReceived(sample, participant)`. Server alerts arrive as
 * `vitalsAlert`.
 *
 * The data channel itself is `room.data`; this class needs only the small
 * VitalsDataChannel interface, and Room hands it inbound messages of the
 * `vitals` topic through `handleData`, and `vitalsAlert` notifications through
 * `handleAlert`.
 */
import {
  type HuizhenError,
  VITALS_TOPIC,
  VitalsError,
  parseVitalsMessage,
  parseVitalsSample,
  vitalsTimeMs,
  type NotificationData,
  type VitalType,
  type VitalsSample,
} from '@huizhen/protocol';
import { errorFields, type Logger } from '../logger.js';
import type { VitalsDevice, VitalsDeviceError } from './VitalsDevice.js';
import { VitalsOutbox, type VitalsOutboxStats } from './VitalsOutbox.js';

/** What RoomVitals needs of `room.data`. */
export interface VitalsDataChannel {
  /** Publishes one message on `topic`. */
  publish(topic: string, payload: string | Uint8Array, options: { reliable: boolean }): Promise<void>;
}

/** What the vitals need to know of a participant. */
export interface VitalsParticipant {
  /** The participant's identity. */
  readonly identity: string;
}

/**
 * A server alert about a participant's vitals (`vitalsAlert` notification):
 * raised once per episode when a configured threshold is crossed for long
 * enough, cleared when the reading is back in range.
 */
/** A vitals alert as the server sends it (validated by the SignalClient against the protocol). */
export type VitalsAlert = NotificationData['vitalsAlert'];

/** The room events RoomVitals emits (added to RoomEventCallbacks). */
export interface RoomVitalsEvents<P extends VitalsParticipant = VitalsParticipant> {
  /** A remote participant's sample, validated. args: (sample, participant) */
  vitalsReceived: (sample: VitalsSample, participant: P) => void;
  /** A server vitals alert for `participant` (undefined if they already left). */
  vitalsAlert: (alert: VitalsAlert, participant: P | undefined) => void;
  /** A connected device stopped: `error` null after `disconnect()`, else why it was lost. */
  vitalsDeviceDisconnected: (device: VitalsDevice, error: VitalsDeviceError | null) => void;
  /** Sending failed; `dropped` samples were given up (0: they will be retried). */
  vitalsPublishFailed: (error: HuizhenError, dropped: number) => void;
}

/** How a Room wires its `RoomVitals` (the SDK does this; apps use `room.vitals`). */
export interface RoomVitalsOptions<P extends VitalsParticipant> {
  /** The room's data channel (throws HuizhenError when not connected). */
  data: () => VitalsDataChannel;
  /** This client's identity. */
  localIdentity: () => string;
  /** The remote participant of an identity, if known. */
  participant: (identity: string) => P | undefined;
  /** Emits a vitals room event. */
  emit: <E extends keyof RoomVitalsEvents<P>>(event: E, ...args: Parameters<RoomVitalsEvents<P>[E]>) => void;
  /** The room's logger. */
  logger: () => Logger;
  /** Per participant and type, samples kept for `history` (default 300: five minutes at 1 Hz). */
  historySize?: number;
  /** Outbound messages per second at most (the server's data rate limit). */
  maxMessagesPerSec?: number;
  /** Largest outbound message, bytes. */
  maxMessageBytes?: number;
}

/** Counts of what `room.vitals` sent and received. */
export interface RoomVitalsStats extends VitalsOutboxStats {
  /** Inbound messages accepted. */
  received: number;
  /** Inbound messages refused by the schema. */
  refused: number;
}

type PerType = Map<VitalType, VitalsSample[]>;

/** Wearable vitals in a room (`room.vitals`): connect a device and publish its readings (patients), live readings, history and alerts (clinicians). */
export class RoomVitals<P extends VitalsParticipant = VitalsParticipant> {
  readonly #o: RoomVitalsOptions<P>;
  readonly #history = new Map<string, PerType>();
  readonly #alerts = new Map<string, Map<string, VitalsAlert>>();
  readonly #devices = new Map<
    VitalsDevice,
    { onSample: (s: VitalsSample) => void; onGone: (error: VitalsDeviceError | null) => void }
  >();
  readonly #historySize: number;
  #outbox: VitalsOutbox;
  #received = 0;
  #refused = 0;

  constructor(options: RoomVitalsOptions<P>) {
    this.#o = options;
    this.#historySize = options.historySize ?? 300;
    this.#outbox = this.#newOutbox();
  }

  #newOutbox(): VitalsOutbox {
    return new VitalsOutbox({
      send: (text) => this.#o.data().publish(VITALS_TOPIC, text, { reliable: true }),
      onError: (error, dropped) => {
        this.#o.logger().warn('vitals not sent', { ...errorFields(error), dropped });
        this.#o.emit('vitalsPublishFailed', error, dropped);
      },
      ...(this.#o.maxMessagesPerSec !== undefined && { maxMessagesPerSec: this.#o.maxMessagesPerSec }),
      ...(this.#o.maxMessageBytes !== undefined && { maxMessageBytes: this.#o.maxMessageBytes }),
    });
  }

  // --- sending

  /**
   * Publishes what `device` reads until it stops or `disconnect(device)`;
   * starts it if it is not running (Bluetooth: call from a user gesture, the
   * chooser opens). Rejects with the device's error if it cannot start.
   */
  async connect(device: VitalsDevice): Promise<void> {
    if (this.#devices.has(device)) return;
    const onSample = (sample: VitalsSample): void => this.#enqueue(sample);
    const onGone = (error: VitalsDeviceError | null): void => {
      this.#detach(device);
      this.#o.emit('vitalsDeviceDisconnected', device, error);
    };
    this.#devices.set(device, { onSample, onGone });
    device.on('sample', onSample);
    device.on('disconnected', onGone);
    if (device.state === 'idle' || device.state === 'stopped') {
      try {
        await device.start();
      } catch (err) {
        this.#detach(device);
        throw err;
      }
    }
  }

  /** Stops publishing from `device` (or from every device) and stops it. */
  async disconnect(device?: VitalsDevice): Promise<void> {
    const devices = device ? [device] : [...this.#devices.keys()];
    await Promise.all(devices.map((d) => (this.#devices.has(d) ? d.stop() : Promise.resolve())));
  }

  /** The devices currently publishing. */
  get devices(): readonly VitalsDevice[] {
    return [...this.#devices.keys()];
  }

  /**
   * Sends one sample (checked first: throws VitalsError, synchronously, when
   * the protocol refuses it). It goes out with the next batch, within 250 ms.
   */
  publish(sample: VitalsSample): void {
    this.#enqueue(parseVitalsSample(sample));
  }

  #enqueue(sample: VitalsSample): void {
    this.#remember(this.#o.localIdentity(), sample);
    this.#outbox.push(sample);
  }

  #detach(device: VitalsDevice): void {
    const handlers = this.#devices.get(device);
    if (!handlers) return;
    device.off('sample', handlers.onSample);
    device.off('disconnected', handlers.onGone);
    this.#devices.delete(device);
  }

  // --- reading

  /** The newest sample of each type from `identity` (this participant's own too). */
  latest(identity: string): Partial<Record<VitalType, VitalsSample>> {
    const out: Partial<Record<VitalType, VitalsSample>> = {};
    for (const [type, list] of this.#history.get(identity) ?? []) {
      const last = list[list.length - 1];
      if (last) out[type] = last;
    }
    return out;
  }

  /** Recent samples of one type from `identity`, oldest first (for trend charts). */
  history(identity: string, type: VitalType): readonly VitalsSample[] {
    return this.#history.get(identity)?.get(type) ?? [];
  }

  /** Identities with vitals seen in this session. */
  get identities(): string[] {
    return [...this.#history.keys()];
  }

  /** Alerts currently raised, for one participant or everyone. */
  alerts(identity?: string): VitalsAlert[] {
    const maps = identity ? [this.#alerts.get(identity)] : [...this.#alerts.values()];
    return maps.flatMap((m) => (m ? [...m.values()] : []));
  }

  /** Counts of what was sent, queued, dropped, received and refused. */
  get stats(): RoomVitalsStats {
    return { ...this.#outbox.stats, received: this.#received, refused: this.#refused };
  }

  /** Room wiring: a data message on topic `vitals` from `participant`. */
  handleData(payload: string | Uint8Array, participant: P): void {
    let samples: VitalsSample[];
    try {
      ({ samples } = parseVitalsMessage(payload));
    } catch (err) {
      if (!(err instanceof VitalsError)) throw err;
      this.#refused++;
      // The error names the field and rule only: no clinical values in logs.
      this.#o.logger().warn('vitals message refused', { from: participant.identity, ...errorFields(err) });
      return;
    }
    for (const sample of samples) {
      this.#received++;
      this.#remember(participant.identity, sample);
      this.#o.emit('vitalsReceived', sample, participant);
    }
  }

  /** Room wiring: a `vitalsAlert` notification. */
  handleAlert(alert: VitalsAlert): void {
    const key = `${alert.type}/${alert.component ?? ''}/${alert.direction}`;
    let map = this.#alerts.get(alert.identity);
    if (alert.state === 'raised') {
      if (!map) this.#alerts.set(alert.identity, (map = new Map()));
      map.set(key, alert);
    } else {
      map?.delete(key);
    }
    this.#o.emit('vitalsAlert', alert, this.#o.participant(alert.identity));
  }

  /** Room wiring: a participant left; their readings stay for the consult's view until reset. */
  forget(identity: string): void {
    this.#history.delete(identity);
    this.#alerts.delete(identity);
  }

  /** Room wiring: the room disconnected for good. Stops devices and drops queued samples. */
  reset(): void {
    void this.disconnect().catch((err: unknown) =>
      this.#o.logger().warn('stopping a vitals device failed', errorFields(err)),
    );
    this.#outbox.close();
    this.#outbox = this.#newOutbox();
    this.#history.clear();
    this.#alerts.clear();
  }

  #remember(identity: string, sample: VitalsSample): void {
    let perType = this.#history.get(identity);
    if (!perType) this.#history.set(identity, (perType = new Map()));
    let list = perType.get(sample.type);
    if (!list) perType.set(sample.type, (list = []));
    // Keep measurement-time order: a spot-check reading can arrive after newer continuous ones.
    const at = vitalsTimeMs(sample.at);
    let i = list.length;
    while (i > 0 && vitalsTimeMs(list[i - 1]!.at) > at) i--;
    list.splice(i, 0, sample);
    if (list.length > this.#historySize) list.splice(0, list.length - this.#historySize);
  }
}
