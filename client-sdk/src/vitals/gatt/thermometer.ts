/**
 * Temperature Measurement (characteristic 0x2A1C, Health Thermometer Service
 * 0x1809, indicated), as in the Bluetooth SIG Health Thermometer Service 1.0
 * and the GATT Specification Supplement:
 *
 *   flags  uint8  bit 0 units (0 = Celsius, 1 = Fahrenheit), bit 1 Time Stamp,
 *                 bit 2 Temperature Type present
 *   temperature       FLOAT (32-bit IEEE 11073)
 *   Time Stamp        Date Time, 7 bytes   (bit 1)
 *   Temperature Type  uint8                (bit 2), see TEMPERATURE_TYPES
 */
import type { VitalsDeviceInfo, VitalsSample } from '@huizhen/protocol';
import { GattReader, dateTimeToMs, type GattDateTime } from './GattReader.js';
import type { MedFloat } from './ieee11073.js';

export const THERMOMETER_FLAGS = { FAHRENHEIT: 0x01, TIME_STAMP: 0x02, TEMPERATURE_TYPE: 0x04 } as const;

/** Temperature Type (0x2A1D) values: where on the body it was taken. */
export const TEMPERATURE_TYPES: Readonly<Record<number, string>> = {
  1: 'armpit',
  2: 'body',
  3: 'ear',
  4: 'finger',
  5: 'gastrointestinal',
  6: 'mouth',
  7: 'rectum',
  8: 'toe',
  9: 'tympanum',
};

/** A decoded Temperature Measurement (0x2A1C). */
export interface TemperatureMeasurement {
  /** Celsius or Fahrenheit (UCUM codes). */
  unit: 'Cel' | '[degF]';
  /** The temperature. */
  temperature: MedFloat;
  /** When it was measured, on the thermometer's clock; null when not sent. */
  timestamp: GattDateTime | null;
  /** Temperature Type code, and its name when it is a known one. */
  temperatureType: number | null;
  /** The body site named by `temperatureType` (e.g. "ear"), when known. */
  site: string | null;
}

/** Decodes a Temperature Measurement value. @throws GattParseError when it does not match the layout. */
export function parseTemperatureMeasurement(value: DataView | ArrayBuffer | Uint8Array): TemperatureMeasurement {
  const r = new GattReader(value, 'Temperature Measurement');
  const flags = r.uint8('flags');
  const temperature = r.float('temperature');
  const timestamp = flags & THERMOMETER_FLAGS.TIME_STAMP ? r.dateTime('time stamp') : null;
  const temperatureType = flags & THERMOMETER_FLAGS.TEMPERATURE_TYPE ? r.uint8('temperature type') : null;
  return {
    unit: flags & THERMOMETER_FLAGS.FAHRENHEIT ? '[degF]' : 'Cel',
    temperature,
    timestamp,
    temperatureType,
    site: temperatureType === null ? null : (TEMPERATURE_TYPES[temperatureType] ?? null),
  };
}

/** °F → °C, to two decimals (thermometers resolve 0.1 °F ≈ 0.056 °C). */
export function fahrenheitToCelsius(f: number): number {
  return Math.round(((f - 32) * 5 * 100) / 9) / 100;
}

/** The body-temperature sample (Cel; Fahrenheit converted), at the thermometer's time stamp when it has one. */
export function temperatureSamples(
  m: TemperatureMeasurement,
  receivedAt: number,
  device: VitalsDeviceInfo,
): VitalsSample[] {
  if (m.temperature.special !== null) return [];
  const stamped = m.timestamp ? dateTimeToMs(m.timestamp) : null;
  const value = m.unit === 'Cel' ? m.temperature.value : fahrenheitToCelsius(m.temperature.value);
  return [{ type: 'bodyTemperature', value, unit: 'Cel', at: new Date(stamped ?? receivedAt).toISOString(), device }];
}
