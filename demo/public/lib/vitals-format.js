/**
 * How the demo names and prints vitals: labels, units as people read them
 * (the wire carries UCUM: '/min', 'Cel', 'mm[Hg]'), and the number itself.
 */

export const VITAL_LABELS = Object.freeze({
  heartRate: 'Heart rate',
  spo2: 'SpO₂',
  respiratoryRate: 'Resp. rate',
  bodyTemperature: 'Temp.',
  bloodPressure: 'Blood pressure',
  bloodGlucose: 'Glucose',
  waveform: 'Pleth',
});

/** The order numbers appear in on a tile. */
export const VITAL_ORDER = ['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature', 'bloodPressure', 'bloodGlucose'];

const UNIT_TEXT = { '/min': '/min', '%': '%', Cel: '°C', 'mm[Hg]': 'mmHg', 'mg/dL': 'mg/dL', 'mmol/L': 'mmol/L' };

/** @param {string} unit */
export function unitText(unit) {
  return UNIT_TEXT[unit] ?? unit;
}

/** The value of a sample as a clinician reads it ("128/82", "36.8", "97"). @param {any} sample */
export function valueText(sample) {
  if (sample.type === 'bloodPressure') return `${Math.round(sample.systolic)}/${Math.round(sample.diastolic)}`;
  if (sample.type === 'bodyTemperature') return sample.value.toFixed(1);
  if (sample.type === 'bloodGlucose' && sample.unit === 'mmol/L') return sample.value.toFixed(1);
  return String(Math.round(sample.value));
}

/** The number a trend line plots for a sample (systolic for blood pressure). @param {any} sample */
export function trendValue(sample) {
  return sample.type === 'bloodPressure' ? sample.systolic : sample.value;
}

/** ms since the epoch of a sample's `at` (ISO string or number). @param {any} sample */
export function sampleTime(sample) {
  return typeof sample.at === 'number' ? sample.at : Date.parse(sample.at);
}
