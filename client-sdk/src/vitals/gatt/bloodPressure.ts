/**
 * Blood Pressure Measurement (characteristic 0x2A35, Blood Pressure Service
 * 0x1810, indicated), as in the Bluetooth SIG Blood Pressure Service 1.1 and
 * the GATT Specification Supplement:
 *
 *   flags  uint8  bit 0 units (0 = mmHg, 1 = kPa), bit 1 Time Stamp,
 *                 bit 2 Pulse Rate, bit 3 User ID, bit 4 Measurement Status present
 *   systolic, diastolic, mean arterial pressure   SFLOAT × 3
 *   Time Stamp          Date Time, 7 bytes        (bit 1)
 *   Pulse Rate          SFLOAT, /min              (bit 2)
 *   User ID             uint8, 0xFF = unknown     (bit 3)
 *   Measurement Status  uint16                    (bit 4): bit 0 body movement,
 *                 bit 1 cuff too loose, bit 2 irregular pulse, bits 3–4 pulse
 *                 rate range (0 within, 1 above upper limit, 2 below lower limit),
 *                 bit 5 improper measurement position
 */
import type { VitalsDeviceInfo, VitalsSample } from '@huizhen/protocol';
import { GattReader, dateTimeToMs, type GattDateTime } from './GattReader.js';
import type { MedFloat } from './ieee11073.js';

export const BLOOD_PRESSURE_FLAGS = {
  UNITS_KPA: 0x01,
  TIME_STAMP: 0x02,
  PULSE_RATE: 0x04,
  USER_ID: 0x08,
  MEASUREMENT_STATUS: 0x10,
} as const;

export interface BloodPressureStatus {
  bodyMovement: boolean;
  cuffTooLoose: boolean;
  irregularPulse: boolean;
  pulseRateRange: 'withinRange' | 'exceedsUpperLimit' | 'belowLowerLimit' | 'reserved';
  improperPosition: boolean;
}

/** A decoded Blood Pressure Measurement (0x2A35). */
export interface BloodPressureMeasurement {
  /** The unit of the pressures. */
  unit: 'mmHg' | 'kPa';
  /** Systolic pressure. */
  systolic: MedFloat;
  /** Diastolic pressure. */
  diastolic: MedFloat;
  /** Mean arterial pressure. */
  meanArterialPressure: MedFloat;
  /** When it was measured, on the cuff's clock; null when not sent. */
  timestamp: GattDateTime | null;
  /** Pulse rate, per minute; null when not sent. */
  pulseRate: MedFloat | null;
  /** The cuff's user slot (multi-user cuffs); null when absent or 0xFF (unknown user). */
  userId: number | null;
  /** Measurement status flags; null when not sent. */
  status: BloodPressureStatus | null;
}

/** 1 mmHg = 133.322387415 Pa (ISO 80000-4 conventional millimetre of mercury). */
export const PA_PER_MMHG = 133.322387415;

const PULSE_RANGES = ['withinRange', 'exceedsUpperLimit', 'belowLowerLimit', 'reserved'] as const;

/** Decodes a Blood Pressure Measurement value. @throws GattParseError when it does not match the layout. */
export function parseBloodPressureMeasurement(value: DataView | ArrayBuffer | Uint8Array): BloodPressureMeasurement {
  const r = new GattReader(value, 'Blood Pressure Measurement');
  const flags = r.uint8('flags');
  const f = BLOOD_PRESSURE_FLAGS;
  const systolic = r.sfloat('systolic');
  const diastolic = r.sfloat('diastolic');
  const meanArterialPressure = r.sfloat('mean arterial pressure');
  const timestamp = flags & f.TIME_STAMP ? r.dateTime('time stamp') : null;
  const pulseRate = flags & f.PULSE_RATE ? r.sfloat('pulse rate') : null;
  const user = flags & f.USER_ID ? r.uint8('user id') : null;
  let status: BloodPressureStatus | null = null;
  if (flags & f.MEASUREMENT_STATUS) {
    const s = r.uint16('measurement status');
    status = {
      bodyMovement: (s & 0x01) !== 0,
      cuffTooLoose: (s & 0x02) !== 0,
      irregularPulse: (s & 0x04) !== 0,
      pulseRateRange: PULSE_RANGES[(s >> 3) & 0x03]!,
      improperPosition: (s & 0x20) !== 0,
    };
  }
  return {
    unit: flags & f.UNITS_KPA ? 'kPa' : 'mmHg',
    systolic,
    diastolic,
    meanArterialPressure,
    timestamp,
    pulseRate,
    userId: user === null || user === 0xff ? null : user,
    status,
  };
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
const toMmHg = (v: number, unit: 'mmHg' | 'kPa'): number => (unit === 'kPa' ? round1((v * 1000) / PA_PER_MMHG) : v);

/**
 * The blood-pressure sample (mm[Hg]; kPa converted) and the pulse-rate
 * sample of a measurement, at the cuff's time stamp when it has one.
 */
export function bloodPressureSamples(
  m: BloodPressureMeasurement,
  receivedAt: number,
  device: VitalsDeviceInfo,
): VitalsSample[] {
  const stamped = m.timestamp ? dateTimeToMs(m.timestamp) : null;
  const at = new Date(stamped ?? receivedAt).toISOString();
  const out: VitalsSample[] = [];
  if (m.systolic.special === null && m.diastolic.special === null) {
    const systolic = toMmHg(m.systolic.value, m.unit);
    const diastolic = toMmHg(m.diastolic.value, m.unit);
    const sample: VitalsSample = { type: 'bloodPressure', systolic, diastolic, unit: 'mm[Hg]', at, device };
    if (m.meanArterialPressure.special === null) {
      const mean = toMmHg(m.meanArterialPressure.value, m.unit);
      if (mean >= diastolic && mean <= systolic) sample.value = mean;
    }
    out.push(sample);
  }
  if (m.pulseRate && m.pulseRate.special === null)
    out.push({ type: 'heartRate', value: m.pulseRate.value, unit: '/min', at, device });
  return out;
}
