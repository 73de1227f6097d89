/**
 * ICE over TCP, for networks that let only TCP reach the media server: with
 * `media.iceProtocols: ['tcp']` the server offers TCP candidates only, and two
 * real browsers still see and hear each other, over TCP on both ends of the
 * selected candidate pair.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinViaUi, launchChromium, openDemo, reportFailure, type Chromium, type DemoPage } from './helpers/browser.js';
import { icePaths } from './helpers/icePath.js';
import { audioDuring, framesDuring, untilDecoding } from './helpers/probes.js';
import { startServer, type HuizhenServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** RMS below this is silence (about -46 dBFS); Chromium's fake microphone beeps far above it. */
const SILENCE_RMS = 0.005;
/** Fewer frames in 2 s means the picture is not really moving (fake camera: ~30 fps). */
const MIN_LIVE_FRAMES = 10;

describe('media over ICE-TCP only', () => {
  let server: HuizhenServer | undefined;
  let chromium: Chromium | undefined;
  let doctor: DemoPage;
  let nurse: DemoPage;
  const room = `e2e-tcp-${Date.now().toString(36)}`;

  beforeAll(async () => {
    server = await startServer({ config: { media: { iceProtocols: ['tcp'] } } });
    chromium = await launchChromium();
    doctor = await openDemo(chromium, server.url, 'doctor');
    nurse = await openDemo(chromium, server.url, 'nurse');
    await joinViaUi(doctor, { name: 'Dr Wang Fang', role: 'doctor', room });
    await joinViaUi(nurse, { name: 'Nurse Chen Jing', role: 'nurse', room });
  });

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await reportFailure([doctor, nurse], server);
  });

  afterAll(async () => {
    await chromium?.close();
    await server?.stop();
  });

  it('decodes video and hears audio both ways, over TCP candidates only', async () => {
    for (const [viewer, other] of [
      [doctor, nurse],
      [nurse, doctor],
    ] as const) {
      await untilDecoding(viewer, other, 45_000);
      const frames = await framesDuring(viewer, other.identity, 2000);
      expect(frames.probe, `${viewer.label} sees ${other.label} move`).toBeGreaterThanOrEqual(MIN_LIVE_FRAMES);
      const audio = await audioDuring(viewer, other.identity, 3000);
      expect(audio.peakRms, `${viewer.label} hears ${other.label}`).toBeGreaterThan(SILENCE_RMS);
    }

    for (const page of [doctor, nurse]) {
      // Both transports (send and receive) of each page are up, on a TCP pair.
      const paths = await waitFor(
        `${page.label}'s send and receive transports to be connected`,
        async () => {
          const p = (await icePaths(page)).filter((x) => x.connectionState === 'connected');
          return p.length >= 2 ? p : undefined;
        },
        { timeoutMs: 20_000, describe: () => icePaths(page) },
      );
      for (const path of paths) {
        expect(path.localProtocol, `${page.label} local candidate`).toBe('tcp');
        expect(path.remoteProtocol, `${page.label} remote candidate`).toBe('tcp');
        expect(path.remoteType).toBe('host');
        // The server offered nothing but TCP.
        expect(path.remoteCandidates.length).toBeGreaterThan(0);
        expect(
          path.remoteCandidates.every((c) => c.endsWith('/tcp')),
          path.remoteCandidates.join(', '),
        ).toBe(true);
      }
    }
  });
});
