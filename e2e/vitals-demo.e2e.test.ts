/**
 * The demo's vitals UI on the patient's side: the Vitals tab, "Simulated
 * device" producing live numbers with trend lines in "What the care team
 * sees", disconnecting it, and manual entry (a cuff reading typed as
 * "128/82", a refused one explained). The clinician's side (numbers and
 * trends on the patient's tile, the alert banner) is in vitals.e2e.test.ts,
 * fed by the patient's device through the data channel and the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describePage,
  joinViaUi,
  launchChromium,
  openDemo,
  submitJoinForm,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let chromium: Chromium;
let server: HuizhenServer;
let doctor: DemoPage;
let patient: DemoPage;
const room = `vitals-${Math.random().toString(36).slice(2, 8)}`;

interface VitalsUiState {
  devices: { name: string; kind: string; state: string }[];
  sent: number;
  latest: Record<string, Record<string, string>>;
  error: string | null;
}
const vitalsState = (demo: DemoPage) =>
  demo.page.evaluate(
    () => (window as unknown as { huizhen: { state: { identity: string; vitals: VitalsUiState } } }).huizhen.state,
  );

beforeAll(async () => {
  server = await startServer();
  chromium = await launchChromium();
  doctor = await openDemo(chromium, server.url, 'doctor');
  await joinViaUi(doctor, { name: 'Dr Wang', role: 'doctor', room, camera: false, mic: false });
  patient = await openDemo(chromium, server.url, 'patient');
  await submitJoinForm(patient, { name: 'Li Na', role: 'patient', room, camera: false, mic: false });
  const identity = await waitFor('the patient in the waiting room', () =>
    patient.page.evaluate(
      () => (window as unknown as { huizhen?: { state: { identity: string } } }).huizhen?.state.identity || undefined,
    ),
  );
  await doctor.page.evaluate(
    (id) => (window as unknown as { huizhen: { room: { admit(id: string): Promise<void> } } }).huizhen.room.admit(id),
    identity,
  );
  await waitInCall(patient, { camera: false, mic: false, what: 'be admitted' });
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

describe('vitals in the demo', () => {
  it('connects the simulated device and shows live numbers with trends', async () => {
    const { page } = patient;
    await (await page.waitForSelector('[data-testid="tab-vitals"]', { visible: true }))!.click();
    await page.waitForSelector('[data-testid="panel-vitals"]', { visible: true });
    await page.click('[data-testid="vitals-connect-simulated"]');
    await waitFor(
      'three seconds of simulated readings',
      async () => {
        const s = await vitalsState(patient);
        return s.vitals.devices.length === 1 && s.vitals.sent >= 12 ? s : undefined;
      },
      { describe: () => describePage(patient) },
    );
    const s = await vitalsState(patient);
    expect(s.vitals.devices[0]).toMatchObject({
      name: 'Simulated vitals monitor',
      kind: 'simulated',
      state: 'running',
    });
    const mine = s.vitals.latest[s.identity]!;
    expect(Number(mine.heartRate)).toBeGreaterThan(40);
    expect(Number(mine.spo2)).toBeGreaterThanOrEqual(90);
    const shown = await page.evaluate(() =>
      [
        ...document.querySelectorAll<HTMLElement>('[data-testid="panel-vitals"] [data-testid^="vital-"][data-type]'),
      ].map((c) => ({
        type: c.dataset.type,
        value: c.querySelector('[data-testid="vital-value"]')?.textContent,
        points: Number(c.querySelector<HTMLCanvasElement>('canvas')?.dataset.points ?? 0),
      })),
    );
    expect(shown.map((c) => c.type)).toEqual(['heartRate', 'spo2', 'respiratoryRate', 'bodyTemperature']);
    for (const cell of shown) {
      expect(cell.value).toBeTruthy();
      expect(cell.points).toBeGreaterThanOrEqual(2);
    }
    expect(
      await page.$eval('[data-testid="panel-vitals"] [data-testid="vital-waveform"]', (e) => (e as HTMLElement).hidden),
    ).toBe(false);

    if (process.env.HUIZHEN_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.HUIZHEN_SCREENSHOTS}/vitals-patient.png` });
    await page.click('[data-testid="vitals-disconnect"]');
    await waitFor('the device list to empty', async () => (await vitalsState(patient)).vitals.devices.length === 0);
  });

  it('sends a typed blood-pressure reading and explains a refused one', async () => {
    const { page } = patient;
    await page.select('[data-testid="vitals-manual-type"]', 'bloodPressure');
    await page.type('[data-testid="vitals-manual-value"]', '128/82');
    await page.click('[data-testid="vitals-manual-send"]');
    await waitFor('the reading to be shown', async () => {
      const s = await vitalsState(patient);
      return s.vitals.latest[s.identity]?.bloodPressure === '128/82';
    });
    expect(await page.$eval('[data-testid="vitals-message"]', (e) => e.textContent)).toMatch(/128\/82 mmHg/);
    await page.type('[data-testid="vitals-manual-value"]', '80/120');
    await page.click('[data-testid="vitals-manual-send"]');
    await waitFor('the refusal', async () =>
      /systolic: must be greater than diastolic/.test(
        (await page.$eval('[data-testid="vitals-message"]', (e) => e.textContent)) ?? '',
      ),
    );
  });
});
