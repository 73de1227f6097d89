/**
 * Issue 3 across hospitals, in a real browser: a specialist signs in with a
 * token from their own hospital (a second trusted issuer with an RSA key made
 * here), while a doctor token from that hospital is refused. The host mutes
 * the specialist (their decoded audio falls silent on the host's page), reads
 * the specialist's versioned opinion, and removes them for good.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  answerDialog,
  clickInTile,
  demoEvents,
  demoState,
  describePage,
  joinMessage,
  joinViaUi,
  launchChromium,
  openDemo,
  openTab,
  reportFailure,
  setJoinMedia,
  waitInCall,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { audioDuring } from './helpers/probes.js';
import { LOCAL_DEV_ISSUER, startServer, type HuizhenServer } from './helpers/server.js';
import { makePartnerIssuer } from './helpers/tokens.js';
import { sleep, waitFor } from './helpers/wait.js';

const SILENCE_RMS = 0.005;
const partner = makePartnerIssuer('https://sso.partner-hospital.example', ['specialist']);

describe('a collaborative clinic with a specialist from a partner hospital', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const pages: DemoPage[] = [];
  const room = `e2e-clinic-${Date.now().toString(36)}`;
  const specialistId = 'prof-chen-partner';

  beforeAll(async () => {
    server = await startServer({ config: { auth: { issuers: [LOCAL_DEV_ISSUER, partner.config] } } });
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'host doctor');
    pages.push(doctor);
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room, kind: 'clinic', camera: false });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure(pages, server);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  /** Opens the demo with a link token and presses Join. */
  async function openWithToken(label: string, token: string, media = { camera: false, mic: true }): Promise<DemoPage> {
    const demo = await openDemo(chromium!, server!.url, label, `/#token=${encodeURIComponent(token)}`);
    pages.push(demo);
    await setJoinMedia(demo, media);
    await demo.page.click('[data-testid="join-button"]');
    return demo;
  }

  it('lets in a specialist whose token comes from their own hospital, who finds the chat so far', async () => {
    // Written before the specialist arrives: it must reach them as history.
    await openTab(doctor, 'chat');
    await doctor.page.click('[data-testid="chat-clinicians-only"]');
    await doctor.page.type('[data-testid="chat-input"]', 'Referral: CKD work-up, eGFR 52.');
    await doctor.page.click('[data-testid="chat-send"]');
    await waitFor("the doctor's note to be sent", async () =>
      (await demoState(doctor))?.chat.length === 1 ? true : undefined,
    );

    specialist = await openWithToken(
      'partner specialist',
      partner.token({ sub: specialistId, name: 'Prof Chen Jing', room, role: 'specialist' }),
    );
    await waitInCall(specialist, { camera: false, mic: true, what: "join with the partner hospital's token" });
    const state = await demoState(specialist);
    expect(state).toMatchObject({
      identity: specialistId,
      name: 'Prof Chen Jing',
      role: 'specialist',
      room,
      kind: 'clinic',
      admission: 'admitted',
    });
    const tile = await waitFor(
      'the doctor to show the specialist',
      () =>
        doctor.page.evaluate((id) => {
          const el = document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${id}"]`);
          return el
            ? {
                name: el.querySelector('[data-testid="tile-name"]')?.textContent,
                role: el.querySelector<HTMLElement>('[data-testid="tile-role"]')?.dataset.role,
              }
            : undefined;
        }, specialistId),
      { describe: () => describePage(doctor) },
    );
    expect(tile).toEqual({ name: 'Prof Chen Jing', role: 'specialist' });
    await openTab(specialist, 'chat');
    const history = await waitFor('the specialist to show the chat history', async () => {
      const chat = (await demoState(specialist))?.chat ?? [];
      return chat.length ? chat : undefined;
    });
    expect(history).toEqual([
      { seq: 1, from: doctor.identity, to: 'clinicians', text: 'Referral: CKD work-up, eGFR 52.' },
    ]);
  });

  it('refuses a token from that hospital that asks for the doctor role', async () => {
    const impostor = await openWithToken(
      'partner "doctor"',
      partner.token({ sub: 'dr-partner-x', name: 'Dr X', room, role: 'doctor' }),
    );
    const message = await waitFor(
      'the page to say why it cannot join',
      () => joinMessage(impostor).then((m) => m ?? undefined),
      {
        describe: () => describePage(impostor),
      },
    );
    expect(message).toContain('PERMISSION_DENIED');
    expect(message).toContain("may not grant the role 'doctor'");
    expect(await impostor.page.evaluate(() => window.huizhen === undefined)).toBe(true);
    expect(await doctor.page.$('[data-testid="tile"][data-identity="dr-partner-x"]')).toBeNull();
    await impostor.page.close();
    pages.splice(pages.indexOf(impostor), 1);
  });

  it("silences the specialist on the host's page when the host mutes them", async () => {
    const heard = await waitFor(
      'the doctor to hear the specialist',
      async () => {
        const sample = await audioDuring(doctor, specialistId, 1_500);
        return sample.peakRms > SILENCE_RMS ? sample : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 0, describe: () => describePage(doctor) },
    );
    expect(heard.peakRms).toBeGreaterThan(SILENCE_RMS);

    await clickInTile(doctor, specialistId, '[data-testid="tile-mute"]');
    await answerDialog(doctor, 'mute-dialog', { allowUnmute: false });

    await waitFor(
      "the specialist's audio to fall silent on the doctor's page",
      async () => {
        const s = await audioDuring(doctor, specialistId, 1_000);
        return s.peakRms < SILENCE_RMS ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 0, describe: () => audioDuring(doctor, specialistId, 1_000) },
    );
    const silent = await audioDuring(doctor, specialistId, 2_000);
    expect(silent.reads, 'the meter kept reading').toBeGreaterThan(20);
    expect(silent.peakRms, 'loudest block over 2 s after the host muted the specialist').toBeLessThan(SILENCE_RMS);
    expect(
      await doctor.page.$eval(
        `[data-testid="tile"][data-identity="${specialistId}"]`,
        (el) => (el as HTMLElement).dataset.audio,
      ),
    ).toBe('muted');

    // The specialist is told, and may not turn the microphone back on.
    const told = await waitFor(
      'the specialist to be told',
      async () => {
        const s = await demoState(specialist);
        return s?.mutedByHost ? s : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    expect(told).toMatchObject({ mic: false, mutedByHost: { allowUnmute: false } });
    expect(told.lastError).toContain('Dr Zhang Wei turned off your microphone');
    const button = await specialist.page.$eval('[data-testid="mic-button"]', (el) => ({
      disabled: (el as HTMLButtonElement).disabled,
      text: el.textContent,
    }));
    expect(button).toEqual({ disabled: true, text: 'Muted by host' });
  });

  it("keeps every version of the specialist's opinion, shown to the host with the hospital that signed them in", async () => {
    await openTab(specialist, 'opinion');
    for (const [i, text] of [
      'Suspect early-stage CKD; repeat eGFR in 3 months.',
      'CKD stage 2. Repeat eGFR in 3 months; refer to nephrology.',
    ].entries()) {
      // The server keeps versions at least a second apart; a revision comes after some thought anyway.
      if (i > 0) await sleep(1_100);
      await specialist.page.$eval('[data-testid="opinion-editor"]', (el) => ((el as HTMLTextAreaElement).value = ''));
      await specialist.page.type('[data-testid="opinion-editor"]', text);
      const before = (await demoState(specialist))?.opinions.length ?? 0;
      await specialist.page.click('[data-testid="opinion-save"]');
      await waitFor(
        'the opinion to be saved',
        async () => ((await demoState(specialist))?.opinions.length ?? 0) > before || undefined,
      );
    }
    await openTab(doctor, 'opinion');
    const shown = await waitFor(
      'the doctor to see both versions',
      () =>
        doctor.page.evaluate((id) => {
          const author = document.querySelector(`[data-testid="opinion-author"][data-identity="${id}"]`);
          const versions = [...(author?.querySelectorAll<HTMLElement>('[data-testid="opinion-version"]') ?? [])];
          return versions.length === 2
            ? {
                versions: versions.map((v) => [
                  v.dataset.version,
                  v.querySelector('[data-testid="opinion-text"]')?.textContent,
                ]),
                issuer: author?.querySelector('.issuer')?.textContent,
              }
            : undefined;
        }, specialistId),
      { describe: () => describePage(doctor) },
    );
    expect(shown.versions).toEqual([
      ['2', 'CKD stage 2. Repeat eGFR in 3 months; refer to nephrology.'],
      ['1', 'Suspect early-stage CKD; repeat eGFR in 3 months.'],
    ]);
    expect(shown.issuer).toBe(partner.iss);
  });

  it('removes the specialist, who cannot come back even with a new token', async () => {
    await clickInTile(doctor, specialistId, '[data-testid="tile-remove"]');
    await answerDialog(doctor, 'remove-dialog', { reason: 'Wrong clinic, sorry.' });
    const message = await waitFor(
      'the specialist to be told',
      () => joinMessage(specialist).then((m) => m ?? undefined),
      {
        describe: () => describePage(specialist),
      },
    );
    expect(message).toContain('REMOVED');
    expect(message).toContain('Wrong clinic, sorry.');
    await waitFor("the specialist's tile to go", () =>
      doctor.page.evaluate(
        (id) => !document.querySelector(`[data-testid="tile"][data-identity="${id}"]`) || undefined,
        specialistId,
      ),
    );
    expect(
      (await demoEvents(doctor)).find((e) => e.type === 'participantLeft' && e.identity === specialistId)?.detail,
    ).toBe('removed');

    // A fresh token from their hospital, same identity: refused.
    const again = await openWithToken(
      'removed specialist, new token',
      partner.token({ sub: specialistId, name: 'Prof Chen Jing', room, role: 'specialist' }),
    );
    const refused = await waitFor(
      'the new attempt to be refused',
      () => joinMessage(again).then((m) => m ?? undefined),
      {
        describe: () => describePage(again),
      },
    );
    expect(refused).toContain('REMOVED');
    expect(await again.page.evaluate(() => window.huizhen === undefined)).toBe(true);
  });
});
