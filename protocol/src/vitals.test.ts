import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  HuizhenError,
  VITALS_LIMITS,
  VITALS_LOINC,
  VITALS_RANGES,
  VITALS_UNITS,
  VitalsError,
  checkSampleTime,
  loincFor,
  parseVitalsMessage,
  parseVitalsSample,
  parseWith,
  vitalsSample,
  vitalsTimeMs,
  type VitalsProblem,
  type VitalsSample,
} from './index.js';

const AT = '2026-03-01T08:30:00.250Z';
const NOW = Date.parse(AT);

const hr = (over: Record<string, unknown> = {}) => ({ type: 'heartRate', value: 72, unit: '/min', at: AT, ...over });
const bp = (over: Record<string, unknown> = {}) => ({
  type: 'bloodPressure',
  systolic: 128,
  diastolic: 82,
  unit: 'mm[Hg]',
  at: AT,
  ...over,
});
const wave = (samples: number[], over: Record<string, unknown> = {}) => ({
  type: 'waveform',
  unit: '1',
  at: AT,
  waveform: { kind: 'ppg', sampleRateHz: 50, samples, unit: '1' },
  ...over,
});

/** The VitalsError a parse raises (fails the test when it does not raise one). */
function refusal(fn: () => unknown): VitalsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof VitalsError) return err;
    throw err;
  }
  throw new Error('expected a VitalsError');
}
const refused = (value: unknown): { reason: VitalsProblem; message: string } => {
  const err = refusal(() => parseVitalsSample(value));
  return { reason: err.reason, message: err.message };
};

describe('vitals sample', () => {
  it('accepts every type in its units, with device identity', () => {
    const good: VitalsSample[] = [
      {
        type: 'heartRate',
        value: 72,
        unit: '/min',
        at: AT,
        device: { id: 'AA:BB', name: 'Polar H10', kind: 'bluetooth' },
      },
      { type: 'spo2', value: 97, unit: '%', at: NOW },
      { type: 'respiratoryRate', value: 14, unit: '/min', at: AT },
      { type: 'bodyTemperature', value: 36.8, unit: 'Cel', at: '2026-03-01T16:30:00+08:00' },
      { type: 'bloodPressure', systolic: 128, diastolic: 82, value: 97, unit: 'mm[Hg]', at: AT },
      { type: 'bloodGlucose', value: 104, unit: 'mg/dL', at: AT, device: { id: 'manual', kind: 'manual' } },
      { type: 'bloodGlucose', value: 5.8, unit: 'mmol/L', at: AT },
      {
        type: 'waveform',
        unit: 'mV',
        at: AT,
        waveform: { kind: 'ecg', sampleRateHz: 250, samples: [0.1, 0.9, -0.2], unit: 'mV' },
      },
    ];
    for (const s of good) expect(parseVitalsSample(s)).toEqual(s);
    // The zod schema itself enforces the same rules (for parseWith users).
    expect(() => parseWith(vitalsSample, hr({ value: 500 }))).toThrow(/value: must be within 20–300/);
  });

  it('refuses a wrong unit for the type', () => {
    expect(refused(hr({ unit: 'bpm' }))).toEqual({ reason: 'unit', message: 'unit: must be "/min" for heartRate' });
    expect(refused({ type: 'bodyTemperature', value: 98.6, unit: '[degF]', at: AT }).reason).toBe('unit');
    expect(refused({ type: 'spo2', value: 0.97, unit: '1', at: AT }).reason).toBe('unit');
    expect(refused(bp({ unit: 'kPa' })).reason).toBe('unit');
    expect(refused({ type: 'bloodGlucose', value: 5.5, unit: 'mmol/l', at: AT }).message).toBe(
      'unit: must be "mg/dL" or "mmol/L" for bloodGlucose',
    );
  });

  it('refuses implausible values at the edges of each range, never echoing the value', () => {
    const cases: [string, string, number, number][] = [
      ['heartRate', '/min', 20, 300],
      ['spo2', '%', 50, 100],
      ['respiratoryRate', '/min', 2, 80],
      ['bodyTemperature', 'Cel', 25, 45],
      ['bloodGlucose', 'mg/dL', 10, 1000],
      ['bloodGlucose', 'mmol/L', 0.55, 55.5],
    ];
    for (const [type, unit, lo, hi] of cases) {
      const ranges: Record<string, readonly [number, number]> = VITALS_RANGES[type as 'spo2'];
      expect(ranges[unit]).toEqual([lo, hi]);
      expect(() => parseVitalsSample({ type, unit, value: lo, at: AT })).not.toThrow();
      expect(() => parseVitalsSample({ type, unit, value: hi, at: AT })).not.toThrow();
      for (const bad of [lo - 0.01, hi + 0.01]) {
        const r = refused({ type, unit, value: bad, at: AT });
        expect(r.reason).toBe('range');
        expect(r.message).toMatch(/^value: must be within /);
        expect(r.message).not.toContain(String(bad));
      }
    }
  });

  it('checks blood pressure: both numbers, their ranges, systolic above diastolic, mean between', () => {
    expect(refused(bp({ systolic: undefined })).message).toBe('systolic: is required');
    expect(refused(bp({ systolic: 39 })).reason).toBe('range');
    expect(refused(bp({ systolic: 301 })).reason).toBe('range');
    expect(refused(bp({ diastolic: 19 })).message).toBe('diastolic: must be within 20–200 mm[Hg]');
    expect(refused(bp({ systolic: 80, diastolic: 80 })).message).toBe('systolic: must be greater than diastolic');
    expect(refused(bp({ systolic: 70, diastolic: 90 })).reason).toBe('range');
    expect(refused(bp({ value: 130 })).message).toBe('value: mean pressure must lie between diastolic and systolic');
    expect(() => parseVitalsSample(bp({ value: 82 }))).not.toThrow();
  });

  it('refuses fields that do not belong to the type, unknown fields and non-finite numbers', () => {
    expect(refused(hr({ systolic: 120 })).message).toBe('systolic: is not allowed for heartRate');
    expect(refused(hr({ value: undefined })).message).toBe('value: is required');
    expect(refused(bp({ waveform: { kind: 'ppg', sampleRateHz: 50, samples: [1], unit: '1' } })).reason).toBe('shape');
    expect(refused(hr({ extra: 1 })).message).toBe('has unknown field "extra"');
    expect(refused(hr({ value: Number.NaN })).reason).toBe('shape');
    expect(refused(hr({ value: Number.POSITIVE_INFINITY })).reason).toBe('shape');
    expect(refused(hr({ value: '72' })).message).toBe('value: expected number');
    expect(refused(hr({ type: 'weight' })).message).toMatch(/^type: must be one of "heartRate", "spo2"/);
    expect(refused(hr({ device: { id: 'x', kind: 'usb' } })).message).toMatch(/^device\.kind: must be one of/);
    expect(refused(hr({ device: { id: '', kind: 'manual' } })).reason).toBe('shape');
    expect(refused(null).reason).toBe('shape');
  });

  it('reports malformed nested values as shape problems, not crashes', () => {
    expect(refused(wave([1], { waveform: 5 })).message).toBe('waveform: expected object');
    expect(refused(wave([1], { waveform: { kind: 'x' } })).message).toMatch(/^waveform\.kind: must be one of/);
    expect(refused(bp({ systolic: 'a' })).message).toBe('systolic: expected number');
    expect(refused(hr({ at: {} })).reason).toBe('shape');
    for (const v of [5, [], 'text', undefined]) expect(refused(v).message).toBe('expected object');
  });

  it('accepts ISO-8601 with a zone or integer epoch ms, and nothing else', () => {
    expect(() => parseVitalsSample(hr({ at: '2026-03-01T08:30Z' }))).not.toThrow();
    expect(() => parseVitalsSample(hr({ at: '2026-03-01T08:30:00.123456-05:00' }))).not.toThrow();
    for (const at of ['2026-03-01T08:30:00', '2026-03-01', 'yesterday', '2026-13-45T99:00:00Z', NOW + 0.5, 0, -1]) {
      const r = refused(hr({ at }));
      expect(r.reason).toBe('shape');
      expect(r.message).toMatch(/^at: must be/);
    }
    expect(vitalsTimeMs(AT)).toBe(NOW);
    expect(vitalsTimeMs('1999-12-31T23:59:59Z')).toBeNaN();
  });

  it('bounds waveforms: kind, unit, rate, point count and amplitude', () => {
    expect(() => parseVitalsSample(wave([1, 2, 3]))).not.toThrow();
    expect(refused(wave([1], { unit: 'mV' })).message).toBe('unit: must equal waveform.unit');
    expect(
      refused(wave([1], { unit: 'mV', waveform: { kind: 'ppg', sampleRateHz: 50, samples: [1], unit: 'mV' } })).message,
    ).toBe('waveform.unit: must be "1" for ppg');
    expect(refused(wave([1], { waveform: undefined })).message).toBe('waveform: is required');
    expect(refused(wave([1], { value: 3 })).message).toBe('value: is not allowed for waveform');
    const rate = (sampleRateHz: number) =>
      wave([1], { waveform: { kind: 'ppg', sampleRateHz, samples: [1], unit: '1' } });
    expect(refused(rate(0.5)).reason).toBe('shape');
    expect(refused(rate(VITALS_LIMITS.maxSampleRateHz + 1)).reason).toBe('shape');
    expect(() => parseVitalsSample(wave(new Array<number>(VITALS_LIMITS.maxWaveformPoints).fill(0)))).not.toThrow();
    expect(refused(wave(new Array<number>(VITALS_LIMITS.maxWaveformPoints + 1).fill(0))).message).toBe(
      `waveform.samples: must have at most ${VITALS_LIMITS.maxWaveformPoints} items`,
    );
    expect(refused(wave([])).reason).toBe('shape');
    const ecg = (samples: number[]) => ({
      type: 'waveform',
      unit: 'mV',
      at: AT,
      waveform: { kind: 'ecg', sampleRateHz: 250, samples, unit: 'mV' },
    });
    expect(refused(ecg([0.2, 51])).message).toBe('waveform.samples[1]: must be within -50–50 mV');
  });

  it('is a typed HuizhenError with the VITALS_INVALID code and the path', () => {
    const err = refusal(() => parseVitalsSample(hr({ value: 5 }), 'samples[3]'));
    expect(err).toBeInstanceOf(HuizhenError);
    expect(err.code).toBe(ErrorCode.VITALS_INVALID);
    expect(err.path).toBe('samples[3].value');
    expect(err.toWire()).toEqual({ code: 'VITALS_INVALID', message: err.message });
  });
});

describe('vitals message', () => {
  it('parses JSON text, UTF-8 bytes or objects', () => {
    const msg = { samples: [hr(), bp()] };
    expect(parseVitalsMessage(msg)).toEqual(msg);
    expect(parseVitalsMessage(JSON.stringify(msg))).toEqual(msg);
    expect(parseVitalsMessage(new TextEncoder().encode(JSON.stringify(msg)))).toEqual(msg);
  });

  it('names the bad sample by index', () => {
    const err = refusal(() => parseVitalsMessage({ samples: [hr(), hr({ unit: '/s' })] }));
    expect([err.reason, err.message]).toEqual(['unit', 'samples[1].unit: must be "/min" for heartRate']);
  });

  it('refuses non-JSON, empty, too many samples and too many waveform points in total', () => {
    expect(refusal(() => parseVitalsMessage('{"samples": [')).message).toBe('is not JSON');
    expect(refusal(() => parseVitalsMessage({ samples: [] })).message).toBe('samples: must have at least 1 items');
    expect(refusal(() => parseVitalsMessage({})).message).toBe('samples: expected array');
    const many = new Array<unknown>(VITALS_LIMITS.maxSamplesPerMessage + 1).fill(hr());
    expect(refusal(() => parseVitalsMessage({ samples: many })).message).toBe(
      `samples: must have at most ${VITALS_LIMITS.maxSamplesPerMessage} items`,
    );
    expect(() => parseVitalsMessage({ samples: many.slice(1) })).not.toThrow();
    const half = new Array<number>(VITALS_LIMITS.maxWaveformPoints / 2).fill(0);
    expect(() => parseVitalsMessage({ samples: [wave(half), wave(half)] })).not.toThrow();
    const err = refusal(() => parseVitalsMessage({ samples: [wave(half), wave(half), wave([0])] }));
    expect(err.message).toBe(`samples: carries more than ${VITALS_LIMITS.maxWaveformPoints} waveform points in total`);
  });
});

describe('checkSampleTime', () => {
  const opts = { maxFutureMs: 5_000, maxAgeMs: 60_000 };
  it('returns the measurement time in ms within the window', () => {
    expect(checkSampleTime(hr() as VitalsSample, NOW, opts)).toBe(NOW);
    expect(checkSampleTime({ at: NOW + 5_000 }, NOW, opts)).toBe(NOW + 5_000);
    expect(checkSampleTime({ at: NOW - 60_000 }, NOW, opts)).toBe(NOW - 60_000);
  });
  it('refuses future-dated and stale samples', () => {
    const future = refusal(() => checkSampleTime({ at: NOW + 5_001 }, NOW, opts));
    expect([future.reason, future.code, future.message]).toEqual([
      'future',
      'VITALS_INVALID',
      'at: is more than 5000 ms in the future',
    ]);
    expect(refusal(() => checkSampleTime({ at: NOW - 60_001 }, NOW, opts)).reason).toBe('stale');
    // Defaults: a minute of skew, a day of age.
    expect(refusal(() => checkSampleTime({ at: NOW + 61_000 }, NOW)).reason).toBe('future');
    expect(checkSampleTime({ at: NOW + 59_000 }, NOW)).toBe(NOW + 59_000);
    expect(refusal(() => checkSampleTime({ at: 'soon' }, NOW)).reason).toBe('shape');
  });
});

describe('LOINC and UCUM table', () => {
  it('has the vital-signs codes FHIR Observations need', () => {
    expect(VITALS_LOINC.heartRate.code).toBe('8867-4');
    expect(VITALS_LOINC.spo2.code).toBe('59408-5');
    expect(VITALS_LOINC.respiratoryRate.code).toBe('9279-1');
    expect(VITALS_LOINC.bodyTemperature.code).toBe('8310-5');
    expect(VITALS_LOINC.bloodPressure.code).toBe('85354-9');
    expect(VITALS_LOINC.bloodPressure.components.systolic.code).toBe('8480-6');
    expect(VITALS_LOINC.bloodPressure.components.diastolic.code).toBe('8462-4');
    expect(VITALS_LOINC.bloodGlucose.code).toBe('2339-0');
    expect(loincFor({ type: 'bloodGlucose', unit: 'mg/dL' })?.code).toBe('2339-0');
    expect(loincFor({ type: 'bloodGlucose', unit: 'mmol/L' })?.code).toBe('15074-8');
    expect(loincFor({ type: 'waveform', unit: '1' })).toBeNull();
    expect(VITALS_UNITS.bloodPressure).toEqual(['mm[Hg]']);
  });
});
