/**
 * Vitals through a real node: samples enter through the room's `vitals`
 * data-topic policy (the relay's entry point), alerts reach clinicians over
 * signaling, and GET /api/rooms/:id/vitals serves the stored FHIR Bundle to
 * exactly the clinical team and vitals:read services — during the consult
 * and after it ended.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirSchemaErrors } from '../testing/fhirSchema.js';
import { freshGet } from '../testing/freshGet.js';
import { serviceToken, startTestServer, type TestServer } from '../testing/testServer.js';
import type { FhirBundle } from './fhir.js';

let t: TestServer;
beforeAll(async () => {
  // Compile the FHIR schema (seconds, once) before the server starts, outside the tests' own time.
  fhirSchemaErrors({ resourceType: 'Bundle', type: 'collection' });
  t = await startTestServer();
}, 60_000);
afterAll(() => t.close());

const service = (scope: string) => serviceToken(scope, 'ehr-export');

const httpGet = (path: string, token?: string) => freshGet(`${t.url}${path}`, token);

const getVitals = (room: string, token?: string) => httpGet(`/api/rooms/${room}/vitals`, token);

async function consult(room: string) {
  const doctor = await t.connect();
  await doctor.join(t.token(`dr-${room}`, 'doctor', room));
  const patient = await t.connect();
  await patient.join(t.token(`pt-${room}`, 'patient', room, { name: 'Wang Fang' }));
  await doctor.notification('waitingRoomChanged', (d) => d.waiting.length === 1);
  await doctor.request('admit', { identity: `pt-${room}` });
  await patient.notification('admitted');
  const live = t.server.rooms.rooms.get(room)!;
  return { doctor, patient, live, participant: live.participants.get(`pt-${room}`)! };
}

const device = { id: 'sim-42', name: 'Simulated oximeter', kind: 'simulated' };

describe('vitals over a live consult', () => {
  it('relays only valid samples, alerts clinicians only, and serves the Bundle to the right people', async () => {
    const { doctor, live, participant } = await consult('vit-1');
    const interpreter = await t.connect();
    await interpreter.join(t.token('int-vit-1', 'interpreter', 'vit-1'));
    const observer = await t.connect();
    await observer.join(t.token('obs-vit-1', 'observer', 'vit-1'));

    // 12 s of desaturation (86 %) one reading per second, plus a heart rate and one garbage reading.
    const t0 = Date.now() - 15_000;
    const samples: unknown[] = Array.from({ length: 12 }, (_, s) => ({
      type: 'spo2',
      value: 86,
      unit: '%',
      at: t0 + s * 1000,
      device,
    }));
    samples.push({ type: 'heartRate', value: 112, unit: '/min', at: new Date(t0 + 11_500).toISOString(), device });
    samples.push({ type: 'heartRate', value: 900, unit: '/min', at: t0, device });
    const policy = live.vitalsTopic;
    expect(policy.topic).toBe('vitals');
    const { forward } = policy.inspect(participant, JSON.stringify({ samples }), Date.now());
    const forwarded = JSON.parse(String(forward)) as { samples: { type: string; value: number }[] };
    expect(forwarded.samples).toHaveLength(13);
    expect(forwarded.samples.some((s) => s.value === 900)).toBe(false);
    // Who the relay delivers to, and who may publish.
    const p = (id: string) => live.participants.get(id)!;
    expect(policy.mayReceive(p('dr-vit-1'))).toBe(true);
    expect(policy.mayReceive(p('int-vit-1'))).toBe(false);
    expect(policy.mayReceive(p('obs-vit-1'))).toBe(false);
    expect(policy.mayReceive(participant)).toBe(false);
    expect(policy.mayPublish(participant)).toBe(true);
    expect(policy.mayPublish(p('dr-vit-1'))).toBe(false);
    expect(() => policy.inspect(p('int-vit-1'), JSON.stringify({ samples: [samples[0]] }), Date.now())).toThrow(
      expect.objectContaining({ code: 'PERMISSION_DENIED' }),
    );
    expect(() => policy.inspect(participant, JSON.stringify({ samples: [samples.at(-1)] }), Date.now())).toThrow(
      expect.objectContaining({ code: 'VITALS_INVALID' }),
    );

    const alert = await doctor.notification('vitalsAlert');
    expect(alert).toMatchObject({ identity: 'pt-vit-1', type: 'spo2', state: 'raised', threshold: 90, value: 86 });
    // Give a wrongly addressed alert time to arrive before checking it did not.
    await new Promise((r) => setTimeout(r, 300));
    expect(interpreter.notifications.some((n) => n.notification === 'vitalsAlert')).toBe(false);
    expect(observer.notifications.some((n) => n.notification === 'vitalsAlert')).toBe(false);

    // Late joiners: the clinician's room view carries the latest reading per type; the interpreter's does not.
    const lateSpecialist = await t.connect();
    const view = await lateSpecialist.join(t.token('sp-late', 'specialist', 'vit-1'));
    expect(view.admission === 'admitted' && view.vitals).toEqual([
      {
        identity: 'pt-vit-1',
        samples: [
          { type: 'spo2', value: 86, unit: '%', at: t0 + 11_000, device },
          { type: 'heartRate', value: 112, unit: '/min', at: new Date(t0 + 11_500).toISOString(), device },
        ],
        // The desaturation is still going on: the late joiner sees its alert too.
        alerts: [alert],
      },
    ]);
    const lateInterpreter = await t.connect();
    expect(await lateInterpreter.join(t.token('int-late', 'interpreter', 'vit-1'))).not.toHaveProperty('vitals');

    // Refusals are counted on /metrics.
    const metrics = (await httpGet('/metrics')).text();
    expect(metrics).toMatch(/huizhen_vitals_samples_total\{result="accepted"\} 13/);
    expect(metrics).toMatch(/huizhen_vitals_samples_total\{result="range"\} 2/);
    expect(metrics).toMatch(/huizhen_vitals_samples_total\{result="forbidden"\} 1/);
    expect(metrics).toMatch(/huizhen_vitals_alerts_total\{type="spo2",state="raised"\} 1/);

    // During the consult: the doctor reads what was buffered so far.
    const res = await getVitals('vit-1', t.token('dr-vit-1', 'doctor', 'vit-1'));
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toMatch(/^application\/fhir\+json/);
    expect(res.header('cache-control')).toContain('no-store');
    const bundle = res.json() as FhirBundle;
    expect(fhirSchemaErrors(bundle).slice(0, 5)).toEqual([]);
    const codes = bundle.entry.map((e) => e.resource.code.coding[0]!.code);
    expect(codes.filter((c) => c === '59408-5')).toHaveLength(12);
    expect(codes.filter((c) => c === '8867-4')).toHaveLength(1);
    const first = bundle.entry[0]!.resource;
    expect(first.effectiveDateTime).toBe(new Date(t0).toISOString());
    expect(first.valueQuantity).toMatchObject({ value: 86, code: '%', system: 'http://unitsofmeasure.org' });
    expect(first.subject.identifier).toEqual({ system: 'urn:huizhen:person:huizhen-test', value: 'pt-vit-1' });
    expect(first.device?.display).toBe('Simulated oximeter (simulated)');

    // Who may read it.
    const status = async (token: string | undefined, room = 'vit-1') => {
      const r = await getVitals(room, token);
      const body = r.json() as { error?: { code: string } };
      return [r.status, body.error?.code ?? 'ok'];
    };
    expect(await status(t.token('sp-x', 'specialist', 'vit-1'))).toEqual([200, 'ok']);
    expect(await status(t.token('rn-x', 'nurse', 'vit-1'))).toEqual([200, 'ok']);
    expect(await status(service('vitals:read'))).toEqual([200, 'ok']);
    expect(await status(service('rooms:read rooms:write'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await status(t.token('pt-vit-1', 'patient', 'vit-1'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await status(t.token('fam-x', 'family', 'vit-1'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await status(t.token('int-vit-1', 'interpreter', 'vit-1'))).toEqual([403, 'PERMISSION_DENIED']);
    expect(await status(t.token('obs-vit-1', 'observer', 'vit-1'))).toEqual([403, 'PERMISSION_DENIED']);
    // A doctor whose token may not view records does not see vitals either.
    expect(await status(t.token('dr-n', 'doctor', 'vit-1', { grants: ['subscribe', 'chat'] }))).toEqual([
      403,
      'PERMISSION_DENIED',
    ]);
    // Another room's doctor, no token, a forged token, an unknown room.
    expect(await status(t.token('dr-other', 'doctor', 'vit-other'))).toEqual([403, 'TOKEN_ROOM_MISMATCH']);
    expect(await status(undefined)).toEqual([401, 'TOKEN_INVALID']);
    expect(
      await status(
        jwt.sign({ scope: 'vitals:read' }, 'x'.repeat(40), {
          issuer: 'huizhen-test',
          audience: 'huizhen',
          subject: 's',
          expiresIn: 60,
        }),
      ),
    ).toEqual([401, 'TOKEN_INVALID']);
    expect(await status(service('vitals:read'), 'never-held')).toEqual([404, 'ROOM_NOT_FOUND']);
    expect(await status(t.token('dr-nh', 'doctor', 'never-held'), 'never-held')).toEqual([404, 'ROOM_NOT_FOUND']);

    // Reads are audited (who, which room, how many), without any reading in the trail.
    const trail = readFileSync(join(t.scratch, 'audit', 'audit.jsonl'), 'utf8');
    expect(trail).toMatch(/"event":"vitals_read","room":"vit-1"/);
    expect(trail).toMatch(/"event":"vitals_device_connected","room":"vit-1"/);
    expect(trail).toMatch(/"event":"vitals_alert_raised","room":"vit-1"/);
    // Checked without the hash chain and the time, whose digits may be anything.
    for (const line of trail.trim().split('\n')) {
      const { prev: _prev, hash: _hash, time: _time, ...entry } = JSON.parse(line) as Record<string, unknown>;
      expect(JSON.stringify(entry)).not.toMatch(/"value"|112|"86"|\b86\b/);
    }
  }, 60_000);

  it('serves the Bundle after the consult ended, never mixing in another room', async () => {
    const a = await consult('vit-end');
    const b = await consult('vit-other2');
    const now = Date.now();
    a.live.vitalsTopic.inspect(
      a.participant,
      JSON.stringify({
        samples: [
          { type: 'bloodPressure', systolic: 142, diastolic: 91, unit: 'mm[Hg]', at: now - 2000, device },
          { type: 'bodyTemperature', value: 37.9, unit: 'Cel', at: now - 1000 },
        ],
      }),
      now,
    );
    b.live.vitalsTopic.inspect(
      b.participant,
      JSON.stringify({ samples: [{ type: 'heartRate', value: 66, unit: '/min', at: now - 500 }] }),
      now,
    );
    await a.doctor.request('endRoom', {});
    await a.patient.waitClosed();
    // The in-memory room is gone; the stored consult is what answers.
    await expect.poll(() => t.server.rooms.rooms.has('vit-end')).toBe(false);

    const res = await getVitals('vit-end', t.token('dr-vit-end', 'doctor', 'vit-end'));
    expect(res.status).toBe(200);
    const bundle = res.json() as FhirBundle;
    expect(fhirSchemaErrors(bundle).slice(0, 5)).toEqual([]);
    expect(bundle.entry.map((e) => e.resource.code.coding[0]!.code)).toEqual(['85354-9', '8310-5']);
    expect(bundle.entry[0]!.resource.component?.map((c) => c.valueQuantity.value)).toEqual([142, 91]);
    for (const e of bundle.entry) {
      expect(e.resource.encounter.identifier).toEqual({ system: 'urn:huizhen:consult', value: 'vit-end' });
      expect(e.resource.subject.identifier?.value).toBe('pt-vit-end');
    }
    const viaService = (await getVitals('vit-end', service('vitals:read'))).json() as FhirBundle;
    expect(viaService.entry).toHaveLength(2);
    // The other room's doctor cannot read it; their own room holds only their patient's reading.
    expect((await getVitals('vit-end', t.token('dr-vit-other2', 'doctor', 'vit-other2'))).status).toBe(403);
    const other = (
      await getVitals('vit-other2', t.token('dr-vit-other2', 'doctor', 'vit-other2'))
    ).json() as FhirBundle;
    expect(other.entry.map((e) => e.resource.subject.identifier?.value)).toEqual(['pt-vit-other2']);
  }, 60_000);
});
