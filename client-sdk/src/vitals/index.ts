/** Wearable vitals: devices (Bluetooth, simulated, manual entry), GATT parsers and `room.vitals`. */
export {
  VitalsDeviceBase,
  VitalsDeviceError,
  type VitalsDevice,
  type VitalsDeviceEvents,
  type VitalsDeviceFailure,
  type VitalsDeviceState,
} from './VitalsDevice.js';
export {
  BluetoothVitalsDevice,
  bluetoothVitalsDevice,
  hasWebBluetooth,
  VITALS_GATT_SERVICES,
  VITALS_GATT_CHARACTERISTICS,
  type BluetoothVitalsOptions,
  type VitalsGattService,
} from './bluetoothDevice.js';
export { SimulatedVitalsDevice, simulatedVitalsDevice, type SimulatedVitalsOptions } from './simulatedDevice.js';
export { VitalsSimulation, type SimulatedReading, type VitalsSimulationOptions } from './VitalsSimulation.js';
export {
  ManualVitalsEntry,
  manualVitalsEntry,
  manualVitalsSample,
  MANUAL_DEVICE,
  type ManualVitalsInput,
  type TypedNumber,
} from './manualEntry.js';
export {
  RoomVitals,
  type RoomVitalsEvents,
  type RoomVitalsOptions,
  type RoomVitalsStats,
  type VitalsAlert,
  type VitalsDataChannel,
  type VitalsParticipant,
} from './RoomVitals.js';
export type { VitalsOutboxStats } from './VitalsOutbox.js';
export {
  decodeSfloat,
  decodeFloat,
  encodeSfloat,
  encodeFloat,
  type MedFloat,
  type MedFloatSpecial,
} from './gatt/ieee11073.js';
export { GattParseError, type GattDateTime } from './gatt/GattReader.js';
export { parseHeartRateMeasurement, type HeartRateMeasurement, type SensorContact } from './gatt/heartRate.js';
export {
  parsePlxContinuous,
  parsePlxSpotCheck,
  type PlxContinuousMeasurement,
  type PlxSpotCheckMeasurement,
} from './gatt/plx.js';
export { parseBloodPressureMeasurement, type BloodPressureMeasurement } from './gatt/bloodPressure.js';
export { parseTemperatureMeasurement, type TemperatureMeasurement } from './gatt/thermometer.js';
export type {
  Bluetooth,
  BluetoothDevice,
  BluetoothRemoteGATTCharacteristic,
  BluetoothRemoteGATTServer,
  BluetoothRemoteGATTService,
} from './webBluetooth.js';
