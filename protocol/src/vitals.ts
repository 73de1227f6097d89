/**
 * Vitals: the one schema for wearable measurements a patient shares in a
 * consult (heart rate, SpO2, respiratory rate, body temperature, blood
 * pressure, blood glucose, and short PPG / ECG waveform windows).
 *
 * Samples travel on the room's data channel, topic `vitals`, as the JSON
 * message `{ samples: VitalsSample[] }`. The SDK validates what it sends and
 * what it receives with `parseVitalsMessage`; the server validates again
 * before it relays or stores anything (FHIR R4 Observations, LOINC codes from
 * `VITALS_LOINC`).
 *
 * Units are UCUM (https://ucum.org) case-sensitive codes, one fixed set per
 * type, so a value is never reinterpreted (a Fahrenheit reading arrives as
 * Cel, converted by the device adapter). Values are checked against
 * plausible ranges, meaning "a living person and a working sensor can
 * produce this", not "normal": 75 % SpO2 is accepted (and should alarm),
 * 140 % is refused as garbage.
 *
 * Error sentences name the field and the rule, never the value: vitals are
 * clinical contents and error messages end up in logs.
 */
import { ErrorCode } from './errors.js';
import { HuizhenError } from './HuizhenError.js';
import { arr, formatPath, oneOf, str, type Schema } from './schema.js';
import * as z from 'zod/mini';

/** The data-channel topic vitals travel on. */
export const VITALS_TOPIC = 'vitals';

/** Every kind of vitals sample. */
export const VITAL_TYPES = [
  'heartRate',
  'spo2',
  'respiratoryRate',
  'bodyTemperature',
  'bloodPressure',
  'bloodGlucose',
  'waveform',
] as const;
/** One kind of vitals sample. */
export type VitalType = (typeof VITAL_TYPES)[number];

/** The types that carry a single `value`. */
export const NUMERIC_VITAL_TYPES = ['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature', 'bloodGlucose'] as const;
export type NumericVitalType = (typeof NUMERIC_VITAL_TYPES)[number];

export const VITALS_DEVICE_KINDS = ['bluetooth', 'simulated', 'manual'] as const;
export type VitalsDeviceKind = (typeof VITALS_DEVICE_KINDS)[number];

export const WAVEFORM_KINDS = ['ppg', 'ecg'] as const;
export type WaveformKind = (typeof WAVEFORM_KINDS)[number];

/** The UCUM unit(s) each type may be sent in. */
export const VITALS_UNITS = {
  /** Heart rate: per minute. */
  heartRate: ['/min'],
  /** Oxygen saturation: percent. */
  spo2: ['%'],
  /** Respiratory rate: per minute. */
  respiratoryRate: ['/min'],
  /** Body temperature: Celsius. */
  bodyTemperature: ['Cel'],
  /** Blood pressure: mmHg. */
  bloodPressure: ['mm[Hg]'],
  /** Blood glucose. */
  bloodGlucose: ['mg/dL', 'mmol/L'],
} as const satisfies Record<Exclude<VitalType, 'waveform'>, readonly string[]>;

/**
 * Waveform units: a PPG from a pulse oximeter is uncalibrated (UCUM `1`,
 * dimensionless, as IEEE 11073 MDC_DIM_DIMLESS); a single-lead ECG is in mV or µV.
 */
export const WAVEFORM_UNITS = { ppg: ['1'], ecg: ['mV', 'uV'] } as const;

export type VitalsUnit<T extends Exclude<VitalType, 'waveform'>> = (typeof VITALS_UNITS)[T][number];
export type WaveformUnit<K extends WaveformKind = WaveformKind> = (typeof WAVEFORM_UNITS)[K][number];

/** [min, max], inclusive. */
export type Range = readonly [number, number];

/**
 * Plausible ranges per type and unit (inclusive). Where the figures come from:
 * - heart rate 20–300 /min: below 20 a pulse is not sustained long enough to
 *   be measured at home; 300 covers infant rates and the fastest recorded
 *   adult tachyarrhythmias. It is also wider than the pulse-rate span
 *   consumer oximeters and HR straps display (typically 25–250).
 * - SpO2 50–100 %: pulse oximeters are only specified for accuracy over
 *   70–100 % (ISO 80601-2-61 accuracy claims), and readings under ~50 % are
 *   sensor noise rather than a measurement; 100 % is the physical maximum.
 * - respiratory rate 2–80 /min: agonal breathing at the bottom, newborn
 *   tachypnoea at the top.
 * - body temperature 25–45 Cel: severe hypothermia to the highest survived
 *   hyperthermia; also the span of clinical thermometers.
 * - blood pressure systolic 40–300, diastolic 20–200 mm[Hg], systolic above
 *   diastolic, mean between them: the measuring span of oscillometric cuffs
 *   (validated devices list ~0/40–280/300 mmHg) around physiological extremes.
 * - blood glucose 10–1000 mg/dL (0.55–55.5 mmol/L, factor 18.016 from
 *   glucose's molar mass 180.16 g/mol): severe hypoglycaemia to hyperosmolar
 *   states; home meters (ISO 15197) display roughly 10/20–600 mg/dL and show
 *   "LO"/"HI" beyond, which a device adapter must not turn into a number.
 * These are Huizhen's choices for refusing garbage; they are not alarm limits
 * (those are server configuration).
 */
export const VITALS_RANGES = {
  /** Heart rate. */
  heartRate: {
    /** Per minute. */
    '/min': [20, 300],
  },
  /** Oxygen saturation. */
  spo2: {
    /** Percent. */
    '%': [50, 100],
  },
  /** Respiratory rate. */
  respiratoryRate: {
    /** Per minute. */
    '/min': [2, 80],
  },
  /** Body temperature. */
  bodyTemperature: {
    /** Celsius. */
    Cel: [25, 45],
  },
  /** Blood glucose. */
  bloodGlucose: {
    /** Mass per volume. */
    'mg/dL': [10, 1000],
    /** Moles per volume. */
    'mmol/L': [0.55, 55.5],
  },
  /** Systolic blood pressure. */
  systolic: {
    /** mmHg. */
    'mm[Hg]': [40, 300],
  },
  /** Diastolic blood pressure. */
  diastolic: {
    /** mmHg. */
    'mm[Hg]': [20, 200],
  },
} as const satisfies Record<string, Record<string, Range>>;

/** Per-unit amplitude bounds for waveform points (generous: they catch garbage, not artefacts). */
export const WAVEFORM_AMPLITUDE = { '1': [-1e7, 1e7], mV: [-50, 50], uV: [-50_000, 50_000] } as const satisfies Record<
  WaveformUnit,
  Range
>;

/** Bounds on messages (what one data-channel message may carry). */
export const VITALS_LIMITS = {
  /** Samples in one `{ samples }` message. */
  maxSamplesPerMessage: 64,
  /** Points in one waveform window, and in all the windows of one message together. */
  maxWaveformPoints: 2000,
  /** Waveform sample rate, Hz (PPG is typically 25–500 Hz, ECG 125–1000 Hz). */
  minSampleRateHz: 1,
  /** Highest waveform sample rate, Hz. */
  maxSampleRateHz: 2000,
  /** Device id / name length. */
  maxDeviceId: 128,
  /** Longest device name. */
  maxDeviceName: 128,
} as const;

/** Defaults for `checkSampleTime`: clock skew allowance and how old a "live" sample may be. */
export const VITALS_TIME_DEFAULTS = {
  /** Device and browser clocks drift; a minute ahead is skew, more is a wrong clock. */
  maxFutureMs: 60_000,
  /** Older than a day is not a live consult reading (spot-check devices can hold readings for hours). */
  maxAgeMs: 24 * 60 * 60 * 1000,
} as const;

/** One LOINC code and its display name. */
export interface LoincCoding {
  /** The LOINC code, e.g. `8867-4`. */
  code: string;
  /** Its display name, e.g. `Heart rate`. */
  display: string;
}

const coding = (code: string, display: string): LoincCoding => ({ code, display });

/**
 * LOINC codes for FHIR R4 vital-signs Observations. `also` lists codings the
 * FHIR vital-signs profile wants next to the main one (the R4 oxygen
 * saturation profile requires 2708-6 alongside 59408-5). Glucose in mmol/L is
 * a different LOINC concept (moles per volume) than in mg/dL (mass per volume).
 */
export const VITALS_LOINC = {
  /** Heart rate. */
  heartRate: coding('8867-4', 'Heart rate'),
  /** Oxygen saturation by pulse oximetry. */
  spo2: {
    ...coding('59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry'),
    /** The codings the profile wants alongside. */
    also: [coding('2708-6', 'Oxygen saturation in Arterial blood')],
  },
  /** Respiratory rate. */
  respiratoryRate: coding('9279-1', 'Respiratory rate'),
  /** Body temperature. */
  bodyTemperature: coding('8310-5', 'Body temperature'),
  /** The blood pressure panel. */
  bloodPressure: {
    ...coding('85354-9', 'Blood pressure panel with all children optional'),
    /** The panel's components. */
    components: {
      /** Systolic pressure. */
      systolic: coding('8480-6', 'Systolic blood pressure'),
      /** Diastolic pressure. */
      diastolic: coding('8462-4', 'Diastolic blood pressure'),
      /** Mean arterial pressure. */
      mean: coding('8478-0', 'Mean blood pressure'),
    },
  },
  /** Blood glucose in mg/dL. */
  bloodGlucose: {
    ...coding('2339-0', 'Glucose [Mass/volume] in Blood'),
    /** The codes for other units. */
    byUnit: {
      /** Glucose in mmol/L. */
      'mmol/L': coding('15074-8', 'Glucose [Moles/volume] in Blood'),
    },
  },
} as const;

export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
/** IEEE 11073-10101 (MDC) nomenclature, as FHIR names it. */
export const MDC_SYSTEM = 'urn:oid:2.16.840.1.113883.6.24';

/**
 * Waveform codes: LOINC has no plain "PPG waveform" or "single-lead ECG
 * samples" observation, so these are the IEEE 11073 MDC codes FHIR's own
 * SampledData examples use (131328 is MDC_ECG_ELEC_POTL, lead unspecified).
 */
export const VITALS_WAVEFORM_CODES = {
  ppg: { system: MDC_SYSTEM, code: '150452', display: 'MDC_PULS_OXIM_PLETH' },
  ecg: { system: MDC_SYSTEM, code: '131328', display: 'MDC_ECG_ELEC_POTL' },
} as const;

/** The LOINC coding for a numeric or blood-pressure sample (glucose depends on its unit). */
export function loincFor(sample: Pick<VitalsSample, 'type' | 'unit'>): LoincCoding | null {
  if (sample.type === 'waveform') return null;
  if (sample.type === 'bloodGlucose' && sample.unit === 'mmol/L') return VITALS_LOINC.bloodGlucose.byUnit['mmol/L'];
  const entry = VITALS_LOINC[sample.type];
  return { code: entry.code, display: entry.display };
}

// --- types

/** Measurement time: an ISO-8601 date-time with a zone (`Z` or `+08:00`), or ms since the epoch. */
export type VitalsTime = string | number;

/** The device a sample came from. */
export interface VitalsDeviceInfo {
  /** Stable id of the physical device (e.g. the Web Bluetooth device id), or `manual` / `sim-<seed>`. */
  id: string;
  /** Its name, for display. */
  name?: string;
  /** bluetooth, simulated or manual. */
  kind: VitalsDeviceKind;
}

interface SampleBase {
  /** When it was measured: an ISO 8601 string or ms since the epoch. */
  at: VitalsTime;
  /** The device it came from. */
  device?: VitalsDeviceInfo;
}

/** A reading of one number: heart rate, SpO2, respiratory rate, temperature or glucose. */
export type NumericVitalsSample = {
  [T in NumericVitalType]: SampleBase & {
    /** Which vital sign. */
    type: T;
    /** The reading. */
    value: number;
    /** Its UCUM unit (see `VITALS_UNITS`). */
    unit: VitalsUnit<T>;
  };
}[NumericVitalType];

/** A blood pressure reading. */
export interface BloodPressureSample extends SampleBase {
  /** Always `bloodPressure`. */
  type: 'bloodPressure';
  /** Systolic pressure, mmHg. */
  systolic: number;
  /** Diastolic pressure, mmHg. */
  diastolic: number;
  /** Mean arterial pressure, when the cuff reports it. */
  value?: number;
  /** Always mmHg. */
  unit: 'mm[Hg]';
}

/** A window of a waveform (PPG or ECG). */
export interface Waveform {
  /** ppg or ecg. */
  kind: WaveformKind;
  /** Points per second. */
  sampleRateHz: number;
  /** Evenly spaced points; the first one was taken at the sample's `at`. */
  samples: number[];
  /** The points' unit (see `WAVEFORM_UNITS`). */
  unit: WaveformUnit;
}

/** A waveform window as a sample. */
export interface WaveformSample extends SampleBase {
  /** Always `waveform`. */
  type: 'waveform';
  /** Same as `waveform.unit`. */
  unit: WaveformUnit;
  /** The window. */
  waveform: Waveform;
}

/** Any vitals sample. */
export type VitalsSample = NumericVitalsSample | BloodPressureSample | WaveformSample;

export interface VitalsMessage {
  samples: VitalsSample[];
}

// --- errors

/** What was wrong with a sample; the server counts refusals by this. */
export type VitalsProblem = 'shape' | 'unit' | 'range' | 'future' | 'stale';

/** A vitals sample or message was refused (`code` is VITALS_INVALID). */
export class VitalsError extends HuizhenError {
  /** What was wrong (shape, unit, range, future, stale). */
  readonly reason: VitalsProblem;
  /** The bad field, e.g. `samples[2].value`; empty for the whole message. */
  readonly path: string;
  constructor(reason: VitalsProblem, path: string, problem: string) {
    super(ErrorCode.VITALS_INVALID, path ? `${path}: ${problem}` : problem);
    this.name = 'VitalsError';
    this.reason = reason;
    this.path = path;
  }
}

// --- schema

type Issue = { reason: VitalsProblem; path: PropertyKey[]; message: string };

const fmt = (n: number): string => String(n);
const rangeText = (r: Range, unit: string): string => `must be within ${fmt(r[0])}–${fmt(r[1])} ${unit}`;
const inRange = (v: number, r: Range): boolean => v >= r[0] && v <= r[1];
const unitsText = (units: readonly string[]): string => units.map((u) => JSON.stringify(u)).join(' or ');

/** ISO-8601 date-time with an explicit zone; the calendar check is `Date.parse`. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;
/** 2000-01-01 .. 2100-01-01: anything outside is a device with an unset clock. */
const EPOCH_MIN = Date.UTC(2000, 0, 1);
const EPOCH_MAX = Date.UTC(2100, 0, 1);

/** Milliseconds since the epoch of a measurement time, or NaN when it is not a valid time. */
export function vitalsTimeMs(at: VitalsTime): number {
  if (typeof at === 'number') return Number.isInteger(at) && at >= EPOCH_MIN && at <= EPOCH_MAX ? at : NaN;
  if (!ISO_DATE_TIME.test(at)) return NaN;
  const ms = Date.parse(at);
  return ms >= EPOCH_MIN && ms <= EPOCH_MAX ? ms : NaN;
}

const vitalsDeviceInfo = z.strictObject({
  id: str({ min: 1, max: VITALS_LIMITS.maxDeviceId, pattern: /^[\x21-\x7e]+$/ }),
  name: z.optional(str({ min: 1, max: VITALS_LIMITS.maxDeviceName })),
  kind: oneOf(VITALS_DEVICE_KINDS),
});

const waveformShape = z.strictObject({
  kind: oneOf(WAVEFORM_KINDS),
  sampleRateHz: z.number().check(z.gte(VITALS_LIMITS.minSampleRateHz), z.lte(VITALS_LIMITS.maxSampleRateHz)),
  samples: arr(z.number(), { min: 1, max: VITALS_LIMITS.maxWaveformPoints }),
  unit: str({ min: 1, max: 16 }),
});

const sampleShape = z.strictObject({
  type: oneOf(VITAL_TYPES),
  value: z.optional(z.number()),
  systolic: z.optional(z.number()),
  diastolic: z.optional(z.number()),
  unit: str({ min: 1, max: 16 }),
  at: z.union([str({ min: 10, max: 40 }), z.number()]),
  device: z.optional(vitalsDeviceInfo),
  waveform: z.optional(waveformShape),
});
type SampleShape = z.infer<typeof sampleShape>;

const forbidden = (s: SampleShape, fields: readonly (keyof SampleShape)[]): Issue | null => {
  for (const f of fields)
    if (s[f] !== undefined) return { reason: 'shape', path: [f], message: `is not allowed for ${s.type}` };
  return null;
};
const required = (s: SampleShape, f: keyof SampleShape): Issue | null =>
  s[f] === undefined ? { reason: 'shape', path: [f], message: 'is required' } : null;

/** The rules zod's shape cannot express: units per type, ranges, field combinations, time. */
function sampleProblem(s: SampleShape): Issue | null {
  if (Number.isNaN(vitalsTimeMs(s.at)))
    return {
      reason: 'shape',
      path: ['at'],
      message:
        typeof s.at === 'number'
          ? 'must be integer ms since the epoch between 2000 and 2100'
          : 'must be an ISO-8601 date-time with a zone (e.g. 2026-01-01T08:00:00Z) between 2000 and 2100',
    };
  if (s.type === 'waveform') {
    const bad = forbidden(s, ['value', 'systolic', 'diastolic']) ?? required(s, 'waveform');
    if (bad) return bad;
    const w = s.waveform!;
    const units: readonly string[] = WAVEFORM_UNITS[w.kind];
    if (!units.includes(w.unit))
      return { reason: 'unit', path: ['waveform', 'unit'], message: `must be ${unitsText(units)} for ${w.kind}` };
    if (s.unit !== w.unit) return { reason: 'unit', path: ['unit'], message: 'must equal waveform.unit' };
    const amp: Range = WAVEFORM_AMPLITUDE[w.unit as WaveformUnit];
    const i = w.samples.findIndex((v) => !inRange(v, amp));
    if (i >= 0) return { reason: 'range', path: ['waveform', 'samples', i], message: rangeText(amp, w.unit) };
    return null;
  }
  const bad = forbidden(s, ['waveform']);
  if (bad) return bad;
  const units: readonly string[] = VITALS_UNITS[s.type];
  if (!units.includes(s.unit))
    return { reason: 'unit', path: ['unit'], message: `must be ${unitsText(units)} for ${s.type}` };
  if (s.type === 'bloodPressure') {
    const missing = required(s, 'systolic') ?? required(s, 'diastolic');
    if (missing) return missing;
    const sys = s.systolic!;
    const dia = s.diastolic!;
    const sr = VITALS_RANGES.systolic['mm[Hg]'];
    const dr = VITALS_RANGES.diastolic['mm[Hg]'];
    if (!inRange(sys, sr)) return { reason: 'range', path: ['systolic'], message: rangeText(sr, s.unit) };
    if (!inRange(dia, dr)) return { reason: 'range', path: ['diastolic'], message: rangeText(dr, s.unit) };
    if (sys <= dia) return { reason: 'range', path: ['systolic'], message: 'must be greater than diastolic' };
    if (s.value !== undefined && !(s.value >= dia && s.value <= sys))
      return { reason: 'range', path: ['value'], message: 'mean pressure must lie between diastolic and systolic' };
    return null;
  }
  const extra = forbidden(s, ['systolic', 'diastolic']) ?? required(s, 'value');
  if (extra) return extra;
  const ranges: Record<string, Range> = VITALS_RANGES[s.type];
  const r = ranges[s.unit]!;
  if (!inRange(s.value!, r))
    return { reason: 'range', path: ['value'], message: `${rangeText(r, s.unit)} for ${s.type}` };
  return null;
}

const withProblems = <T>(schema: z.ZodMiniType<T>, check: (v: T) => Issue | null): z.ZodMiniType<T> =>
  schema.check((ctx) => {
    const problem = check(ctx.value);
    if (problem)
      ctx.issues.push({
        code: 'custom',
        message: problem.message,
        input: ctx.value,
        path: problem.path,
        params: { reason: problem.reason },
      });
  });

/** One vitals sample (zod schema; `parseVitalsSample` gives typed errors). */
export const vitalsSample = withProblems(sampleShape, sampleProblem) as unknown as z.ZodMiniType<VitalsSample>;

/** One data-channel message on topic `vitals`. */
export const vitalsMessage = withProblems(
  z.strictObject({ samples: arr(vitalsSample, { min: 1, max: VITALS_LIMITS.maxSamplesPerMessage }) }),
  (m) => {
    let points = 0;
    for (const s of m.samples) if (s.type === 'waveform') points += s.waveform.samples.length;
    return points > VITALS_LIMITS.maxWaveformPoints
      ? {
          reason: 'shape',
          path: ['samples'],
          message: `carries more than ${VITALS_LIMITS.maxWaveformPoints} waveform points in total`,
        }
      : null;
  },
) as unknown as z.ZodMiniType<VitalsMessage>;

function parseVitals<T>(schema: Schema<T>, value: unknown, base: string): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(base, issue.path);
  if (issue.code === 'custom') {
    const reason = (issue.params as { reason?: VitalsProblem } | undefined)?.reason ?? 'shape';
    return raise(reason, path, issue.message);
  }
  // Shape problems: reuse the protocol's sentences (`is required`, `must be one of ...`).
  return raise('shape', path, shapeSentence(issue));
}

function raise(reason: VitalsProblem, path: string, problem: string): never {
  throw new VitalsError(reason, path, problem);
}

function shapeSentence(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must have at least ${String(issue.minimum)} items`
        : issue.origin === 'string'
          ? `must be at least ${String(issue.minimum)} characters`
          : `must be >= ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `must have at most ${String(issue.maximum)} items`
        : issue.origin === 'string'
          ? `must be at most ${String(issue.maximum)} characters`
          : `must be <= ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has unknown field ${JSON.stringify(issue.keys[0] ?? '')}`;
    case 'invalid_format':
      return 'has an invalid format';
    case 'invalid_union':
      return 'must be an ISO-8601 date-time string or ms since the epoch';
    default:
      return issue.message || 'is invalid';
  }
}

/** Parses one sample or throws VitalsError (reason `shape`, `unit` or `range`). */
export function parseVitalsSample(value: unknown, base = ''): VitalsSample {
  return parseVitals(vitalsSample, value, base);
}

/**
 * Parses a `vitals` data-channel message (the JSON text, its UTF-8 bytes, or
 * the parsed object) or throws VitalsError. Time against a clock is checked
 * separately (`checkSampleTime`), so this stays a pure function.
 */
export function parseVitalsMessage(payload: unknown): VitalsMessage {
  let value = payload;
  if (payload instanceof Uint8Array) value = new TextDecoder('utf-8', { fatal: false }).decode(payload);
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return raise('shape', '', 'is not JSON');
    }
  }
  return parseVitals(vitalsMessage, value, '');
}

/**
 * Checks a sample's measurement time against `now` (ms since the epoch) and
 * returns it in ms; throws VitalsError `future` (beyond `maxFutureMs` ahead:
 * skew allowance) or `stale` (older than `maxAgeMs`).
 */
export function checkSampleTime(
  sample: Pick<VitalsSample, 'at'>,
  now: number,
  opts: { maxFutureMs?: number; maxAgeMs?: number } = {},
  path = 'at',
): number {
  const maxFutureMs = opts.maxFutureMs ?? VITALS_TIME_DEFAULTS.maxFutureMs;
  const maxAgeMs = opts.maxAgeMs ?? VITALS_TIME_DEFAULTS.maxAgeMs;
  const at = vitalsTimeMs(sample.at);
  if (Number.isNaN(at)) return raise('shape', path, 'is not a valid measurement time');
  if (at - now > maxFutureMs) return raise('future', path, `is more than ${maxFutureMs} ms in the future`);
  if (now - at > maxAgeMs) return raise('stale', path, `is more than ${maxAgeMs} ms old`);
  return at;
}
