import { describe, expect, it } from 'vitest';
import { VitalsError, type VitalsSample } from '@huizhen/protocol';
import { manualVitalsEntry, manualVitalsSample } from './manualEntry.js';

const NOW = Date.UTC(2026, 2, 1, 10, 0, 0);
const refusal = (fn: () => unknown): VitalsError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof VitalsError) return err;
    throw err;
  }
  throw new Error('expected a VitalsError');
};

describe('manualVitalsSample', () => {
  it('turns typed text into a sample with the default unit and now', () => {
    expect(manualVitalsSample({ type: 'heartRate', value: ' 72 ' }, { now: NOW })).toEqual({
      type: 'heartRate',
      value: 72,
      unit: '/min',
      at: '2026-03-01T10:00:00.000Z',
      device: { id: 'manual', name: 'Entered by hand', kind: 'manual' },
    });
    expect(manualVitalsSample({ type: 'bodyTemperature', value: '36,8' }, { now: NOW })).toMatchObject({
      value: 36.8,
      unit: 'Cel',
    });
    expect(manualVitalsSample({ type: 'bloodGlucose', value: '6.1', unit: 'mmol/L' }, { now: NOW })).toMatchObject({
      value: 6.1,
      unit: 'mmol/L',
    });
  });

  it('converts Fahrenheit, reads "128/82", keeps an earlier measurement time', () => {
    expect(manualVitalsSample({ type: 'bodyTemperature', value: 100.4, unit: '[degF]' }, { now: NOW })).toMatchObject({
      value: 38,
      unit: 'Cel',
    });
    const bp = manualVitalsSample({ type: 'bloodPressure', reading: '128 / 82', at: '2026-03-01T09:40:00Z' });
    expect(bp).toMatchObject({ systolic: 128, diastolic: 82, unit: 'mm[Hg]', at: '2026-03-01T09:40:00Z' });
    expect(manualVitalsSample({ type: 'bloodPressure', systolic: '118', diastolic: 76 }, { now: NOW })).toMatchObject({
      systolic: 118,
      diastolic: 76,
    });
  });

  it('refuses what is not a number, implausible values, wrong units and bad BP text', () => {
    expect(refusal(() => manualVitalsSample({ type: 'heartRate', value: '7O' })).message).toBe(
      'value: must be a number',
    );
    expect(refusal(() => manualVitalsSample({ type: 'heartRate', value: '1e3' })).reason).toBe('shape');
    expect(refusal(() => manualVitalsSample({ type: 'spo2', value: '104' })).reason).toBe('range');
    expect(refusal(() => manualVitalsSample({ type: 'bloodGlucose', value: 6, unit: 'mmol' })).reason).toBe('unit');
    expect(refusal(() => manualVitalsSample({ type: 'bloodPressure', reading: '80/120' })).message).toBe(
      'systolic: must be greater than diastolic',
    );
    expect(refusal(() => manualVitalsSample({ type: 'bloodPressure', reading: '120-80' })).path).toBe('reading');
    expect(refusal(() => manualVitalsSample({ type: 'bloodPressure', systolic: 120 })).path).toBe('diastolic');
  });
});

describe('manualVitalsEntry', () => {
  it('emits what record() accepts, nothing when it refuses, and refuses after stop', async () => {
    const entry = manualVitalsEntry({ name: 'Glucose meter' });
    const got: VitalsSample[] = [];
    entry.on('sample', (s) => got.push(s));
    entry.record({ type: 'bloodGlucose', value: '104' }, NOW);
    expect(() => entry.record({ type: 'bloodGlucose', value: '2000' }, NOW)).toThrow(VitalsError);
    expect(got).toHaveLength(1);
    expect(got[0]!.device).toEqual({ id: 'manual', name: 'Glucose meter', kind: 'manual' });
    expect(entry.state).toBe('running');
    await entry.stop();
    expect(() => entry.record({ type: 'heartRate', value: 70 })).toThrow(/stopped/);
  });
});
