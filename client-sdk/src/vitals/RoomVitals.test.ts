import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, HuizhenError, VitalsError, parseVitalsMessage, type VitalsSample } from '@huizhen/protocol';
import { createLogger, type LogSink } from '../logger.js';
import { manualVitalsEntry } from './manualEntry.js';
import { RoomVitals, type RoomVitalsEvents, type VitalsAlert, type VitalsDataChannel } from './RoomVitals.js';
import { simulatedVitalsDevice } from './simulatedDevice.js';

interface P {
  identity: string;
  name: string;
}
type Emitted = {
  [E in keyof RoomVitalsEvents<P>]: [E, ...Parameters<RoomVitalsEvents<P>[E]>];
}[keyof RoomVitalsEvents<P>];

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

describe('RoomVitals', () => {
  let published: { topic: string; payload: string | Uint8Array; reliable: boolean }[];
  let emitted: Emitted[];
  let logged: unknown[][];
  let dataUp: boolean;
  let vitals: RoomVitals<P>;
  const people = new Map<string, P>([['patient-1', { identity: 'patient-1', name: 'Li Na' }]]);

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
    published = [];
    emitted = [];
    logged = [];
    dataUp = true;
    const data: VitalsDataChannel = {
      publish: async (topic, payload, { reliable }) => {
        if (!dataUp) throw new HuizhenError(ErrorCode.NOT_JOINED, 'The room is not connected');
        published.push({ topic, payload, reliable });
      },
    };
    const sink: LogSink = { debug: () => {}, info: () => {}, warn: (...a) => logged.push(a), error: () => {} };
    vitals = new RoomVitals<P>({
      data: () => data,
      localIdentity: () => 'me',
      participant: (identity) => people.get(identity),
      emit: (event, ...args) => {
        emitted.push([event, ...args] as unknown as Emitted);
      },
      logger: () => createLogger('warn', {}, sink),
    });
  });
  afterEach(() => vi.useRealTimers());

  const sentSamples = () => published.flatMap((m) => parseVitalsMessage(m.payload).samples);

  it('connect(device) starts it and publishes its samples on topic vitals, reliably, batched', async () => {
    const device = simulatedVitalsDevice({ seed: 1 });
    await vitals.connect(device);
    expect(device.state).toBe('running');
    await vi.advanceTimersByTimeAsync(4100);
    expect(published.every((m) => m.topic === 'vitals' && m.reliable)).toBe(true);
    expect(published.length).toBeLessThanOrEqual(Math.ceil(4.1 * 4));
    expect(sentSamples()).toHaveLength(20);
    expect(Object.keys(vitals.latest('me')).sort()).toEqual([
      'bodyTemperature',
      'heartRate',
      'respiratoryRate',
      'spo2',
    ]);
    expect(vitals.history('me', 'heartRate')).toHaveLength(5);
    await vitals.disconnect(device);
    expect(device.state).toBe('stopped');
    expect(emitted).toContainEqual(['vitalsDeviceDisconnected', device, null]);
    expect(vitals.devices).toEqual([]);
    const before = published.length;
    await vi.advanceTimersByTimeAsync(3000);
    expect(published.length).toBe(before);
  });

  it('publish() validates synchronously and sends within 250 ms', async () => {
    expect(() => vitals.publish({ type: 'spo2', value: 140, unit: '%', at: at(0) } as VitalsSample)).toThrow(
      VitalsError,
    );
    vitals.publish({ type: 'spo2', value: 95, unit: '%', at: at(0) });
    await vi.advanceTimersByTimeAsync(250);
    expect(sentSamples()).toEqual([{ type: 'spo2', value: 95, unit: '%', at: at(0) }]);
  });

  it('manual entry through connect', async () => {
    const entry = manualVitalsEntry();
    await vitals.connect(entry);
    entry.record({ type: 'bloodPressure', reading: '131/85' });
    await vi.advanceTimersByTimeAsync(300);
    expect(sentSamples()).toMatchObject([{ type: 'bloodPressure', systolic: 131, diastolic: 85 }]);
  });

  it('keeps samples while the data channel is down and reports the failures', async () => {
    dataUp = false;
    vitals.publish({ type: 'heartRate', value: 80, unit: '/min', at: at(0) });
    await vi.advanceTimersByTimeAsync(1500);
    expect(
      emitted.some(
        ([e, err, dropped]) =>
          e === 'vitalsPublishFailed' && (err as HuizhenError).code === 'NOT_JOINED' && dropped === 0,
      ),
    ).toBe(true);
    dataUp = true;
    await vi.advanceTimersByTimeAsync(1500);
    expect(sentSamples()).toHaveLength(1);
  });

  it('receives validated samples, emits vitalsReceived, keeps latest and time-ordered history', () => {
    const p = people.get('patient-1')!;
    const msg = (samples: unknown[]) => JSON.stringify({ samples });
    vitals.handleData(
      msg([
        { type: 'heartRate', value: 88, unit: '/min', at: at(2) },
        { type: 'spo2', value: 93, unit: '%', at: at(2) },
      ]),
      p,
    );
    vitals.handleData(new TextEncoder().encode(msg([{ type: 'heartRate', value: 86, unit: '/min', at: at(1) }])), p);
    expect(emitted.filter(([e]) => e === 'vitalsReceived')).toHaveLength(3);
    expect(emitted[0]).toEqual(['vitalsReceived', { type: 'heartRate', value: 88, unit: '/min', at: at(2) }, p]);
    expect(vitals.latest('patient-1').heartRate).toMatchObject({ value: 88 });
    expect(vitals.history('patient-1', 'heartRate').map((s) => 'value' in s && s.value)).toEqual([86, 88]);
    expect(vitals.identities).toEqual(['patient-1']);
  });

  it('refuses a bad message whole, counts it and logs no clinical values', () => {
    const p = people.get('patient-1')!;
    vitals.handleData(
      JSON.stringify({
        samples: [
          { type: 'heartRate', value: 88, unit: '/min', at: at(0) },
          { type: 'heartRate', value: 912, unit: '/min', at: at(0) },
        ],
      }),
      p,
    );
    vitals.handleData('not json', p);
    expect(emitted).toEqual([]);
    expect(vitals.stats).toMatchObject({ refused: 2, received: 0 });
    expect(vitals.latest('patient-1')).toEqual({});
    expect(logged).toHaveLength(2);
    expect(JSON.stringify(logged)).not.toContain('912');
    expect(JSON.stringify(logged)).toContain('VITALS_INVALID');
  });

  it('tracks raised alerts until cleared and emits vitalsAlert with the participant', () => {
    const alert: VitalsAlert = {
      identity: 'patient-1',
      type: 'spo2',
      state: 'raised',
      value: 87,
      threshold: 90,
      direction: 'below',
      message: 'SpO2 below 90 % for 10 s',
      at: T0,
    };
    vitals.handleAlert(alert);
    expect(vitals.alerts('patient-1')).toEqual([alert]);
    expect(emitted).toEqual([['vitalsAlert', alert, people.get('patient-1')]]);
    vitals.handleAlert({ ...alert, state: 'cleared', value: 93 });
    expect(vitals.alerts()).toEqual([]);
    vitals.handleAlert({ ...alert, identity: 'gone' });
    expect(emitted[2]).toEqual(['vitalsAlert', { ...alert, identity: 'gone' }, undefined]);
  });

  it('a device that fails to start is not kept; reset stops devices and drops the queue', async () => {
    const broken = simulatedVitalsDevice({ seed: 2 });
    broken.start = () => Promise.reject(new Error('no'));
    await expect(vitals.connect(broken)).rejects.toThrow('no');
    expect(vitals.devices).toEqual([]);
    const device = simulatedVitalsDevice({ seed: 3 });
    await vitals.connect(device);
    dataUp = false;
    await vi.advanceTimersByTimeAsync(100);
    vitals.reset();
    await vi.advanceTimersByTimeAsync(10);
    expect(device.state).toBe('stopped');
    dataUp = true;
    await vi.advanceTimersByTimeAsync(3000);
    expect(published).toEqual([]);
    expect(vitals.latest('me')).toEqual({});
  });
});
