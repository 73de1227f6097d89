/**
 * Manual entry: the patient reads a number off a device without Bluetooth
 * (a glucose meter, an upper-arm cuff) and types it in. `manualVitalsSample`
 * turns what was typed into a checked sample; `manualVitalsEntry()` is a
 * VitalsDevice whose `record()` does that and emits it, so `room.vitals`
 * treats typed readings like any other device's.
 */
import {
  ErrorCode,
  HuizhenError,
  VitalsError,
  parseVitalsSample,
  type NumericVitalType,
  type VitalsDeviceInfo,
  type VitalsSample,
  type VitalsTime,
} from '@huizhen/protocol';
import { fahrenheitToCelsius } from './gatt/thermometer.js';
import { VitalsDeviceBase } from './VitalsDevice.js';

/** A typed number: a number, or text such as "36,8" or " 72 ". */
export type TypedNumber = number | string;

/** A reading typed in by hand: a number of one type, or a blood pressure. */
export type ManualVitalsInput =
  | {
      /** Which vital sign. */
      type: NumericVitalType;
      /** The number, as typed (a string is parsed). */
      value: TypedNumber;
      /** Default: the type's first unit; body temperature may also be `[degF]` (converted). */
      unit?: string;
      /** When it was measured (default: now). */
      at?: VitalsTime;
    }
  | {
      /** A blood pressure. */
      type: 'bloodPressure';
      /** Either both numbers, or `reading` as the cuff shows it ("128/82"). */
      systolic?: TypedNumber;
      /** Diastolic pressure, mmHg (with `systolic`). */
      diastolic?: TypedNumber;
      /** Both as the cuff shows them, e.g. "128/82". */
      reading?: string;
      /** When it was measured (default: now). */
      at?: VitalsTime;
    };

const DEFAULT_UNITS: Record<NumericVitalType, string> = {
  heartRate: '/min',
  spo2: '%',
  respiratoryRate: '/min',
  bodyTemperature: 'Cel',
  bloodGlucose: 'mg/dL',
};

const NUMBER_TEXT = /^[+-]?\d{1,6}(?:[.,]\d{1,4})?$/;

function typedNumber(value: TypedNumber, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else {
    const text = value.trim();
    if (NUMBER_TEXT.test(text)) return Number(text.replace(',', '.'));
  }
  throw new VitalsError('shape', field, 'must be a number');
}

/** The device info of readings entered by hand. */
export const MANUAL_DEVICE: VitalsDeviceInfo = { id: 'manual', name: 'Entered by hand', kind: 'manual' };

/** Builds and checks a sample from typed-in values; throws VitalsError naming the field. */
export function manualVitalsSample(
  input: ManualVitalsInput,
  options: { now?: number; device?: VitalsDeviceInfo } = {},
): VitalsSample {
  const at = input.at ?? new Date(options.now ?? Date.now()).toISOString();
  const device = options.device ?? MANUAL_DEVICE;
  if (input.type === 'bloodPressure') {
    let { systolic, diastolic } = input;
    if (input.reading !== undefined) {
      const m = /^\s*(\d{2,3})\s*\/\s*(\d{2,3})\s*$/.exec(input.reading);
      if (!m) throw new VitalsError('shape', 'reading', 'must look like 120/80');
      systolic = m[1]!;
      diastolic = m[2]!;
    }
    if (systolic === undefined) throw new VitalsError('shape', 'systolic', 'is required');
    if (diastolic === undefined) throw new VitalsError('shape', 'diastolic', 'is required');
    return parseVitalsSample({
      type: 'bloodPressure',
      systolic: typedNumber(systolic, 'systolic'),
      diastolic: typedNumber(diastolic, 'diastolic'),
      unit: 'mm[Hg]',
      at,
      device,
    });
  }
  let value = typedNumber(input.value, 'value');
  let unit = input.unit ?? DEFAULT_UNITS[input.type];
  if (input.type === 'bodyTemperature' && unit === '[degF]') {
    value = fahrenheitToCelsius(value);
    unit = 'Cel';
  }
  return parseVitalsSample({ type: input.type, value, unit, at, device });
}

export class ManualVitalsEntry extends VitalsDeviceBase {
  readonly info: VitalsDeviceInfo;

  constructor(info: Partial<VitalsDeviceInfo> = {}) {
    super();
    this.info = { ...MANUAL_DEVICE, ...info, kind: 'manual' };
  }

  async start(): Promise<void> {
    this.setState('running');
  }

  async stop(): Promise<void> {
    this.finish(null);
  }

  /** Checks a typed reading and emits it as a sample; throws VitalsError (nothing emitted) when it is refused. */
  record(input: ManualVitalsInput, now = Date.now()): VitalsSample {
    if (this.state === 'stopped') throw new HuizhenError(ErrorCode.INVALID_STATE, 'This manual entry was stopped');
    if (this.state !== 'running') this.setState('running');
    const sample = manualVitalsSample(input, { now, device: this.info });
    this.emit('sample', sample);
    return sample;
  }
}

/** A device for readings typed in by hand (`entry.record(input)`), to connect with `room.vitals` like any device. */
export function manualVitalsEntry(info: Partial<VitalsDeviceInfo> = {}): ManualVitalsEntry {
  return new ManualVitalsEntry(info);
}
