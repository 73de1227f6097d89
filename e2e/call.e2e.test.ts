/**
 * Two clinicians in one consult, through the demo UI in real Chromium against
 * a real Huizhen server: video and audio flow both ways, camera-off and mute
 * stop the media on the far side, and leaving removes the tile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  demoEvents,
  describePage,
  joinViaUi,
  launchChromium,
  openDemo,
  reportFailure,
  type Chromium,
  type DemoPage,
} from './helpers/browser.js';
import { audioDuring, framesDuring, sampleVideo, transportCiphers, untilDecoding } from './helpers/probes.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { sleep, waitFor } from './helpers/wait.js';

/** RMS below this is silence (about -46 dBFS); Chromium's fake microphone beeps far above it. */
const SILENCE_RMS = 0.005;
/** Fewer frames than this in the 2 s window means the picture is not really moving (fake camera: ~30 fps). */
const MIN_LIVE_FRAMES = 10;

describe('a doctor and a specialist in one consult', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let specialist: DemoPage;
  const room = `e2e-call-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer();
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    specialist = await openDemo(chromium, server.url, 'specialist');
    try {
      await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room });
      await joinViaUi(specialist, { name: 'Prof Li Na', role: 'specialist', room });
    } catch (err) {
      if (err instanceof Error) err.message += `\n--- server log ---\n${server.tail(40)}`;
      throw err;
    }
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure([doctor, specialist], server);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('shows each side the other as a named tile with a role label', async () => {
    for (const [viewer, other, name, role] of [
      [doctor, specialist, 'Prof Li Na', 'specialist'],
      [specialist, doctor, 'Dr Zhang Wei', 'doctor'],
    ] as const) {
      const tile = await waitFor(
        `${viewer.label} to show ${other.label}'s tile`,
        () =>
          viewer.page.evaluate((identity) => {
            const el = document.querySelector<HTMLElement>(
              `[data-testid="tile"][data-identity="${CSS.escape(identity)}"]`,
            );
            return el
              ? {
                  name: el.querySelector('[data-testid="tile-name"]')?.textContent,
                  role: el.querySelector<HTMLElement>('[data-testid="tile-role"]')?.dataset.role,
                }
              : undefined;
          }, other.identity),
        { describe: () => describePage(viewer) },
      );
      expect(tile).toEqual({ name, role });
    }
  });

  it("decodes the other side's camera video on both pages", async () => {
    for (const [viewer, other] of [
      [specialist, doctor],
      [doctor, specialist],
    ] as const) {
      // Wait until frames flow at all (ICE + DTLS + first key frame), then measure a steady window.
      await untilDecoding(viewer, other);
      const { tile, probe, after } = await framesDuring(viewer, other.identity, 2_000);
      expect(after.videoWidth, `${viewer.label} sees ${other.label}'s video size`).toBeGreaterThan(0);
      expect(after.tileVideo).toBe('live');
      expect(tile, `${viewer.label}: frames shown in ${other.label}'s tile in 2 s`).toBeGreaterThanOrEqual(
        MIN_LIVE_FRAMES,
      );
      expect(probe, `${viewer.label}: frames of ${other.label}'s track in 2 s`).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES);
    }
  });

  it("hears the other side's microphone on both pages", async () => {
    for (const [viewer, other] of [
      [specialist, doctor],
      [doctor, specialist],
    ] as const) {
      const heard = await waitFor(
        `${viewer.label} to hear ${other.label}`,
        async () => {
          const sample = await audioDuring(viewer, other.identity, 1_500);
          return sample.peakRms > SILENCE_RMS ? sample : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 0, describe: () => audioDuring(viewer, other.identity, 1_000) },
      );
      expect(heard.reads, 'the meter kept reading').toBeGreaterThan(10);
      expect(heard.peakRms).toBeGreaterThan(SILENCE_RMS);
    }
  });

  it('negotiates DTLS-SRTP with the server and says which ciphers (Chromium getStats, transport stats)', async () => {
    for (const viewer of [doctor, specialist]) {
      const transports = await transportCiphers(viewer);
      // One send and one receive transport per page, each through DTLS with the worker.
      expect(transports.length, `${viewer.label}: transports`).toBeGreaterThanOrEqual(2);
      for (const t of transports) {
        // Printed on purpose: the suite real clients use is what the load generator mimics (loadtest --srtp-suite).
        console.log(
          `[ciphers] ${viewer.label}: srtpCipher=${t.srtpCipher} dtlsCipher=${t.dtlsCipher} tls=${t.tlsVersion} role=${t.dtlsRole}`,
        );
        expect(t.dtlsState).toBe('connected');
        // Chromium names the DTLS-SRTP profile (RFC 5764 / 7714 names with an SRTP_ prefix).
        expect(t.srtpCipher).toMatch(/^SRTP_(AEAD_AES_(128|256)_GCM|AES128_CM_SHA1_(80|32))$/);
        expect(t.dtlsCipher).toMatch(/^TLS_/);
      }
    }
  });

  it("stops the doctor's video on the specialist's page when the doctor turns the camera off", async () => {
    const live = await framesDuring(specialist, doctor.identity, 1_000);
    expect(live.probe, 'frames flow before the camera is turned off').toBeGreaterThanOrEqual(MIN_LIVE_FRAMES / 2);

    await doctor.page.click('[data-testid="cam-button"]');
    await waitFor('the doctor page to show its camera off', () =>
      doctor.page.evaluate(() => window.huizhen?.state.camera === false || undefined),
    );

    await waitFor(
      "the specialist to see the doctor's camera muted",
      async () => {
        const events = await demoEvents(specialist);
        const muted = events.some(
          (e) => e.type === 'trackMuted' && e.identity === doctor.identity && e.kind === 'video',
        );
        const s = await sampleVideo(specialist, doctor.identity);
        return muted && s?.tileVideo === 'muted' ? true : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    // Frames already in flight may still land; then the count must stand still.
    await sleep(1_000);
    const stopped = await framesDuring(specialist, doctor.identity, 2_000);
    expect(stopped.probe, "frames of the doctor's track decoded in 2 s with the camera off").toBeLessThanOrEqual(1);
    expect(stopped.tile, "frames shown in the doctor's tile in 2 s with the camera off").toBeLessThanOrEqual(1);
    const avatarShown = await specialist.page.evaluate(
      (identity) =>
        getComputedStyle(
          document.querySelector(`[data-testid="tile"][data-identity="${CSS.escape(identity)}"] .avatar`)!,
        ).display !== 'none',
      doctor.identity,
    );
    expect(avatarShown, 'the tile shows the avatar instead of a frozen picture').toBe(true);
  });

  it("silences the doctor on the specialist's page when the doctor mutes the microphone", async () => {
    const before = await audioDuring(specialist, doctor.identity, 1_500);
    expect(before.peakRms, 'audible before muting').toBeGreaterThan(SILENCE_RMS);

    await doctor.page.click('[data-testid="mic-button"]');
    await waitFor('the doctor page to show its mic muted', () =>
      doctor.page.evaluate(() => window.huizhen?.state.mic === false || undefined),
    );
    await waitFor(
      "the specialist to see the doctor's mic muted",
      () =>
        specialist.page.evaluate(
          (identity) =>
            document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${CSS.escape(identity)}"]`)
              ?.dataset.audio === 'muted' || undefined,
          doctor.identity,
        ),
      { describe: () => describePage(specialist) },
    );
    // The receiver's jitter buffer may play out a little concealment; then it must be quiet.
    await waitFor(
      "the doctor's audio to fall silent",
      async () => {
        const s = await audioDuring(specialist, doctor.identity, 1_000);
        return s.peakRms < SILENCE_RMS ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 0, describe: () => audioDuring(specialist, doctor.identity, 1_000) },
    );
    const silent = await audioDuring(specialist, doctor.identity, 2_000);
    expect(silent.reads, 'the meter kept reading').toBeGreaterThan(20);
    expect(silent.peakRms, 'loudest block over 2 s while muted').toBeLessThan(SILENCE_RMS);

    const mutedIcon = await specialist.page.evaluate(
      (identity) =>
        getComputedStyle(
          document.querySelector(
            `[data-testid="tile"][data-identity="${CSS.escape(identity)}"] [data-testid="mic-muted"]`,
          )!,
        ).display !== 'none',
      doctor.identity,
    );
    expect(mutedIcon, 'the muted-mic indicator is visible').toBe(true);
  });

  it("brings the doctor's video and sound back when the doctor turns camera and mic on again", async () => {
    await doctor.page.click('[data-testid="cam-button"]');
    await doctor.page.click('[data-testid="mic-button"]');
    await waitFor(
      "the specialist to see the doctor's camera and mic live again",
      async () => {
        const events = await demoEvents(specialist);
        const unmuted = (kind: string) =>
          events.some((e) => e.type === 'trackUnmuted' && e.identity === doctor.identity && e.kind === kind);
        const tile = await specialist.page.evaluate(
          (identity) => ({
            ...document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${CSS.escape(identity)}"]`)
              ?.dataset,
          }),
          doctor.identity,
        );
        return unmuted('video') && unmuted('audio') && tile.video === 'live' && tile.audio === 'live'
          ? true
          : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    // The server asks the doctor's browser for a key frame; give decoding a moment to restart.
    await waitFor(
      "the doctor's frames to flow again",
      async () => {
        const { probe } = await framesDuring(specialist, doctor.identity, 1_000);
        return probe >= MIN_LIVE_FRAMES / 2 || undefined;
      },
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    const { probe } = await framesDuring(specialist, doctor.identity, 2_000);
    expect(probe, "frames of the doctor's track in 2 s after turning the camera on").toBeGreaterThanOrEqual(
      MIN_LIVE_FRAMES,
    );
    const heard = await waitFor(
      'the doctor to be heard again',
      async () => {
        const sample = await audioDuring(specialist, doctor.identity, 1_500);
        return sample.peakRms > SILENCE_RMS ? sample : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 0 },
    );
    expect(heard.peakRms).toBeGreaterThan(SILENCE_RMS);
  });

  it("shows the doctor's shared screen on the specialist's page until the doctor stops sharing", async () => {
    await doctor.page.click('[data-testid="screen-button"]');
    await waitFor(
      'the doctor page to report sharing',
      () => doctor.page.evaluate(() => window.huizhen?.state.screen || undefined),
      {
        describe: () => describePage(doctor),
      },
    );
    await waitFor(
      "the specialist to decode the doctor's screen",
      async () => {
        const s = await sampleVideo(specialist, doctor.identity, 'screen');
        return s && s.videoWidth > 0 && s.tileFrames > 3 ? s : undefined;
      },
      { timeoutMs: 30_000, describe: () => describePage(specialist) },
    );
    const { probe } = await framesDuring(specialist, doctor.identity, 2_000, 'screen');
    // Screen shares are captured at a lower frame rate than cameras (15 fps at most).
    expect(probe, "frames of the doctor's screen in 2 s").toBeGreaterThanOrEqual(MIN_LIVE_FRAMES / 2);

    await doctor.page.click('[data-testid="screen-button"]');
    await waitFor(
      "the screen tile to go away on the specialist's page",
      () =>
        specialist.page.evaluate(
          (identity) =>
            !document.querySelector(`[data-testid="screen-tile"][data-identity="${CSS.escape(identity)}"]`) ||
            undefined,
          doctor.identity,
        ),
      { describe: () => describePage(specialist) },
    );
    const events = await demoEvents(specialist);
    expect(
      events.some((e) => e.type === 'trackUnsubscribed' && e.identity === doctor.identity && e.source === 'screen'),
    ).toBe(true);
    // The camera tile is untouched by the screen share ending.
    expect(await sampleVideo(specialist, doctor.identity)).not.toBeNull();
  });

  it("removes the doctor from the specialist's page when the doctor leaves", async () => {
    await doctor.page.click('[data-testid="leave-button"]');
    await waitFor('the doctor page to return to the join form', () =>
      doctor.page.evaluate(
        () =>
          (window.huizhen?.state.phase === 'ended' &&
            !document.querySelector<HTMLElement>('[data-testid="join-form"]')?.closest('section')?.hidden) ||
          undefined,
      ),
    );

    await waitFor(
      'the specialist to see the doctor leave',
      async () => {
        const events = await demoEvents(specialist);
        const left = events.some((e) => e.type === 'participantLeft' && e.identity === doctor.identity);
        const unsubscribed = events.filter((e) => e.type === 'trackUnsubscribed' && e.identity === doctor.identity);
        return left && unsubscribed.some((e) => e.kind === 'video') && unsubscribed.some((e) => e.kind === 'audio')
          ? true
          : undefined;
      },
      { describe: () => describePage(specialist) },
    );
    const leftovers = await specialist.page.evaluate(
      (identity) =>
        document.querySelectorAll(
          `[data-testid="tile"][data-identity="${CSS.escape(identity)}"], audio[data-identity="${CSS.escape(identity)}"]`,
        ).length,
      doctor.identity,
    );
    expect(leftovers, 'tiles and audio elements left for the doctor').toBe(0);
    const own = await specialist.page.$(`[data-testid="tile"][data-identity="${specialist.identity}"]`);
    expect(own, "the specialist's own tile stays").not.toBeNull();
  });
});
