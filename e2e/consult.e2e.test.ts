/**
 * Issue 3 in a real browser: a consult between a doctor and a patient who
 * waits in the waiting room. The patient decodes nothing until admitted, then
 * media flows both ways; a second patient is turned away with a reason; the
 * chat is ordered and never markup; a 5 s network drop on the patient's side
 * heals without anyone leaving; a locked room keeps newcomers out; ending the
 * consult shows its summary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerDialog,
  demoEvents,
  demoState,
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
import { audioDuring, framesDuring, receivedMedia, untilDecoding } from './helpers/probes.js';
import { startDropProxy, type DropProxy } from './helpers/proxy.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';

/** RMS below this is silence (about -46 dBFS); Chromium's fake microphone beeps far above it. */
const SILENCE_RMS = 0.005;
/** Fewer frames than this in a 2 s window means the picture is not really moving (fake camera: ~30 fps). */
const MIN_LIVE_FRAMES = 10;
const DENY_REASON = 'Dr Zhang is running late; please book a new time for Thursday.';

describe('a consult with a waiting room', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  /** The patient's network: the demo is opened through it so the test can cut it. */
  let patientLink: DropProxy | undefined;
  let doctor: DemoPage;
  let patient: DemoPage;
  let deniedPatient: DemoPage | undefined;
  const pages: DemoPage[] = [];
  const room = `e2e-consult-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    chromium = await launchChromium();
    patientLink = await startDropProxy(server.port);
    doctor = await openDemo(chromium, server.url, 'doctor');
    patient = await openDemo(chromium, patientLink.url, 'patient');
    pages.push(doctor, patient);
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'consult' });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure(pages, server);
  });

  afterAll(async () => {
    await chromium?.close();
    await patientLink?.close();
    await server?.stop();
  });

  it('holds the patient in the waiting room, where the page receives and decodes nothing', async () => {
    await submitJoinForm(patient, { name: 'Wang Fang', role: 'patient', room });
    await waitInCall(patient, { admission: 'waiting', what: 'wait in the waiting room' });
    await patient.page.evaluate(() => ((window as unknown as { __hzSamePage: boolean }).__hzSamePage = true));

    // The doctor sees who waits, live: name, role and since when.
    await openTab(doctor, 'people');
    const entry = await waitFor(
      'the doctor to see the patient in the waiting list',
      () =>
        doctor.page.evaluate((identity) => {
          const li = document.querySelector<HTMLElement>(`[data-testid="waiting-entry"][data-identity="${identity}"]`);
          if (!li) return undefined;
          return {
            name: li.querySelector('[data-testid="waiting-name"]')?.textContent,
            role: li.querySelector<HTMLElement>('[data-testid="waiting-role"]')?.dataset.role,
            since: Number(li.querySelector<HTMLElement>('[data-testid="waiting-since"]')?.dataset.since),
            sinceText: li.querySelector('[data-testid="waiting-since"]')?.textContent,
            badge: document.querySelector('[data-testid="tab-people-badge"]')?.textContent,
          };
        }, patient.identity),
      { describe: () => describePage(doctor) },
    );
    expect(entry).toMatchObject({ name: 'Wang Fang', role: 'patient', badge: '1' });
    expect(Date.now() - entry.since).toBeLessThan(60_000);
    expect(entry.sinceText).toMatch(/waiting since/);

    // Three seconds in the waiting room while the doctor's camera and microphone are live.
    const before = await receivedMedia(patient);
    await sleep(3_000);
    const after = await receivedMedia(patient);
    expect(after, 'media received or decoded by the waiting patient').toMatchObject({
      videoFramesDecoded: 0,
      videoPacketsReceived: 0,
      audioPacketsReceived: 0,
      audioSamplesReceived: 0,
    });
    expect(before.videoFramesDecoded + before.audioPacketsReceived).toBe(0);
    const shown = await patient.page.evaluate(() => ({
      remoteTiles: document.querySelectorAll('[data-testid="tile"][data-local="false"]').length,
      audio: document.querySelectorAll('[data-testid="remote-audio"]').length,
      notice: document.querySelector('[data-testid="call-notice"]')?.textContent,
      sidePanel: document.querySelector<HTMLElement>('[data-testid="side-panel"]')?.hidden,
    }));
    expect(shown).toMatchObject({ remoteTiles: 0, audio: 0, sidePanel: true });
    expect(shown.notice).toMatch(/waiting room/i);
    expect(
      await doctor.page.$(`[data-testid="tile"][data-identity="${patient.identity}"]`),
      'no tile for a waiting patient',
    ).toBeNull();
  });

  it('admits the patient without a reload, and media flows both ways', async () => {
    await doctor.page.click(
      `[data-testid="waiting-entry"][data-identity="${patient.identity}"] [data-testid="admit-button"]`,
    );
    await waitInCall(patient, { camera: true, mic: true, what: 'be admitted with camera and microphone on' });
    expect(
      await patient.page.evaluate(() => (window as unknown as { __hzSamePage?: boolean }).__hzSamePage),
      'the same page, not a reload',
    ).toBe(true);
    await waitFor('the waiting list to empty', () =>
      doctor.page.evaluate(() => document.querySelectorAll('[data-testid="waiting-entry"]').length === 0 || undefined),
    );

    for (const [viewer, other] of [
      [patient, doctor],
      [doctor, patient],
    ] as const) {
      await untilDecoding(viewer, other);
      const { probe } = await framesDuring(viewer, other.identity, 2_000);
      expect(probe, `${viewer.label}: frames of ${other.label}'s camera in 2 s`).toBeGreaterThanOrEqual(
        MIN_LIVE_FRAMES,
      );
      const heard = await waitFor(
        `${viewer.label} to hear ${other.label}`,
        async () => {
          const sample = await audioDuring(viewer, other.identity, 1_500);
          return sample.peakRms > SILENCE_RMS ? sample : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 0 },
      );
      expect(heard.peakRms).toBeGreaterThan(SILENCE_RMS);
    }
    const received = await receivedMedia(patient);
    expect(received.videoFramesDecoded).toBeGreaterThan(MIN_LIVE_FRAMES);
    expect(received.audioPacketsReceived).toBeGreaterThan(0);
  });

  it("turns a second patient away, who sees the doctor's reason", async () => {
    deniedPatient = await openDemo(chromium!, server!.url, 'second patient');
    pages.push(deniedPatient);
    await submitJoinForm(deniedPatient, { name: 'Li Qiang', role: 'patient', room, camera: false, mic: false });
    await waitInCall(deniedPatient, { admission: 'waiting', what: 'wait in the waiting room' });
    const denyButton = `[data-testid="waiting-entry"][data-identity="${deniedPatient.identity}"] [data-testid="deny-button"]`;
    await (await doctor.page.waitForSelector(denyButton, { visible: true }))!.click();
    await answerDialog(doctor, 'deny-dialog', { reason: DENY_REASON });

    const message = await waitFor(
      'the second patient to be told why',
      () => joinMessage(deniedPatient!).then((m) => m ?? undefined),
      {
        describe: () => describePage(deniedPatient!),
      },
    );
    expect(message).toContain(DENY_REASON);
    expect(message).toContain('ADMISSION_DENIED');
    expect((await demoState(deniedPatient))?.phase).toBe('ended');
    await waitFor("the doctor's waiting list to empty", () =>
      doctor.page.evaluate(() => document.querySelectorAll('[data-testid="waiting-entry"]').length === 0 || undefined),
    );
    // The patient in the call was not touched.
    expect((await demoState(patient))?.phase).toBe('in-call');
    await deniedPatient.page.close();
    pages.splice(pages.indexOf(deniedPatient), 1);
  });

  it('orders the chat on the server and shows every message as text', async () => {
    const hostile = '<img src=x onerror="window.__hzInjected=1"><b>BP</b> 150/95';
    await openTab(doctor, 'chat');
    await openTab(patient, 'chat');
    await sendChat(doctor, 'Good morning, Ms Wang. Can you hear me?');
    await sendChat(patient, hostile);
    await sendChat(doctor, 'Clinical note: consider ACE inhibitor.', { cliniciansOnly: true });
    await sendChat(doctor, 'Thank you. Let us look at your blood pressure.');

    const doctorChat = await waitFor('the doctor to show four messages', async () => {
      const chat = (await demoState(doctor))?.chat ?? [];
      return chat.length === 4 ? chat : undefined;
    });
    const patientChat = await waitFor(
      'the patient to show three messages',
      async () => {
        const chat = (await demoState(patient))?.chat ?? [];
        return chat.length === 3 ? chat : undefined;
      },
      { describe: () => demoState(patient).then((s) => s?.chat) },
    );
    // Server order (seq) on both pages; the clinicians-only note never reached the patient.
    expect(doctorChat.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(patientChat.map((m) => m.seq)).toEqual([1, 2, 4]);
    expect(patientChat.map((m) => m.text)).toEqual([
      'Good morning, Ms Wang. Can you hear me?',
      hostile,
      'Thank you. Let us look at your blood pressure.',
    ]);
    expect(doctorChat[2]).toMatchObject({ to: 'clinicians', text: 'Clinical note: consider ACE inhibitor.' });
    // Name, role and time on each message; the markup is text, nothing ran.
    for (const p of [doctor, patient]) {
      const seen = await p.page.evaluate(() => ({
        injected: (window as unknown as { __hzInjected?: number }).__hzInjected ?? null,
        markup: document.querySelectorAll('[data-testid="chat-list"] img, [data-testid="chat-list"] b').length,
        meta: [...document.querySelectorAll('[data-testid="chat-message"]')].map((m) => ({
          from: m.querySelector('[data-testid="chat-from"]')?.textContent,
          role: m.querySelector('.role-chip')?.textContent,
          time: m.querySelector('time')?.getAttribute('datetime'),
        })),
      }));
      expect(seen.injected, `${p.label}: no script ran`).toBeNull();
      expect(seen.markup, `${p.label}: no element made from a message`).toBe(0);
      expect(seen.meta[1]).toMatchObject({ role: 'Patient' });
      expect(seen.meta[1]!.from).toContain('Wang Fang');
      expect(seen.meta.every((m) => m.time && !Number.isNaN(Date.parse(m.time)))).toBe(true);
    }
  });

  it("survives a 5 s network drop on the patient's side: media resumes and nobody leaves", async () => {
    // Nobody has reconnected yet.
    for (const p of [doctor, patient])
      expect((await demoEvents(p)).filter((e) => e.type === 'reconnecting')).toEqual([]);
    const during = { banner: null as string | null, doctorSawReconnecting: false };
    const watch = (async () => {
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const [b, r] = await Promise.all([
          patient.page.evaluate(() => {
            const el = document.querySelector<HTMLElement>('[data-testid="conn-banner"]');
            return el && !el.hidden ? el.textContent : null;
          }),
          doctor.page.evaluate(
            (id) =>
              document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${id}"]`)?.dataset
                .reconnecting === 'true',
            patient.identity,
          ),
        ]);
        during.banner ??= b;
        during.doctorSawReconnecting ||= r;
        await sleep(200);
      }
    })();
    const dropped = patientLink!.drop(5_000);
    // While the patient is away the doctor writes; the patient gets it with the history on reconnect.
    await sleep(1_500);
    await sendChat(doctor, 'Are you still there?');
    await Promise.all([dropped, watch]);
    expect(patientLink!.cut, 'connections cut').toBeGreaterThan(0);
    expect(during.banner).toMatch(/Reconnecting…/);
    expect(during.doctorSawReconnecting, "the doctor saw the patient's tile as reconnecting").toBe(true);

    await waitFor(
      'the patient to reconnect',
      async () => {
        const s = await demoState(patient);
        return s?.connectionState === 'connected' && s.events.some((e) => e.type === 'reconnected') ? s : undefined;
      },
      { timeoutMs: 25_000, describe: () => describePage(patient) },
    );
    await waitFor('the banner to go away', () =>
      patient.page.evaluate(
        () => document.querySelector<HTMLElement>('[data-testid="conn-banner"]')?.hidden || undefined,
      ),
    );
    await waitFor('the doctor to see the patient back', () =>
      doctor.page.evaluate(
        (id) =>
          document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${id}"]`)?.dataset.reconnecting ===
            'false' || undefined,
        patient.identity,
      ),
    );

    for (const [viewer, other] of [
      [patient, doctor],
      [doctor, patient],
    ] as const) {
      const { probe } = await waitFor(
        `${viewer.label} to decode ${other.label}'s video again`,
        async () => {
          const f = await framesDuring(viewer, other.identity, 1_000);
          return f.probe >= MIN_LIVE_FRAMES / 2 ? f : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 0, describe: () => describePage(viewer) },
      );
      expect(probe).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES / 2);
      const rising = await framesDuring(viewer, other.identity, 2_000);
      expect(
        rising.probe,
        `${viewer.label}: frames of ${other.label}'s camera in 2 s after the drop`,
      ).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES);
    }

    const doctorEvents = await demoEvents(doctor);
    const patientEvents = await demoEvents(patient);
    expect(
      doctorEvents.filter((e) => e.type === 'participantLeft'),
      "participantLeft on the doctor's page",
    ).toEqual([]);
    expect(
      patientEvents.filter((e) => e.type === 'participantLeft'),
      "participantLeft on the patient's page",
    ).toEqual([]);
    expect(doctorEvents.some((e) => e.type === 'participantReconnecting' && e.identity === patient.identity)).toBe(
      true,
    );
    expect(doctorEvents.some((e) => e.type === 'participantReconnected' && e.identity === patient.identity)).toBe(true);
    expect(patientEvents.find((e) => e.type === 'reconnected')?.detail, 'the same session went on').toBe('resumed');
    const patientChat = (await demoState(patient))?.chat ?? [];
    expect(patientChat.at(-1)?.text, 'the message sent during the outage').toBe('Are you still there?');
  });

  it('locks the room against newcomers, and unlocks it', async () => {
    await doctor.page.click('[data-testid="lock-button"]');
    await waitFor('the room to be locked', () =>
      doctor.page.evaluate(
        () =>
          document.querySelector<HTMLElement>('[data-testid="lock-button"]')?.dataset.locked === 'true' || undefined,
      ),
    );
    const late = await openDemo(chromium!, server!.url, 'late patient');
    pages.push(late);
    await submitJoinForm(late, { name: 'Zhao Min', role: 'patient', room, camera: false, mic: false });
    const message = await waitFor(
      'the late patient to be refused',
      () => joinMessage(late).then((m) => m ?? undefined),
      { describe: () => describePage(late) },
    );
    expect(message).toContain('ROOM_LOCKED');
    await doctor.page.click('[data-testid="lock-button"]');
    await waitFor('the room to be unlocked', () =>
      doctor.page.evaluate(
        () =>
          document.querySelector<HTMLElement>('[data-testid="lock-button"]')?.dataset.locked === 'false' || undefined,
      ),
    );
    await late.page.close();
    pages.splice(pages.indexOf(late), 1);
  });

  it('ends the consult after a confirmation and shows who took part, when, and for how long', async () => {
    await doctor.page.click('[data-testid="end-button"]');
    await answerDialog(doctor, 'end-dialog');
    const summary = await waitFor(
      'the doctor to see the summary',
      () =>
        doctor.page.evaluate(() => {
          const view = document.querySelector<HTMLElement>('[data-testid="summary-view"]');
          if (!view || view.hidden) return undefined;
          return {
            duration: view.querySelector('[data-testid="summary-duration"]')?.textContent,
            started: view.querySelector('[data-testid="summary-started"]')?.textContent,
            people: [...view.querySelectorAll<HTMLElement>('[data-testid="summary-person"]')].map(
              (r) => r.dataset.identity,
            ),
          };
        }),
      { describe: () => describePage(doctor) },
    );
    expect(summary.people).toEqual(expect.arrayContaining([doctor.identity, patient.identity]));
    expect(summary.duration).toMatch(/\d+ (s|min)/);
    expect(summary.started).not.toBe('not started');
    const ended = await waitFor('the patient to be told the consult ended', () =>
      joinMessage(patient).then((m) => m ?? undefined),
    );
    expect(ended).toMatch(/consult has ended/i);
  });
});

async function sendChat(demo: DemoPage, text: string, { cliniciansOnly = false } = {}): Promise<void> {
  await openTab(demo, 'chat');
  const box = await demo.page.$('[data-testid="chat-clinicians-only"]');
  if (box) await box.evaluate((el, on) => ((el as HTMLInputElement).checked = on), cliniciansOnly);
  await demo.page.$eval('[data-testid="chat-input"]', (el) => ((el as HTMLTextAreaElement).value = ''));
  await demo.page.type('[data-testid="chat-input"]', text);
  const count = (await demoState(demo))?.chat.length ?? 0;
  await demo.page.click('[data-testid="chat-send"]');
  await waitFor(
    `${demo.label}'s message to be sent`,
    async () => ((await demoState(demo))?.chat.length ?? 0) > count || undefined,
    {
      describe: () => describePage(demo),
    },
  );
}
