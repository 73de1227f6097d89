/**
 * Pulse Oximeter Service (0x1822) measurements, as in the Bluetooth SIG Pulse
 * Oximeter Profile/Service 1.0 and the GATT Specification Supplement.
 *
 * PLX Spot-Check Measurement (0x2A5E, indicated):
 *   flags  uint8  bit 0 Timestamp, bit 1 Measurement Status, bit 2 Device and
 *                 Sensor Status, bit 3 Pulse Amplitude Index present;
 *                 bit 4 Device Clock is Not Set
 *   SpO2PR-Spot-Check  SpO2 SFLOAT (%), PR SFLOAT (/min)
 *   Timestamp          Date Time, 7 bytes          (bit 0)
 *   Measurement Status uint16                      (bit 1)
 *   Device and Sensor Status uint24                (bit 2)
 *   Pulse Amplitude Index SFLOAT (%)               (bit 3)
 *
 * PLX Continuous Measurement (0x2A5F, notified):
 *   flags  uint8  bit 0 SpO2PR-Fast, bit 1 SpO2PR-Slow, bit 2 Measurement
 *                 Status, bit 3 Device and Sensor Status, bit 4 Pulse
 *                 Amplitude Index present
 *   SpO2PR-Normal  SpO2 SFLOAT, PR SFLOAT
 *   SpO2PR-Fast    SpO2 SFLOAT, PR SFLOAT         (bit 0)
 *   SpO2PR-Slow    SpO2 SFLOAT, PR SFLOAT         (bit 1)
 *   Measurement Status uint16                      (bit 2)
 *   Device and Sensor Status uint24                (bit 3)
 *   Pulse Amplitude Index SFLOAT                   (bit 4)
 */
import type { VitalsDeviceInfo, VitalsSample } from '@huizhen/protocol';
import { GattReader, dateTimeToMs, type GattDateTime } from './GattReader.js';
import type { MedFloat } from './ieee11073.js';

/** An SpO2 and pulse-rate pair. */
export interface SpO2PR {
  /** Oxygen saturation, percent. */
  spo2: MedFloat;
  /** Pulse rate, per minute. */
  pulseRate: MedFloat;
}

/** A decoded PLX Spot-Check Measurement (0x2A5E). */
export interface PlxSpotCheckMeasurement extends SpO2PR {
  /** When it was measured, on the oximeter's clock; null when not sent. */
  timestamp: GattDateTime | null;
  /** Measurement Status bits (`PLX_MEASUREMENT_STATUS`); null when not sent. */
  measurementStatus: number | null;
  /** Device and Sensor Status bits; null when not sent. */
  deviceAndSensorStatus: number | null;
  /** Pulse amplitude index, percent; null when not sent. */
  pulseAmplitudeIndex: MedFloat | null;
  /** The oximeter's clock was never set: its timestamp means nothing. */
  deviceClockNotSet: boolean;
}

/** A decoded PLX Continuous Measurement (0x2A5F). */
export interface PlxContinuousMeasurement {
  /** SpO2 and pulse rate, normal averaging. */
  normal: SpO2PR;
  /** With fast averaging; null when not sent. */
  fast: SpO2PR | null;
  /** With slow averaging; null when not sent. */
  slow: SpO2PR | null;
  /** Measurement Status bits (`PLX_MEASUREMENT_STATUS`); null when not sent. */
  measurementStatus: number | null;
  /** Device and Sensor Status bits; null when not sent. */
  deviceAndSensorStatus: number | null;
  /** Pulse amplitude index, percent; null when not sent. */
  pulseAmplitudeIndex: MedFloat | null;
}

export const PLX_SPOT_CHECK_FLAGS = {
  TIMESTAMP: 0x01,
  MEASUREMENT_STATUS: 0x02,
  DEVICE_AND_SENSOR_STATUS: 0x04,
  PULSE_AMPLITUDE_INDEX: 0x08,
  DEVICE_CLOCK_NOT_SET: 0x10,
} as const;

export const PLX_CONTINUOUS_FLAGS = {
  SPO2PR_FAST: 0x01,
  SPO2PR_SLOW: 0x02,
  MEASUREMENT_STATUS: 0x04,
  DEVICE_AND_SENSOR_STATUS: 0x08,
  PULSE_AMPLITUDE_INDEX: 0x10,
} as const;

/** Measurement Status bits (uint16; bits 0–4 reserved). */
export const PLX_MEASUREMENT_STATUS = {
  MEASUREMENT_ONGOING: 1 << 5,
  EARLY_ESTIMATED_DATA: 1 << 6,
  VALIDATED_DATA: 1 << 7,
  FULLY_QUALIFIED_DATA: 1 << 8,
  DATA_FROM_MEASUREMENT_STORAGE: 1 << 9,
  DATA_FOR_DEMONSTRATION: 1 << 10,
  DATA_FOR_TESTING: 1 << 11,
  CALIBRATION_ONGOING: 1 << 12,
  MEASUREMENT_UNAVAILABLE: 1 << 13,
  QUESTIONABLE_MEASUREMENT_DETECTED: 1 << 14,
  INVALID_MEASUREMENT_DETECTED: 1 << 15,
} as const;

/** Device and Sensor Status bits (uint24; bits 16–23 reserved). */
export const PLX_DEVICE_STATUS = {
  EXTENDED_DISPLAY_UPDATE_ONGOING: 1 << 0,
  EQUIPMENT_MALFUNCTION_DETECTED: 1 << 1,
  SIGNAL_PROCESSING_IRREGULARITY_DETECTED: 1 << 2,
  INADEQUATE_SIGNAL_DETECTED: 1 << 3,
  POOR_SIGNAL_DETECTED: 1 << 4,
  LOW_PERFUSION_DETECTED: 1 << 5,
  ERRATIC_SIGNAL_DETECTED: 1 << 6,
  NONPULSATILE_SIGNAL_DETECTED: 1 << 7,
  QUESTIONABLE_PULSE_DETECTED: 1 << 8,
  SIGNAL_ANALYSIS_ONGOING: 1 << 9,
  SENSOR_INTERFERENCE_DETECTED: 1 << 10,
  SENSOR_UNCONNECTED_TO_USER: 1 << 11,
  UNKNOWN_SENSOR_CONNECTED: 1 << 12,
  SENSOR_DISPLACED: 1 << 13,
  SENSOR_MALFUNCTIONING: 1 << 14,
  SENSOR_DISCONNECTED: 1 << 15,
} as const;

/** Status bits that make a reading unfit to show a clinician (demo/test data included). */
const UNFIT_MEASUREMENT =
  PLX_MEASUREMENT_STATUS.DATA_FOR_DEMONSTRATION |
  PLX_MEASUREMENT_STATUS.DATA_FOR_TESTING |
  PLX_MEASUREMENT_STATUS.CALIBRATION_ONGOING |
  PLX_MEASUREMENT_STATUS.MEASUREMENT_UNAVAILABLE |
  PLX_MEASUREMENT_STATUS.QUESTIONABLE_MEASUREMENT_DETECTED |
  PLX_MEASUREMENT_STATUS.INVALID_MEASUREMENT_DETECTED;
const UNFIT_DEVICE =
  PLX_DEVICE_STATUS.EQUIPMENT_MALFUNCTION_DETECTED |
  PLX_DEVICE_STATUS.SENSOR_UNCONNECTED_TO_USER |
  PLX_DEVICE_STATUS.UNKNOWN_SENSOR_CONNECTED |
  PLX_DEVICE_STATUS.SENSOR_DISPLACED |
  PLX_DEVICE_STATUS.SENSOR_MALFUNCTIONING |
  PLX_DEVICE_STATUS.SENSOR_DISCONNECTED;

/** Whether the status fields (when present) say the reading can be trusted. */
export function plxReadingFit(m: { measurementStatus: number | null; deviceAndSensorStatus: number | null }): boolean {
  return (
    ((m.measurementStatus ?? 0) & UNFIT_MEASUREMENT) === 0 && ((m.deviceAndSensorStatus ?? 0) & UNFIT_DEVICE) === 0
  );
}

function spo2pr(r: GattReader, label: string): SpO2PR {
  return { spo2: r.sfloat(`${label} SpO2`), pulseRate: r.sfloat(`${label} PR`) };
}

/** Decodes a PLX Spot-Check Measurement value. @throws GattParseError when it does not match the layout. */
export function parsePlxSpotCheck(value: DataView | ArrayBuffer | Uint8Array): PlxSpotCheckMeasurement {
  const r = new GattReader(value, 'PLX Spot-Check Measurement');
  const flags = r.uint8('flags');
  const { spo2, pulseRate } = spo2pr(r, 'SpO2PR-Spot-Check');
  const f = PLX_SPOT_CHECK_FLAGS;
  return {
    spo2,
    pulseRate,
    timestamp: flags & f.TIMESTAMP ? r.dateTime('timestamp') : null,
    measurementStatus: flags & f.MEASUREMENT_STATUS ? r.uint16('measurement status') : null,
    deviceAndSensorStatus: flags & f.DEVICE_AND_SENSOR_STATUS ? r.uint24('device and sensor status') : null,
    pulseAmplitudeIndex: flags & f.PULSE_AMPLITUDE_INDEX ? r.sfloat('pulse amplitude index') : null,
    deviceClockNotSet: (flags & f.DEVICE_CLOCK_NOT_SET) !== 0,
  };
}

/** Decodes a PLX Continuous Measurement value. @throws GattParseError when it does not match the layout. */
export function parsePlxContinuous(value: DataView | ArrayBuffer | Uint8Array): PlxContinuousMeasurement {
  const r = new GattReader(value, 'PLX Continuous Measurement');
  const flags = r.uint8('flags');
  const f = PLX_CONTINUOUS_FLAGS;
  const normal = spo2pr(r, 'SpO2PR-Normal');
  const fast = flags & f.SPO2PR_FAST ? spo2pr(r, 'SpO2PR-Fast') : null;
  const slow = flags & f.SPO2PR_SLOW ? spo2pr(r, 'SpO2PR-Slow') : null;
  return {
    normal,
    fast,
    slow,
    measurementStatus: flags & f.MEASUREMENT_STATUS ? r.uint16('measurement status') : null,
    deviceAndSensorStatus: flags & f.DEVICE_AND_SENSOR_STATUS ? r.uint24('device and sensor status') : null,
    pulseAmplitudeIndex: flags & f.PULSE_AMPLITUDE_INDEX ? r.sfloat('pulse amplitude index') : null,
  };
}

function spo2prSamples(v: SpO2PR, at: string, device: VitalsDeviceInfo): VitalsSample[] {
  const out: VitalsSample[] = [];
  if (v.spo2.special === null) out.push({ type: 'spo2', value: v.spo2.value, unit: '%', at, device });
  if (v.pulseRate.special === null) out.push({ type: 'heartRate', value: v.pulseRate.value, unit: '/min', at, device });
  return out;
}

/** SpO2 and pulse-rate samples of a continuous measurement (the "normal" averaging), if the status allows. */
export function plxContinuousSamples(
  m: PlxContinuousMeasurement,
  receivedAt: number,
  device: VitalsDeviceInfo,
): VitalsSample[] {
  return plxReadingFit(m) ? spo2prSamples(m.normal, new Date(receivedAt).toISOString(), device) : [];
}

/** Spot-check samples, at the oximeter's timestamp when its clock is set, else when received. */
export function plxSpotCheckSamples(
  m: PlxSpotCheckMeasurement,
  receivedAt: number,
  device: VitalsDeviceInfo,
): VitalsSample[] {
  if (!plxReadingFit(m)) return [];
  const stamped = m.timestamp && !m.deviceClockNotSet ? dateTimeToMs(m.timestamp) : null;
  return spo2prSamples(m, new Date(stamped ?? receivedAt).toISOString(), device);
}
