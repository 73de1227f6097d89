/**
 * The Web Bluetooth adapter against an in-memory GATT peripheral that
 * implements the same interfaces the browser does (EventTarget, promises,
 * 128-bit UUID strings). The browser path is covered by the e2e test on
 * Chromium's Bluetooth emulation where it is available.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VitalsSample } from '@huizhen/protocol';
import { bluetoothVitalsDevice } from './bluetoothDevice.js';
import { VitalsDeviceError } from './VitalsDevice.js';
import type {
  Bluetooth,
  BluetoothDevice,
  BluetoothRemoteGATTCharacteristic,
  BluetoothRemoteGATTServer,
  BluetoothRemoteGATTService,
  RequestDeviceOptions,
} from './webBluetooth.js';

const full = (short: number) => `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
const notFound = () => Object.assign(new Error('not found'), { name: 'NotFoundError' });

class FakeCharacteristic extends EventTarget implements BluetoothRemoteGATTCharacteristic {
  value: DataView | null = null;
  notifying = false;
  readonly properties = { notify: true, indicate: false, read: false };
  constructor(readonly uuid: string) {
    super();
  }
  async startNotifications() {
    this.notifying = true;
    return this;
  }
  async stopNotifications() {
    this.notifying = false;
    return this;
  }
  async readValue(): Promise<DataView> {
    return this.value ?? new DataView(new ArrayBuffer(0));
  }
  push(bytes: number[]) {
    if (!this.notifying) return;
    this.value = new DataView(new Uint8Array(bytes).buffer);
    this.dispatchEvent(new Event('characteristicvaluechanged'));
  }
}

class FakePeripheral extends EventTarget implements BluetoothDevice {
  readonly gatt: BluetoothRemoteGATTServer;
  connected = false;
  failConnects = 0;
  readonly chars = new Map<number, FakeCharacteristic>();
  constructor(
    readonly id: string,
    readonly name: string,
    services: Record<number, number[]>,
  ) {
    super();
    const svc = new Map<number, BluetoothRemoteGATTService>();
    for (const [s, cs] of Object.entries(services)) {
      for (const c of cs) this.chars.set(c, new FakeCharacteristic(full(c)));
      svc.set(Number(s), {
        uuid: full(Number(s)),
        getCharacteristic: async (c) => {
          const ch = this.chars.get(Number(c));
          if (!ch || !cs.includes(Number(c))) throw notFound();
          return ch;
        },
      });
    }
    const server: BluetoothRemoteGATTServer = {
      get connected() {
        return peripheral.connected;
      },
      connect: async () => {
        if (this.failConnects > 0) {
          this.failConnects--;
          throw Object.assign(new Error('GATT error'), { name: 'NetworkError' });
        }
        this.connected = true;
        return server;
      },
      disconnect: () => {
        if (!this.connected) return;
        this.connected = false;
        this.dispatchEvent(new Event('gattserverdisconnected'));
      },
      getPrimaryService: async (s) => {
        const found = svc.get(Number(s));
        if (!found) throw notFound();
        return found;
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const peripheral = this;
    this.gatt = server;
  }
  /** The link drops from the device side. */
  drop() {
    this.connected = false;
    for (const c of this.chars.values()) c.notifying = false;
    this.dispatchEvent(new Event('gattserverdisconnected'));
  }
}

function fakeBluetooth(peripheral: FakePeripheral | Error) {
  const requests: RequestDeviceOptions[] = [];
  const bluetooth: Bluetooth = {
    requestDevice: async (options) => {
      requests.push(options);
      if (peripheral instanceof Error) throw peripheral;
      return peripheral;
    },
  };
  return { bluetooth, requests };
}

const NOW = Date.UTC(2026, 2, 1, 13, 0, 0);

describe('bluetoothVitalsDevice', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => vi.useRealTimers());

  it('asks for the four health services and reads a heart-rate strap', async () => {
    const strap = new FakePeripheral('hr-strap-1', 'Polar H10 12345', { 0x180d: [0x2a37] });
    const { bluetooth, requests } = fakeBluetooth(strap);
    const device = bluetoothVitalsDevice({ bluetooth });
    const samples: VitalsSample[] = [];
    device.on('sample', (s) => samples.push(s));
    await device.start();
    expect(requests[0]!.filters).toEqual([
      { services: [0x180d] },
      { services: [0x1822] },
      { services: [0x1810] },
      { services: [0x1809] },
    ]);
    expect(requests[0]!.optionalServices).toEqual([0x180d, 0x1822, 0x1810, 0x1809]);
    expect(device.info).toEqual({ id: 'hr-strap-1', name: 'Polar H10 12345', kind: 'bluetooth' });
    expect(device.measuring).toEqual(['Heart Rate Measurement']);
    strap.chars.get(0x2a37)!.push([0x16, 72, 0x00, 0x04]);
    strap.chars.get(0x2a37)!.push([0x04, 0]); // no contact
    expect(samples).toEqual([
      { type: 'heartRate', value: 72, unit: '/min', at: new Date(NOW).toISOString(), device: device.info },
    ]);
  });

  it('reads every measurement of a multi-sensor device; refuses garbled and implausible values', async () => {
    const monitor = new FakePeripheral('m-1', 'Vitals hub', {
      0x1822: [0x2a5f, 0x2a5e],
      0x1810: [0x2a35],
      0x1809: [0x2a1c],
    });
    const device = bluetoothVitalsDevice({ bluetooth: fakeBluetooth(monitor).bluetooth });
    const samples: VitalsSample[] = [];
    const rejected: string[] = [];
    device.on('sample', (s) => samples.push(s));
    device.on('readingRejected', (e) => rejected.push(e.message));
    await device.start();
    expect(device.measuring.sort()).toEqual([
      'Blood Pressure Measurement',
      'PLX Continuous Measurement',
      'PLX Spot-Check Measurement',
      'Temperature Measurement',
    ]);
    monitor.chars.get(0x2a5f)!.push([0x00, 97, 0x00, 66, 0x00]);
    monitor.chars.get(0x2a35)!.push([0x00, 120, 0x00, 80, 0x00, 93, 0x00]);
    monitor.chars.get(0x2a1c)!.push([0x00, 0x70, 0x01, 0x00, 0xff]); // 36.8 Cel
    monitor.chars.get(0x2a1c)!.push([0x00, 0x01]); // truncated
    monitor.chars.get(0x2a1c)!.push([0x00, 0xdc, 0x00, 0x00, 0xff]); // 22.0 Cel: room temperature, implausible
    expect(samples.map((s) => s.type)).toEqual(['spo2', 'heartRate', 'bloodPressure', 'bodyTemperature']);
    expect(rejected).toHaveLength(2);
    expect(rejected[0]).toMatch(/^Temperature Measurement: truncated/);
    expect(rejected[1]).toMatch(/^value: must be within 25–45 Cel/);
  });

  it('maps the chooser outcomes to typed errors and returns to idle', async () => {
    const cancelled = bluetoothVitalsDevice({ bluetooth: fakeBluetooth(notFound()).bluetooth });
    const err = await cancelled.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VitalsDeviceError);
    expect((err as VitalsDeviceError).reason).toBe('cancelled');
    expect((err as VitalsDeviceError).code).toBe('VITALS_DEVICE_FAILED');
    expect(cancelled.state).toBe('idle');
    const noAdapter = Object.assign(new Error('Bluetooth adapter not available.'), { name: 'NotFoundError' });
    await expect(
      bluetoothVitalsDevice({ bluetooth: fakeBluetooth(noAdapter).bluetooth }).start(),
    ).rejects.toMatchObject({
      reason: 'unsupported',
    });
    const off = fakeBluetooth(new FakePeripheral('x', 'x', { 0x180d: [0x2a37] }));
    off.bluetooth.getAvailability = async () => false;
    await expect(bluetoothVitalsDevice({ bluetooth: off.bluetooth }).start()).rejects.toMatchObject({
      reason: 'unsupported',
    });
    expect(off.requests).toEqual([]);
    const none = bluetoothVitalsDevice({});
    await expect(none.start()).rejects.toMatchObject({ reason: 'unsupported' });
    const scale = new FakePeripheral('w-1', 'Scale', { 0x181d: [0x2a9d] });
    await expect(bluetoothVitalsDevice({ bluetooth: fakeBluetooth(scale).bluetooth }).start()).rejects.toMatchObject({
      reason: 'noService',
    });
    expect(scale.connected).toBe(false);
  });

  it('reconnects after a dropped link and resubscribes; gives up after the attempts', async () => {
    const strap = new FakePeripheral('hr-2', 'Strap', { 0x180d: [0x2a37] });
    const device = bluetoothVitalsDevice({ bluetooth: fakeBluetooth(strap).bluetooth, reconnectDelayMs: 100 });
    const values: number[] = [];
    const gone: (VitalsDeviceError | null)[] = [];
    device.on('sample', (s) => s.type === 'heartRate' && values.push(s.value));
    device.on('disconnected', (e) => gone.push(e));
    await device.start();
    strap.chars.get(0x2a37)!.push([0x00, 70]);
    strap.drop();
    expect(device.state).toBe('starting');
    await vi.advanceTimersByTimeAsync(150);
    expect(device.state).toBe('running');
    strap.chars.get(0x2a37)!.push([0x00, 71]);
    expect(values).toEqual([70, 71]);
    strap.failConnects = 5;
    strap.drop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(device.state).toBe('stopped');
    expect(gone).toHaveLength(1);
    expect(gone[0]).toMatchObject({ reason: 'lost' });
  });

  it('stop() unsubscribes and disconnects without reconnecting', async () => {
    const strap = new FakePeripheral('hr-3', 'Strap', { 0x180d: [0x2a37] });
    const device = bluetoothVitalsDevice({ bluetooth: fakeBluetooth(strap).bluetooth, reconnectDelayMs: 10 });
    const gone: (VitalsDeviceError | null)[] = [];
    device.on('disconnected', (e) => gone.push(e));
    await device.start();
    await device.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(strap.connected).toBe(false);
    expect(strap.chars.get(0x2a37)!.notifying).toBe(false);
    expect(gone).toEqual([null]);
  });
});
