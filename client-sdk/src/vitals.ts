/**
 * `@huizhen/client-sdk/vitals`: wearable devices (Web Bluetooth GATT, simulated,
 * manual entry) and their parsers as an entry point of its own; only the
 * patient's page that connects a device needs them. `room.vitals` itself is
 * part of the room and needs no import.
 */
export * from './vitals/index.js';
export {
  VITALS_TOPIC,
  VITAL_TYPES,
  VITALS_UNITS,
  VITALS_RANGES,
  VITALS_LIMITS,
  VITALS_LOINC,
  VitalsError,
  parseVitalsSample,
  parseVitalsMessage,
  checkSampleTime,
  type VitalType,
  type VitalsSample,
  type VitalsDeviceInfo,
  type VitalsProblem,
  type NumericVitalsSample,
  type BloodPressureSample,
  type WaveformSample,
  type Waveform,
} from '@huizhen/protocol';
