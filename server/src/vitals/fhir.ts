/**
 * Vitals as FHIR R4: one Observation per stored reading (the vital-signs
 * profile and its per-vital profiles, LOINC codes from the protocol's
 * table, UCUM quantities), waveform windows as `valueSampledData`, and the
 * Bundle the HTTP API serves.
 *
 * Hand-written rather than built on a FHIR library: these are a handful of
 * fixed resource shapes, and the tests validate every one of them against
 * the official R4 JSON schema.
 */
import { randomUUID } from 'node:crypto';
import {
  LOINC_SYSTEM,
  UCUM_SYSTEM,
  VITALS_LOINC,
  VITALS_WAVEFORM_CODES,
  loincFor,
  type BloodPressureSample,
  type NumericVitalsSample,
  type WaveformKind,
} from '@huizhen/protocol';

export const FHIR_JSON = 'application/fhir+json';

const VITALSIGNS_PROFILE = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
/** The R4 per-vital profiles (http://hl7.org/fhir/R4/observation-vitalsigns.html); glucose has none. */
const PROFILES: Record<string, string | undefined> = {
  heartRate: 'http://hl7.org/fhir/StructureDefinition/heartrate',
  spo2: 'http://hl7.org/fhir/StructureDefinition/oxygensat',
  respiratoryRate: 'http://hl7.org/fhir/StructureDefinition/resprate',
  bodyTemperature: 'http://hl7.org/fhir/StructureDefinition/bodytemp',
  bloodPressure: 'http://hl7.org/fhir/StructureDefinition/bp',
};
/** Readable unit names for `valueQuantity.unit` (the UCUM code goes in `code`). */
const UNIT_DISPLAY: Record<string, string> = {
  '/min': '/min',
  '%': '%',
  Cel: 'C',
  'mm[Hg]': 'mmHg',
  'mg/dL': 'mg/dL',
  'mmol/L': 'mmol/L',
  mV: 'mV',
  uV: 'µV',
  '1': '1',
};
const CATEGORY = [
  {
    coding: [
      {
        system: 'http://terminology.hl7.org/CodeSystem/observation-category',
        code: 'vital-signs',
        display: 'Vital Signs',
      },
    ],
    text: 'Vital Signs',
  },
];

export interface FhirCoding {
  system: string;
  code: string;
  display?: string;
}
export interface FhirQuantity {
  value: number;
  unit: string;
  system: string;
  code: string;
}
export interface FhirReference {
  identifier?: { system: string; value: string };
  display?: string;
}
export interface FhirObservation {
  resourceType: 'Observation';
  id: string;
  meta: { profile?: string[] };
  status: 'final';
  category: typeof CATEGORY;
  code: { coding: FhirCoding[]; text: string };
  subject: FhirReference;
  encounter: FhirReference;
  effectiveDateTime: string;
  issued: string;
  device?: FhirReference;
  valueQuantity?: FhirQuantity;
  valueSampledData?: {
    origin: FhirQuantity;
    period: number;
    dimensions: number;
    data: string;
  };
  component?: { code: { coding: FhirCoding[]; text: string }; valueQuantity: FhirQuantity }[];
}
export interface FhirBundle {
  resourceType: 'Bundle';
  id: string;
  meta: { lastUpdated: string };
  type: 'collection';
  timestamp: string;
  entry: { fullUrl: string; resource: FhirObservation }[];
}

/** Whose reading, from which consult and device, and when it was measured and received. */
export interface ObservationContext {
  roomId: string;
  subject: { identity: string; issuer?: string; name?: string };
  device?: { id: string; name?: string; kind: string };
  /** Measurement time (ms since the epoch). */
  at: number;
  /** When the server received it (ms since the epoch). */
  receivedAt: number;
}

export interface WaveformWindow {
  kind: WaveformKind;
  unit: string;
  sampleRateHz: number;
  points: number[];
}

const quantity = (value: number, unit: string): FhirQuantity => ({
  value,
  unit: UNIT_DISPLAY[unit] ?? unit,
  system: UCUM_SYSTEM,
  code: unit,
});

function base(ctx: ObservationContext, code: FhirObservation['code'], profiles: string[]): FhirObservation {
  const obs: FhirObservation = {
    resourceType: 'Observation',
    id: randomUUID(),
    meta: profiles.length ? { profile: profiles } : {},
    status: 'final',
    category: CATEGORY,
    code,
    subject: {
      // A person is their issuer and identity together (see auth/person.ts).
      identifier: { system: `urn:huizhen:person:${ctx.subject.issuer ?? 'unknown'}`, value: ctx.subject.identity },
      ...(ctx.subject.name ? { display: ctx.subject.name } : {}),
    },
    encounter: {
      identifier: { system: 'urn:huizhen:consult', value: ctx.roomId },
      display: `Huizhen consult ${ctx.roomId}`,
    },
    effectiveDateTime: new Date(ctx.at).toISOString(),
    issued: new Date(ctx.receivedAt).toISOString(),
  };
  if (ctx.device) {
    obs.device = {
      identifier: { system: `urn:huizhen:device:${ctx.device.kind}`, value: ctx.device.id },
      display: ctx.device.name ? `${ctx.device.name} (${ctx.device.kind})` : `${ctx.device.kind} device`,
    };
  }
  return obs;
}

/** A heart rate, SpO2, respiratory rate, temperature or glucose reading. */
export function numericObservation(sample: NumericVitalsSample, ctx: ObservationContext): FhirObservation {
  const main = loincFor(sample)!;
  const also: readonly { code: string; display: string }[] = sample.type === 'spo2' ? VITALS_LOINC.spo2.also : [];
  const coding = [main, ...also].map((c) => ({ system: LOINC_SYSTEM, code: c.code, display: c.display }));
  const profile = PROFILES[sample.type];
  const obs = base(ctx, { coding, text: main.display }, profile ? [VITALSIGNS_PROFILE, profile] : [VITALSIGNS_PROFILE]);
  obs.valueQuantity = quantity(sample.value, sample.unit);
  return obs;
}

/** A blood-pressure panel (85354-9) with systolic / diastolic (and mean, when the cuff gives it) components. */
export function bloodPressureObservation(sample: BloodPressureSample, ctx: ObservationContext): FhirObservation {
  const panel = VITALS_LOINC.bloodPressure;
  const obs = base(
    ctx,
    { coding: [{ system: LOINC_SYSTEM, code: panel.code, display: panel.display }], text: 'Blood pressure' },
    [VITALSIGNS_PROFILE, PROFILES.bloodPressure!],
  );
  const component = (c: { code: string; display: string }, value: number) => ({
    code: { coding: [{ system: LOINC_SYSTEM, code: c.code, display: c.display }], text: c.display },
    valueQuantity: quantity(value, sample.unit),
  });
  obs.component = [
    component(panel.components.systolic, sample.systolic),
    component(panel.components.diastolic, sample.diastolic),
    ...(sample.value !== undefined ? [component(panel.components.mean, sample.value)] : []),
  ];
  return obs;
}

/**
 * A short PPG or ECG window as SampledData. Not claimed as the vital-signs
 * profile: in R4 that profile restricts the value to a Quantity.
 */
export function waveformObservation(window: WaveformWindow, ctx: ObservationContext): FhirObservation {
  const c = VITALS_WAVEFORM_CODES[window.kind];
  const text = window.kind === 'ppg' ? 'Photoplethysmogram (PPG) waveform' : 'Single-lead ECG waveform';
  const obs = base(ctx, { coding: [{ system: c.system, code: c.code, display: c.display }], text }, []);
  obs.valueSampledData = {
    origin: quantity(0, window.unit),
    // SampledData.period is milliseconds between points.
    period: Number((1000 / window.sampleRateHz).toPrecision(10)),
    dimensions: 1,
    data: window.points.map((v) => String(Number(v.toPrecision(7)))).join(' '),
  };
  return obs;
}

/** The consult's Observations as one Bundle, oldest measurement first. */
export function vitalsBundle(observations: readonly FhirObservation[], now: number): FhirBundle {
  const sorted = [...observations].sort((a, b) => a.effectiveDateTime.localeCompare(b.effectiveDateTime));
  const stamp = new Date(now).toISOString();
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: stamp },
    type: 'collection',
    timestamp: stamp,
    entry: sorted.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource })),
  };
}
