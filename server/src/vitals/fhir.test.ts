/**
 * The FHIR resources the vitals store holds and the HTTP API serves, checked
 * against HL7's official R4 JSON schema (see testing/fhirSchema.ts for which
 * package ships it and why that one) and against the vital-signs rules the
 * schema cannot express (profiles, LOINC codes, UCUM units, times).
 */
import { describe, expect, it } from 'vitest';
import { parseVitalsSample } from '@huizhen/protocol';
import { fhirSchemaErrors } from '../testing/fhirSchema.js';
import {
  bloodPressureObservation,
  numericObservation,
  vitalsBundle,
  waveformObservation,
  type FhirObservation,
  type ObservationContext,
} from './fhir.js';

const at = Date.UTC(2026, 11, 2, 6, 0, 0, 250);
const ctx: ObservationContext = {
  roomId: 'consult-7',
  subject: { identity: 'pt-wang', issuer: 'huizhen-test', name: 'Wang Fang' },
  device: { id: 'ble-AA:BB', name: 'Nonin 3230', kind: 'bluetooth' },
  at,
  receivedAt: at + 180,
};

function numeric(raw: unknown): FhirObservation {
  const s = parseVitalsSample(raw);
  if (s.type === 'bloodPressure') return bloodPressureObservation(s, ctx);
  if (s.type === 'waveform') throw new Error('not numeric');
  return numericObservation(s, ctx);
}

const observations = (): FhirObservation[] => [
  numeric({ type: 'heartRate', value: 72, unit: '/min', at }),
  numeric({ type: 'spo2', value: 97, unit: '%', at }),
  numeric({ type: 'respiratoryRate', value: 16, unit: '/min', at }),
  numeric({ type: 'bodyTemperature', value: 36.8, unit: 'Cel', at }),
  numeric({ type: 'bloodPressure', systolic: 128, diastolic: 82, value: 97, unit: 'mm[Hg]', at }),
  numeric({ type: 'bloodGlucose', value: 104, unit: 'mg/dL', at }),
  numeric({ type: 'bloodGlucose', value: 5.8, unit: 'mmol/L', at }),
  waveformObservation({ kind: 'ppg', unit: '1', sampleRateHz: 50, points: [512, 530.25, -3, 1e-7, 498] }, ctx),
  waveformObservation({ kind: 'ecg', unit: 'mV', sampleRateHz: 250, points: [0.1, -0.35, 1.2] }, ctx),
];

const loinc = (o: FhirObservation) => o.code.coding.map((c) => `${c.system}|${c.code}`);

describe('FHIR R4 vitals', () => {
  it('builds a Bundle that is valid against the official R4 JSON schema', () => {
    const bundle = vitalsBundle(observations(), at + 1000);
    const errors = fhirSchemaErrors(bundle);
    expect(errors.slice(0, 5)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry).toHaveLength(9);
    for (const e of bundle.entry) expect(e.fullUrl).toBe(`urn:uuid:${e.resource.id}`);
    // The entries are validated too, not just the Bundle's own fields.
    const broken = {
      ...bundle,
      entry: [{ ...bundle.entry[0]!, resource: { ...bundle.entry[0]!.resource, status: 'done' } }],
    };
    expect(fhirSchemaErrors(broken).length).toBeGreaterThan(0);
  }, 60_000);

  it('the schema check can fail: a misspelt field, a bad status or a string value are refused', () => {
    const [hr] = observations();
    expect(fhirSchemaErrors({ ...hr, stauts: 'final' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...hr, status: 'done' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...hr, valueQuantity: { ...hr!.valueQuantity, value: '72' } }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...hr, effectiveDateTime: '2 Dec 2026' }).length).toBeGreaterThan(0);
  }, 60_000);

  it('uses the vital-signs profiles, category, LOINC codes and UCUM units', () => {
    const [hr, spo2, rr, temp, bp, glucose, glucoseMol, ppg, ecg] = observations() as [
      FhirObservation,
      ...FhirObservation[],
    ];
    const vs = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
    expect(hr.meta.profile).toEqual([vs, 'http://hl7.org/fhir/StructureDefinition/heartrate']);
    expect(hr.status).toBe('final');
    expect(hr.category[0]!.coding[0]).toMatchObject({
      system: 'http://terminology.hl7.org/CodeSystem/observation-category',
      code: 'vital-signs',
    });
    expect(loinc(hr)).toEqual(['http://loinc.org|8867-4']);
    expect(hr.valueQuantity).toEqual({ value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' });
    expect(hr.effectiveDateTime).toBe('2026-12-02T06:00:00.250Z');
    expect(hr.issued).toBe('2026-12-02T06:00:00.430Z');
    expect(hr.subject).toEqual({
      identifier: { system: 'urn:huizhen:person:huizhen-test', value: 'pt-wang' },
      display: 'Wang Fang',
    });
    expect(hr.encounter.identifier).toEqual({ system: 'urn:huizhen:consult', value: 'consult-7' });
    expect(hr.device?.display).toBe('Nonin 3230 (bluetooth)');

    // The R4 oxygen saturation profile wants 2708-6 next to the pulse-oximetry code.
    expect(loinc(spo2!)).toEqual(['http://loinc.org|59408-5', 'http://loinc.org|2708-6']);
    expect(spo2!.meta.profile).toContain('http://hl7.org/fhir/StructureDefinition/oxygensat');
    expect(spo2!.valueQuantity?.code).toBe('%');
    expect(loinc(rr!)).toEqual(['http://loinc.org|9279-1']);
    expect(loinc(temp!)).toEqual(['http://loinc.org|8310-5']);
    expect(temp!.valueQuantity).toMatchObject({ value: 36.8, code: 'Cel', system: 'http://unitsofmeasure.org' });

    expect(loinc(bp!)).toEqual(['http://loinc.org|85354-9']);
    expect(bp!.meta.profile).toContain('http://hl7.org/fhir/StructureDefinition/bp');
    expect(bp!.valueQuantity).toBeUndefined();
    expect(bp!.component?.map((c) => [c.code.coding[0]!.code, c.valueQuantity.value, c.valueQuantity.code])).toEqual([
      ['8480-6', 128, 'mm[Hg]'],
      ['8462-4', 82, 'mm[Hg]'],
      ['8478-0', 97, 'mm[Hg]'],
    ]);

    expect(loinc(glucose!)).toEqual(['http://loinc.org|2339-0']);
    expect(glucose!.valueQuantity?.code).toBe('mg/dL');
    expect(loinc(glucoseMol!)).toEqual(['http://loinc.org|15074-8']);
    expect(glucoseMol!.valueQuantity?.code).toBe('mmol/L');

    // Waveforms: SampledData, period in ms, not claimed as the Quantity-only vital-signs profile.
    expect(ppg!.meta.profile).toBeUndefined();
    expect(ppg!.valueSampledData).toEqual({
      origin: { value: 0, unit: '1', system: 'http://unitsofmeasure.org', code: '1' },
      period: 20,
      dimensions: 1,
      data: '512 530.25 -3 1e-7 498',
    });
    expect(ecg!.code.coding[0]).toMatchObject({ system: 'urn:oid:2.16.840.1.113883.6.24', code: '131328' });
    expect(ecg!.valueSampledData?.period).toBe(4);
  });

  it('orders the Bundle by measurement time', () => {
    const early = numericObservation(parseVitalsSample({ type: 'heartRate', value: 70, unit: '/min', at }) as never, {
      ...ctx,
      at: at - 5000,
    });
    const late = numericObservation(
      parseVitalsSample({ type: 'heartRate', value: 71, unit: '/min', at }) as never,
      ctx,
    );
    const bundle = vitalsBundle([late, early], at);
    expect(bundle.entry.map((e) => e.resource.id)).toEqual([early.id, late.id]);
  });
});
