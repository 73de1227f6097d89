/**
 * The GATT parsers on byte sequences built by hand from the Bluetooth SIG
 * layouts (little-endian; SFLOAT = 4-bit exponent | 12-bit mantissa, FLOAT =
 * 8-bit exponent | 24-bit mantissa). The builders below write bytes, not
 * through the encoders under test.
 */
import { describe, expect, it } from 'vitest';
import { parseVitalsSample, type VitalsDeviceInfo } from '@huizhen/protocol';
import { GattParseError, dateTimeToMs } from './GattReader.js';
import { bloodPressureSamples, parseBloodPressureMeasurement, PA_PER_MMHG } from './bloodPressure.js';
import { heartRateSamples, parseHeartRateMeasurement } from './heartRate.js';
import { decodeFloat, decodeSfloat, encodeFloat, encodeSfloat } from './ieee11073.js';
import {
  PLX_DEVICE_STATUS,
  PLX_MEASUREMENT_STATUS,
  parsePlxContinuous,
  parsePlxSpotCheck,
  plxContinuousSamples,
  plxSpotCheckSamples,
} from './plx.js';
import { fahrenheitToCelsius, parseTemperatureMeasurement, temperatureSamples } from './thermometer.js';

const u8 = (v: number) => [v & 0xff];
const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u24 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
/** SFLOAT bytes: exponent nibble 'e' (0..15 two's complement), mantissa 12 bits. */
const sf = (mantissa: number, exponent = 0) => u16(((exponent & 0xf) << 12) | (mantissa & 0xfff));
const fl = (mantissa: number, exponent = 0) => [...u24(mantissa & 0xffffff), exponent & 0xff];
const dt = (y: number, mo: number, d: number, h: number, mi: number, s: number) => [...u16(y), mo, d, h, mi, s];
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());
const DEV: VitalsDeviceInfo = { id: 'dev-1', name: 'Cuff', kind: 'bluetooth' };
const NOW = Date.UTC(2026, 2, 1, 8, 0, 0);

describe('IEEE 11073 SFLOAT', () => {
  it('decodes mantissa × 10^exponent with signed fields', () => {
    expect(decodeSfloat(0x0048)).toEqual({ value: 72, special: null }); // 72 × 10^0
    expect(decodeSfloat(0xf16d)).toEqual({ value: 36.5, special: null }); // 365 × 10^-1
    expect(decodeSfloat(0xe3e8).value).toBeCloseTo(10, 12); // 1000 × 10^-2
    expect(decodeSfloat(0x2001)).toEqual({ value: 100, special: null }); // 1 × 10^2
    expect(decodeSfloat(0x0fff)).toEqual({ value: -1, special: null }); // mantissa -1
    expect(decodeSfloat(0x0803).value).toBe(-2045); // lowest normal mantissa
    expect(decodeSfloat(0x87fd).value).toBeCloseTo(2045e-8, 18); // exponent -8
    expect(decodeSfloat(0x7001).value).toBe(1e7); // exponent +7
  });

  it('decodes the special values', () => {
    const nan = decodeSfloat(0x07ff);
    expect(nan.special).toBe('NaN');
    expect(nan.value).toBeNaN();
    expect(decodeSfloat(0x0800).special).toBe('NRes');
    expect(decodeSfloat(0x0800).value).toBeNaN();
    expect(decodeSfloat(0x07fe)).toEqual({ value: Number.POSITIVE_INFINITY, special: '+INF' });
    expect(decodeSfloat(0x0802)).toEqual({ value: Number.NEGATIVE_INFINITY, special: '-INF' });
    expect(decodeSfloat(0x0801).special).toBe('reserved');
    // The same mantissas with a non-zero exponent are ordinary numbers.
    expect(decodeSfloat(0x17ff)).toEqual({ value: 20470, special: null });
  });

  it('round-trips through the encoder', () => {
    for (const [m, e] of [
      [72, 0],
      [365, -1],
      [-12, 3],
      [2047, 1],
      [-2048, -8],
    ] as const)
      expect(decodeSfloat(encodeSfloat(m, e)).value).toBeCloseTo(e < 0 ? m / 10 ** -e : m * 10 ** e, 12);
    expect(() => encodeSfloat(2048, 0)).toThrow(RangeError);
    expect(() => encodeSfloat(1, 8)).toThrow(RangeError);
  });
});

describe('IEEE 11073 FLOAT', () => {
  it('decodes 24-bit mantissa and 8-bit exponent', () => {
    expect(decodeFloat(0xff00016d)).toEqual({ value: 36.5, special: null });
    expect(decodeFloat(0xfe000e42).value).toBeCloseTo(36.5, 12); // 3650 × 10^-2
    expect(decodeFloat(0x00fffffe).value).toBe(-2); // negative mantissa
    expect(decodeFloat(0x02000003).value).toBe(300);
  });
  it('decodes the special values', () => {
    expect(decodeFloat(0x007fffff).special).toBe('NaN');
    expect(decodeFloat(0x00800000).special).toBe('NRes');
    expect(decodeFloat(0x007ffffe)).toEqual({ value: Number.POSITIVE_INFINITY, special: '+INF' });
    expect(decodeFloat(0x00800002)).toEqual({ value: Number.NEGATIVE_INFINITY, special: '-INF' });
    expect(decodeFloat(0x00800001).special).toBe('reserved');
    expect(decodeFloat(encodeFloat(-367, -1)).value).toBeCloseTo(-36.7, 12);
  });
});

describe('Heart Rate Measurement 0x2A37', () => {
  it('uint8 value, no optional fields, contact not supported', () => {
    expect(parseHeartRateMeasurement(bytes(u8(0x00), u8(72)))).toEqual({
      heartRate: 72,
      sensorContact: 'unsupported',
      energyExpendedKJ: null,
      rrIntervalsMs: [],
    });
  });
  it('uint16 value with contact detected, energy expended and RR intervals', () => {
    const m = parseHeartRateMeasurement(bytes(u8(0x1f), u16(290), u16(1234), u16(1024), u16(512)));
    expect(m).toEqual({
      heartRate: 290,
      sensorContact: 'detected',
      energyExpendedKJ: 1234,
      rrIntervalsMs: [1000, 500],
    });
  });
  it('sensor contact supported but not detected: no sample', () => {
    const m = parseHeartRateMeasurement(bytes(u8(0x04), u8(61)));
    expect(m.sensorContact).toBe('notDetected');
    expect(heartRateSamples(m, NOW, DEV)).toEqual([]);
  });
  it('RR intervals without energy, and a sample with the receive time', () => {
    const m = parseHeartRateMeasurement(bytes(u8(0x16), u8(64), u16(960)));
    expect(m.rrIntervalsMs).toEqual([937.5]);
    expect(m.energyExpendedKJ).toBeNull();
    const [sample] = heartRateSamples(m, NOW, DEV);
    expect(sample).toEqual({ type: 'heartRate', value: 64, unit: '/min', at: '2026-03-01T08:00:00.000Z', device: DEV });
    expect(() => parseVitalsSample(sample)).not.toThrow();
  });
  it('refuses truncated values', () => {
    expect(() => parseHeartRateMeasurement(bytes())).toThrow(GattParseError);
    expect(() => parseHeartRateMeasurement(bytes(u8(0x01), u8(72)))).toThrow(/heart rate needs 2 bytes/);
    expect(() => parseHeartRateMeasurement(bytes(u8(0x08), u8(72), u8(1)))).toThrow(/energy expended/);
    expect(() => parseHeartRateMeasurement(bytes(u8(0x10), u8(72), u8(1)))).toThrow(/RR-Interval/);
    expect(() => parseHeartRateMeasurement(bytes(u8(0x10), u8(72)))).toThrow(/RR-Interval/);
  });
});

describe('PLX Spot-Check Measurement 0x2A5E', () => {
  it('only the required fields', () => {
    const m = parsePlxSpotCheck(bytes(u8(0x00), sf(97), sf(68)));
    expect(m).toEqual({
      spo2: { value: 97, special: null },
      pulseRate: { value: 68, special: null },
      timestamp: null,
      measurementStatus: null,
      deviceAndSensorStatus: null,
      pulseAmplitudeIndex: null,
      deviceClockNotSet: false,
    });
    const samples = plxSpotCheckSamples(m, NOW, DEV);
    expect(samples.map((s) => [s.type, 'value' in s ? s.value : null, s.at])).toEqual([
      ['spo2', 97, '2026-03-01T08:00:00.000Z'],
      ['heartRate', 68, '2026-03-01T08:00:00.000Z'],
    ]);
  });
  it('every optional field, timestamp used when the clock is set', () => {
    const m = parsePlxSpotCheck(
      bytes(u8(0x0f), sf(955, -1), sf(71), dt(2026, 3, 1, 7, 55, 30), u16(1 << 8), u24(1 << 5), sf(42, -1)),
    );
    expect(m.spo2.value).toBe(95.5);
    expect(m.timestamp).toEqual({ year: 2026, month: 3, day: 1, hours: 7, minutes: 55, seconds: 30 });
    expect(m.measurementStatus).toBe(PLX_MEASUREMENT_STATUS.FULLY_QUALIFIED_DATA);
    expect(m.deviceAndSensorStatus).toBe(PLX_DEVICE_STATUS.LOW_PERFUSION_DETECTED);
    expect(m.pulseAmplitudeIndex?.value).toBeCloseTo(4.2, 12);
    const at = plxSpotCheckSamples(m, NOW, DEV)[0]!.at;
    expect(at).toBe(new Date(2026, 2, 1, 7, 55, 30).toISOString());
  });
  it('"device clock is not set" ignores the timestamp', () => {
    const m = parsePlxSpotCheck(bytes(u8(0x11), sf(96), sf(70), dt(2000, 1, 1, 0, 0, 0)));
    expect(m.deviceClockNotSet).toBe(true);
    expect(plxSpotCheckSamples(m, NOW, DEV)[0]!.at).toBe('2026-03-01T08:00:00.000Z');
  });
  it('NaN / NRes values give no sample; unfit status gives none at all', () => {
    const m = parsePlxSpotCheck(bytes(u8(0x00), u16(0x07ff), sf(70)));
    expect(m.spo2.special).toBe('NaN');
    expect(plxSpotCheckSamples(m, NOW, DEV).map((s) => s.type)).toEqual(['heartRate']);
    const nres = parsePlxSpotCheck(bytes(u8(0x00), sf(97), u16(0x0800)));
    expect(plxSpotCheckSamples(nres, NOW, DEV).map((s) => s.type)).toEqual(['spo2']);
    const invalid = parsePlxSpotCheck(bytes(u8(0x02), sf(97), sf(70), u16(1 << 15)));
    expect(plxSpotCheckSamples(invalid, NOW, DEV)).toEqual([]);
    const off = parsePlxSpotCheck(bytes(u8(0x04), sf(97), sf(70), u24(1 << 11)));
    expect(plxSpotCheckSamples(off, NOW, DEV)).toEqual([]);
  });
  it('refuses truncated fields', () => {
    expect(() => parsePlxSpotCheck(bytes(u8(0x01), sf(97), sf(70), [0xe8, 0x07, 3]))).toThrow(/timestamp\.day/);
    expect(() => parsePlxSpotCheck(bytes(u8(0x04), sf(97), sf(70), u16(0)))).toThrow(/device and sensor status/);
  });
});

describe('PLX Continuous Measurement 0x2A5F', () => {
  it('normal only', () => {
    const m = parsePlxContinuous(bytes(u8(0x00), sf(98), sf(64)));
    expect(m.normal.spo2.value).toBe(98);
    expect([m.fast, m.slow, m.measurementStatus, m.deviceAndSensorStatus, m.pulseAmplitudeIndex]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(plxContinuousSamples(m, NOW, DEV)).toHaveLength(2);
  });
  it('every optional field in order', () => {
    const m = parsePlxContinuous(
      bytes(u8(0x1f), sf(97), sf(66), sf(96), sf(67), sf(98), sf(65), u16(1 << 7), u24(0), sf(31, -1)),
    );
    expect(m.fast).toEqual({ spo2: { value: 96, special: null }, pulseRate: { value: 67, special: null } });
    expect(m.slow).toEqual({ spo2: { value: 98, special: null }, pulseRate: { value: 65, special: null } });
    expect(m.measurementStatus).toBe(PLX_MEASUREMENT_STATUS.VALIDATED_DATA);
    expect(m.deviceAndSensorStatus).toBe(0);
    expect(m.pulseAmplitudeIndex?.value).toBeCloseTo(3.1, 12);
  });
  it('slow without fast, status without device status', () => {
    const m = parsePlxContinuous(bytes(u8(0x06), sf(97), sf(66), sf(98), sf(65), u16(1 << 10)));
    expect(m.fast).toBeNull();
    expect(m.slow?.spo2.value).toBe(98);
    expect(m.measurementStatus).toBe(PLX_MEASUREMENT_STATUS.DATA_FOR_DEMONSTRATION);
    expect(plxContinuousSamples(m, NOW, DEV)).toEqual([]); // demonstration data is not a patient's
  });
  it('+INF / -INF pulse rate gives only the SpO2 sample', () => {
    const m = parsePlxContinuous(bytes(u8(0x00), sf(93), u16(0x07fe)));
    expect(m.normal.pulseRate.special).toBe('+INF');
    expect(plxContinuousSamples(m, NOW, DEV).map((s) => s.type)).toEqual(['spo2']);
    expect(parsePlxContinuous(bytes(u8(0x00), sf(93), u16(0x0802))).normal.pulseRate.value).toBe(
      Number.NEGATIVE_INFINITY,
    );
  });
});

describe('Blood Pressure Measurement 0x2A35', () => {
  it('mmHg with no optional fields', () => {
    const m = parseBloodPressureMeasurement(bytes(u8(0x00), sf(121), sf(79), sf(93)));
    expect(m).toMatchObject({ unit: 'mmHg', timestamp: null, pulseRate: null, userId: null, status: null });
    expect(bloodPressureSamples(m, NOW, DEV)).toEqual([
      {
        type: 'bloodPressure',
        systolic: 121,
        diastolic: 79,
        value: 93,
        unit: 'mm[Hg]',
        at: '2026-03-01T08:00:00.000Z',
        device: DEV,
      },
    ]);
  });
  it('kPa, time stamp, pulse rate, user id and status', () => {
    const m = parseBloodPressureMeasurement(
      bytes(u8(0x1f), sf(160, -1), sf(106, -1), sf(124, -1), dt(2026, 2, 28, 21, 5, 0), sf(77), u8(2), u16(0x0d)),
    );
    expect(m.unit).toBe('kPa');
    expect(m.userId).toBe(2);
    expect(m.status).toEqual({
      bodyMovement: true,
      cuffTooLoose: false,
      irregularPulse: true,
      pulseRateRange: 'exceedsUpperLimit',
      improperPosition: false,
    });
    const [bp, pulse] = bloodPressureSamples(m, NOW, DEV);
    // 16.0 kPa = 16000 Pa / 133.322 Pa per mmHg = 120.0 mmHg; 10.6 kPa = 79.5 mmHg.
    expect(bp).toMatchObject({ type: 'bloodPressure', systolic: 120, diastolic: 79.5, value: 93, unit: 'mm[Hg]' });
    expect(bp!.at).toBe(new Date(2026, 1, 28, 21, 5, 0).toISOString());
    expect(pulse).toMatchObject({ type: 'heartRate', value: 77, at: bp!.at });
    expect(() => parseVitalsSample(bp)).not.toThrow();
    expect(Math.round((16000 / PA_PER_MMHG) * 10) / 10).toBe(120);
  });
  it('user id 0xFF means unknown; pulse-rate range and position bits', () => {
    const m = parseBloodPressureMeasurement(bytes(u8(0x18), sf(118), sf(76), sf(90), u8(0xff), u16(0x32)));
    expect(m.userId).toBeNull();
    expect(m.status).toMatchObject({ pulseRateRange: 'belowLowerLimit', improperPosition: true, cuffTooLoose: true });
  });
  it('NaN systolic or NRes MAP', () => {
    const nan = parseBloodPressureMeasurement(bytes(u8(0x04), u16(0x07ff), sf(76), sf(90), sf(70)));
    expect(bloodPressureSamples(nan, NOW, DEV).map((s) => s.type)).toEqual(['heartRate']);
    const nres = parseBloodPressureMeasurement(bytes(u8(0x00), sf(118), sf(76), u16(0x0800)));
    expect(bloodPressureSamples(nres, NOW, DEV)[0]).not.toHaveProperty('value');
  });
  it('refuses a measurement cut short', () => {
    expect(() => parseBloodPressureMeasurement(bytes(u8(0x00), sf(118), sf(76)))).toThrow(/mean arterial/);
    expect(() => parseBloodPressureMeasurement(bytes(u8(0x08), sf(118), sf(76), sf(90)))).toThrow(/user id/);
  });
});

describe('Temperature Measurement 0x2A1C', () => {
  it('Celsius, no optional fields', () => {
    const m = parseTemperatureMeasurement(bytes(u8(0x00), fl(368, -1)));
    expect(m).toEqual({
      unit: 'Cel',
      temperature: { value: 36.8, special: null },
      timestamp: null,
      temperatureType: null,
      site: null,
    });
    expect(temperatureSamples(m, NOW, DEV)).toEqual([
      { type: 'bodyTemperature', value: 36.8, unit: 'Cel', at: '2026-03-01T08:00:00.000Z', device: DEV },
    ]);
  });
  it('Fahrenheit with time stamp and type', () => {
    const m = parseTemperatureMeasurement(bytes(u8(0x07), fl(1013, -1), dt(2026, 3, 1, 7, 59, 0), u8(6)));
    expect(m.unit).toBe('[degF]');
    expect(m.site).toBe('mouth');
    const [s] = temperatureSamples(m, NOW, DEV);
    expect(s).toMatchObject({ type: 'bodyTemperature', value: 38.5, unit: 'Cel' }); // 101.3 °F
    expect(s!.at).toBe(new Date(2026, 2, 1, 7, 59, 0).toISOString());
    expect(fahrenheitToCelsius(98.6)).toBe(37);
  });
  it('unknown type code is kept without a name; an unknown date is ignored', () => {
    const m = parseTemperatureMeasurement(bytes(u8(0x06), fl(370, -1), dt(0, 0, 0, 0, 0, 0), u8(42)));
    expect([m.temperatureType, m.site]).toEqual([42, null]);
    expect(temperatureSamples(m, NOW, DEV)[0]!.at).toBe('2026-03-01T08:00:00.000Z');
  });
  it('FLOAT NaN / NRes / INF give no sample', () => {
    for (const word of [0x007fffff, 0x00800000, 0x007ffffe, 0x00800002]) {
      const m = parseTemperatureMeasurement(bytes(u8(0x00), [...u24(word), word >>> 24]));
      expect(m.temperature.special).not.toBeNull();
      expect(temperatureSamples(m, NOW, DEV)).toEqual([]);
    }
  });
  it('refuses a truncated FLOAT and date', () => {
    expect(() => parseTemperatureMeasurement(bytes(u8(0x00), [1, 2, 3]))).toThrow(/temperature needs 4 bytes/);
    expect(() => parseTemperatureMeasurement(bytes(u8(0x02), fl(370, -1), [0xea, 0x07]))).toThrow(/month/);
  });
});

describe('Date Time', () => {
  it('rejects unknown and impossible dates', () => {
    const base = { year: 2026, month: 2, day: 28, hours: 12, minutes: 0, seconds: 0 };
    expect(dateTimeToMs(base)).toBe(new Date(2026, 1, 28, 12).getTime());
    expect(dateTimeToMs({ ...base, day: 31 })).toBeNull();
    expect(dateTimeToMs({ ...base, year: 0 })).toBeNull();
    expect(dateTimeToMs({ ...base, month: 0 })).toBeNull();
    expect(dateTimeToMs({ ...base, hours: 24 })).toBeNull();
  });
});
