/**
 * Heart Rate Measurement (characteristic 0x2A37, Heart Rate Service 0x180D),
 * as in the Bluetooth SIG Heart Rate Service 1.0 and the GATT Specification
 * Supplement:
 *
 *   flags        uint8   bit 0: value format (0 = uint8, 1 = uint16)
 *                        bits 1–2: sensor contact (0b0x not supported,
 *                        0b10 supported but no contact, 0b11 contact)
 *                        bit 3: Energy Expended present
 *                        bit 4: RR-Interval present
 *   heart rate   uint8 | uint16   beats per minute
 *   energy       uint16  kilojoules (if bit 3)
 *   RR-interval  uint16 × n, 1/1024 s each (if bit 4), oldest first
 */
import type { VitalsDeviceInfo, VitalsSample } from '@huizhen/protocol';
import { GattParseError, GattReader } from './GattReader.js';

const NAME = 'Heart Rate Measurement';

/** Whether the sensor supports contact detection, and whether it touches the skin. */
export type SensorContact = 'unsupported' | 'notDetected' | 'detected';

/** A decoded Heart Rate Measurement (0x2A37). */
export interface HeartRateMeasurement {
  /** Beats per minute (0 when the sensor has no reading). */
  heartRate: number;
  /** Skin contact of the sensor. */
  sensorContact: SensorContact;
  /** Cumulative energy expended, kJ, when the sensor sends it. */
  energyExpendedKJ: number | null;
  /** Beat-to-beat intervals in milliseconds, oldest first (empty when absent). */
  rrIntervalsMs: number[];
}

export const HEART_RATE_FLAGS = {
  VALUE_UINT16: 0x01,
  CONTACT_DETECTED: 0x02,
  CONTACT_SUPPORTED: 0x04,
  ENERGY_EXPENDED: 0x08,
  RR_INTERVALS: 0x10,
} as const;

/** Decodes a Heart Rate Measurement value. @throws GattParseError when it does not match the layout. */
export function parseHeartRateMeasurement(value: DataView | ArrayBuffer | Uint8Array): HeartRateMeasurement {
  const r = new GattReader(value, NAME);
  const flags = r.uint8('flags');
  const heartRate = flags & HEART_RATE_FLAGS.VALUE_UINT16 ? r.uint16('heart rate') : r.uint8('heart rate');
  const sensorContact: SensorContact =
    flags & HEART_RATE_FLAGS.CONTACT_SUPPORTED
      ? flags & HEART_RATE_FLAGS.CONTACT_DETECTED
        ? 'detected'
        : 'notDetected'
      : 'unsupported';
  const energyExpendedKJ = flags & HEART_RATE_FLAGS.ENERGY_EXPENDED ? r.uint16('energy expended') : null;
  const rrIntervalsMs: number[] = [];
  if (flags & HEART_RATE_FLAGS.RR_INTERVALS) {
    if (r.remaining === 0 || r.remaining % 2 !== 0)
      throw new GattParseError(NAME, 'RR-Interval flag set but the intervals are not whole uint16 values');
    while (r.remaining > 0) rrIntervalsMs.push((r.uint16('RR-interval') * 1000) / 1024);
  }
  return { heartRate, sensorContact, energyExpendedKJ, rrIntervalsMs };
}

/** The heart-rate sample a measurement gives, or none without skin contact or without a reading. */
export function heartRateSamples(
  m: HeartRateMeasurement,
  receivedAt: number,
  device: VitalsDeviceInfo,
): VitalsSample[] {
  if (m.sensorContact === 'notDetected' || m.heartRate === 0) return [];
  return [{ type: 'heartRate', value: m.heartRate, unit: '/min', at: new Date(receivedAt).toISOString(), device }];
}
