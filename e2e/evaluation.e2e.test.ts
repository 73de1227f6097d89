/**
 * The patient's evaluation in a real browser: a doctor and a patient hold a
 * consult through the demo, the doctor ends it, the patient's page asks for a
 * rating (stars, a comment with its counter), sends it and says thank you; the
 * doctor's token then reads exactly that evaluation from the server.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerDialog,
  describePage,
  joinMessage,
  joinViaUi,
  launchChromium,
  openDemo,
  openTab,
  reportFailure,
  submitJoinForm,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { devToken, startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

describe('rating a consult after it ended', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  const pages: DemoPage[] = [];
  const room = `e2e-eval-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    patient = await openDemo(chromium, server.url, 'patient');
    pages.push(doctor, patient);
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure(pages, server);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('asks the patient for stars and a comment, and the doctor reads them', async () => {
    // Media is not what this test is about: both join with camera and microphone off.
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'consult', camera: false, mic: false });
    await submitJoinForm(patient, { name: 'Wang Fang', role: 'patient', room, camera: false, mic: false });
    await waitInCall(patient, { admission: 'waiting', camera: false, mic: false, what: 'wait in the waiting room' });
    await openTab(doctor, 'people');
    const admit = `[data-testid="waiting-entry"][data-identity="${patient.identity}"] [data-testid="admit-button"]`;
    await (await doctor.page.waitForSelector(admit, { visible: true }))!.click();
    await waitInCall(patient, { camera: false, mic: false, what: 'be admitted' });

    await doctor.page.click('[data-testid="end-button"]');
    await answerDialog(doctor, 'end-dialog');
    await doctor.page.waitForSelector('[data-testid="summary-view"]:not([hidden])');

    // The patient's page turns to the rating form.
    const { page } = patient;
    await waitFor(
      'the patient to be asked for a rating',
      () =>
        page.evaluate(() => {
          const view = document.querySelector<HTMLElement>('[data-testid="evaluation-view"]');
          return (view && !view.hidden && !!view.querySelector('[data-testid="evaluation-form"]')) || undefined;
        }),
      { describe: () => describePage(patient) },
    );
    expect(await joinMessage(patient)).toMatch(/consult has ended/i);
    // Without the overall rating it says what is missing, and sends nothing.
    await page.click('[data-testid="evaluation-submit"]');
    const missing = await page.$eval('[data-testid="evaluation-error"]', (el) => (el as HTMLElement).textContent);
    expect(missing).toMatch(/overall/);

    await page.click('[data-testid="evaluation-overall-4"]');
    await page.click('[data-testid="evaluation-communication-5"]');
    const comment = '医生很耐心 — very kind.';
    await page.type('[data-testid="evaluation-comment"]', comment);
    expect(await page.$eval('[data-testid="evaluation-counter"]', (el) => el.textContent)).toBe(
      `${comment.length} / 1000`,
    );
    expect(
      await page.$$eval('[data-testid^="evaluation-overall-"].on', (stars) => stars.length),
      'four stars lit for overall',
    ).toBe(4);
    expect(await page.$eval('[data-testid="evaluation-comment"]', (el) => (el as HTMLTextAreaElement).maxLength)).toBe(
      1000,
    );
    await page.click('[data-testid="evaluation-submit"]');
    const thanks = await waitFor(
      'the thank-you',
      () => page.evaluate(() => document.querySelector('[data-testid="evaluation-thanks"]')?.textContent ?? undefined),
      { describe: () => describePage(patient) },
    );
    expect(thanks).toMatch(/thank you/i);

    // The doctor's token for the room reads it back.
    const token = await devToken(server!, { identity: doctor.identity, name: 'Dr Zhang Wei', role: 'doctor', room });
    const response = await fetch(`${server!.url}/api/rooms/${room}/evaluations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const { evaluations } = (await response.json()) as {
      evaluations: {
        by: { identity: string };
        overall: number;
        communication?: number;
        audioVideo?: number;
        comment?: string;
      }[];
    };
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0]).toMatchObject({
      by: { identity: patient.identity },
      overall: 4,
      communication: 5,
      comment,
    });
    expect(evaluations[0]).not.toHaveProperty('audioVideo');
  }, 120_000);
});
