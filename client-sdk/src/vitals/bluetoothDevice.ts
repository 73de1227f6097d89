/**
 * `bluetoothVitalsDevice()`: reads a Bluetooth LE health sensor through Web
 * Bluetooth (Chromium browsers; no native install). It asks for any of the
 * SIG health services Huizhen understands, subscribes to their measurement
 * characteristics (notifications or indications; the browser picks what the
 * characteristic supports), parses each value (gatt/*), and emits checked
 * samples. A dropped link is retried a few times before `disconnected`.
 */
import { VitalsError, type VitalsDeviceInfo, type VitalsSample } from '@huizhen/protocol';
import { bloodPressureSamples, parseBloodPressureMeasurement } from './gatt/bloodPressure.js';
import { GattParseError } from './gatt/GattReader.js';
import { heartRateSamples, parseHeartRateMeasurement } from './gatt/heartRate.js';
import { parsePlxContinuous, parsePlxSpotCheck, plxContinuousSamples, plxSpotCheckSamples } from './gatt/plx.js';
import { parseTemperatureMeasurement, temperatureSamples } from './gatt/thermometer.js';
import { VitalsDeviceBase, VitalsDeviceError } from './VitalsDevice.js';
import {
  browserBluetooth,
  type Bluetooth,
  type BluetoothDevice,
  type BluetoothRemoteGATTCharacteristic,
  type BluetoothRemoteGATTServer,
} from './webBluetooth.js';

/** The Bluetooth GATT services Huizhen reads. */
export type VitalsGattService = 'heartRate' | 'pulseOximeter' | 'bloodPressure' | 'thermometer';

/** The SIG 16-bit UUIDs of the services Huizhen reads. */
export const VITALS_GATT_SERVICES: Record<VitalsGattService, number> = {
  heartRate: 0x180d,
  pulseOximeter: 0x1822,
  bloodPressure: 0x1810,
  thermometer: 0x1809,
};

interface MeasurementCharacteristic {
  service: VitalsGattService;
  uuid: number;
  name: string;
  samples(value: DataView, receivedAt: number, device: VitalsDeviceInfo): VitalsSample[];
}

/** Each measurement characteristic, and how its value becomes samples. */
export const VITALS_GATT_CHARACTERISTICS: readonly MeasurementCharacteristic[] = [
  {
    service: 'heartRate',
    uuid: 0x2a37,
    name: 'Heart Rate Measurement',
    samples: (v, at, d) => heartRateSamples(parseHeartRateMeasurement(v), at, d),
  },
  {
    service: 'pulseOximeter',
    uuid: 0x2a5f,
    name: 'PLX Continuous Measurement',
    samples: (v, at, d) => plxContinuousSamples(parsePlxContinuous(v), at, d),
  },
  {
    service: 'pulseOximeter',
    uuid: 0x2a5e,
    name: 'PLX Spot-Check Measurement',
    samples: (v, at, d) => plxSpotCheckSamples(parsePlxSpotCheck(v), at, d),
  },
  {
    service: 'bloodPressure',
    uuid: 0x2a35,
    name: 'Blood Pressure Measurement',
    samples: (v, at, d) => bloodPressureSamples(parseBloodPressureMeasurement(v), at, d),
  },
  {
    service: 'thermometer',
    uuid: 0x2a1c,
    name: 'Temperature Measurement',
    samples: (v, at, d) => temperatureSamples(parseTemperatureMeasurement(v), at, d),
  },
];

/** Options of `bluetoothVitalsDevice`. */
export interface BluetoothVitalsOptions {
  /** Default `navigator.bluetooth`. */
  bluetooth?: Bluetooth;
  /** A device the app already chose (skips the chooser). */
  device?: BluetoothDevice;
  /** Which services to offer in the chooser (default all four). */
  services?: VitalsGattService[];
  /** Reconnect attempts after the link drops (default 3, 1 s apart); 0 turns it off. */
  reconnectAttempts?: number;
  /** Milliseconds between reconnect attempts (default 1000). */
  reconnectDelayMs?: number;
  /** Clock for readings without a device time stamp (default Date.now). */
  now?: () => number;
}

interface Subscription {
  characteristic: BluetoothRemoteGATTCharacteristic;
  listener: (event: Event) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null && 'name' in err ? String((err as { name: unknown }).name) : '';
}

export class BluetoothVitalsDevice extends VitalsDeviceBase {
  readonly #options: BluetoothVitalsOptions;
  readonly #services: VitalsGattService[];
  #device: BluetoothDevice | null = null;
  #info: VitalsDeviceInfo | undefined;
  #subscriptions: Subscription[] = [];
  #stopping = false;
  #reconnecting = false;
  readonly #onDisconnected = (): void => void this.#linkLost();

  constructor(options: BluetoothVitalsOptions = {}) {
    super();
    this.#options = options;
    this.#services = options.services ?? ['heartRate', 'pulseOximeter', 'bloodPressure', 'thermometer'];
  }

  get info(): VitalsDeviceInfo | undefined {
    return this.#info;
  }

  /** The characteristics currently subscribed to, by name (e.g. ['Heart Rate Measurement']). */
  get measuring(): string[] {
    return this.#subscriptions.map(
      (s) =>
        VITALS_GATT_CHARACTERISTICS.find((c) => sameUuid(s.characteristic.uuid, c.uuid))?.name ?? s.characteristic.uuid,
    );
  }

  async start(): Promise<void> {
    if (this.state === 'running' || this.state === 'starting') return;
    this.#stopping = false;
    this.setState('starting');
    try {
      const device = this.#options.device ?? (await this.#choose());
      this.#device = device;
      const name = device.name?.trim().slice(0, 128);
      this.#info = {
        id: device.id.replace(/[^\x21-\x7e]/g, '_').slice(0, 128) || 'bluetooth',
        ...(name ? { name } : {}),
        kind: 'bluetooth',
      };
      device.addEventListener('gattserverdisconnected', this.#onDisconnected);
      await this.#connect(device);
      this.setState('running');
    } catch (err) {
      this.#device?.removeEventListener('gattserverdisconnected', this.#onDisconnected);
      this.#device?.gatt?.disconnect();
      this.#device = null;
      this.setState('idle');
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const device = this.#device;
    await this.#unsubscribe();
    if (device) {
      device.removeEventListener('gattserverdisconnected', this.#onDisconnected);
      device.gatt?.disconnect();
    }
    this.#device = null;
    this.finish(null);
  }

  async #choose(): Promise<BluetoothDevice> {
    const bluetooth = this.#options.bluetooth ?? browserBluetooth();
    if (!bluetooth)
      throw new VitalsDeviceError(
        'unsupported',
        'This browser has no Web Bluetooth (use Chrome or Edge on https), so use the simulated device or enter readings by hand',
      );
    // Transient user activation survives this short await, so the chooser still opens.
    if (bluetooth.getAvailability && !(await bluetooth.getAvailability().catch(() => true)))
      throw new VitalsDeviceError('unsupported', 'Bluetooth is off, or this computer has no Bluetooth adapter');
    const uuids = this.#services.map((s) => VITALS_GATT_SERVICES[s]);
    try {
      return await bluetooth.requestDevice({
        filters: uuids.map((uuid) => ({ services: [uuid] })),
        optionalServices: Object.values(VITALS_GATT_SERVICES),
      });
    } catch (err) {
      const name = errorName(err);
      // Chromium reports a missing adapter and a closed chooser both as NotFoundError.
      if (name === 'NotFoundError' && /adapter/i.test(err instanceof Error ? err.message : ''))
        throw new VitalsDeviceError('unsupported', 'Bluetooth is off, or this computer has no Bluetooth adapter', {
          cause: err,
        });
      if (name === 'NotFoundError')
        throw new VitalsDeviceError('cancelled', 'No Bluetooth device was chosen', { cause: err });
      if (name === 'SecurityError' || name === 'NotAllowedError' || name === 'NotSupportedError')
        throw new VitalsDeviceError('unsupported', 'Web Bluetooth is not allowed on this page', { cause: err });
      throw new VitalsDeviceError('connectFailed', 'Could not search for Bluetooth devices', { cause: err });
    }
  }

  async #connect(device: BluetoothDevice): Promise<void> {
    const gatt = device.gatt;
    if (!gatt) throw new VitalsDeviceError('connectFailed', 'This Bluetooth device has no GATT server');
    let server: BluetoothRemoteGATTServer;
    try {
      server = await gatt.connect();
    } catch (err) {
      throw new VitalsDeviceError('connectFailed', 'Could not connect to the Bluetooth device', { cause: err });
    }
    await this.#unsubscribe();
    let lookupError: unknown = null;
    for (const spec of VITALS_GATT_CHARACTERISTICS) {
      if (!this.#services.includes(spec.service)) continue;
      let characteristic: BluetoothRemoteGATTCharacteristic;
      try {
        const service = await server.getPrimaryService(VITALS_GATT_SERVICES[spec.service]);
        characteristic = await service.getCharacteristic(spec.uuid);
      } catch (err) {
        lookupError = err;
        continue; // The device does not have this service or characteristic: fine, try the next.
      }
      const listener = (event: Event): void => this.#onValue(spec, event);
      characteristic.addEventListener('characteristicvaluechanged', listener);
      try {
        await characteristic.startNotifications();
      } catch (err) {
        characteristic.removeEventListener('characteristicvaluechanged', listener);
        if (!server.connected)
          throw new VitalsDeviceError('connectFailed', 'The Bluetooth device disconnected while subscribing', {
            cause: err,
          });
        continue;
      }
      this.#subscriptions.push({ characteristic, listener });
    }
    if (this.#subscriptions.length === 0) {
      server.disconnect();
      throw new VitalsDeviceError(
        'noService',
        'This Bluetooth device offers no heart rate, pulse oximeter, blood pressure or thermometer measurements',
        { cause: lookupError },
      );
    }
  }

  async #unsubscribe(): Promise<void> {
    const subs = this.#subscriptions;
    this.#subscriptions = [];
    for (const { characteristic, listener } of subs) {
      characteristic.removeEventListener('characteristicvaluechanged', listener);
      if (this.#device?.gatt?.connected) await characteristic.stopNotifications().catch(() => undefined);
    }
  }

  #onValue(spec: MeasurementCharacteristic, event: Event): void {
    const info = this.#info;
    const value = (event.target as BluetoothRemoteGATTCharacteristic | null)?.value;
    if (!info || !value || this.state !== 'running') return;
    let samples: VitalsSample[];
    try {
      samples = spec.samples(value, (this.#options.now ?? Date.now)(), info);
    } catch (err) {
      if (!(err instanceof GattParseError)) throw err;
      this.emit('readingRejected', new VitalsError('shape', '', err.message));
      return;
    }
    for (const sample of samples) this.emitSample(sample);
  }

  async #linkLost(): Promise<void> {
    // A failed attempt disconnects again itself: that is not a new loss.
    if (this.#stopping || this.#reconnecting || this.state === 'stopped') return;
    const device = this.#device;
    if (!device) return;
    this.#reconnecting = true;
    try {
      await this.#reconnect(device);
    } finally {
      this.#reconnecting = false;
    }
  }

  async #reconnect(device: BluetoothDevice): Promise<void> {
    // The browser may hand out the same characteristic objects after reconnecting: drop the old listeners.
    for (const { characteristic, listener } of this.#subscriptions)
      characteristic.removeEventListener('characteristicvaluechanged', listener);
    this.#subscriptions = [];
    this.setState('starting');
    const attempts = this.#options.reconnectAttempts ?? 3;
    let lastError: unknown = null;
    for (let i = 0; i < attempts; i++) {
      await sleep(this.#options.reconnectDelayMs ?? 1000);
      if (this.#stopping) return;
      try {
        await this.#connect(device);
        if (this.#stopping) return;
        this.setState('running');
        return;
      } catch (err) {
        lastError = err;
      }
    }
    device.removeEventListener('gattserverdisconnected', this.#onDisconnected);
    this.#device = null;
    this.finish(
      new VitalsDeviceError('lost', 'The Bluetooth device disconnected (out of range or switched off?)', {
        cause: lastError,
      }),
    );
  }
}

/** Web Bluetooth reports UUIDs as 128-bit strings; the SIG ones end in the Bluetooth base UUID. */
function sameUuid(uuid: string, short: number): boolean {
  return uuid.toLowerCase() === `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
}

/** A Bluetooth LE wearable (heart rate, pulse oximeter, blood pressure cuff, thermometer) through Web Bluetooth. */
export function bluetoothVitalsDevice(options: BluetoothVitalsOptions = {}): BluetoothVitalsDevice {
  return new BluetoothVitalsDevice(options);
}

/** Whether this browser offers Web Bluetooth at all (the chooser may still find nothing). */
export function hasWebBluetooth(): boolean {
  return browserBluetooth() !== undefined;
}
