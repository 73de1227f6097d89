/**
 * "Does media flow?" for path tests (relay, TCP): the viewer decodes the other
 * side's moving picture and hears their microphone, measured on the page.
 */
import { demoEvents, type DemoPage } from './browser.js';
import { audioDuring, framesDuring, untilDecoding } from './probes.js';
import { waitFor } from './wait.js';

/** RMS below this is silence (about -46 dBFS); Chromium's fake microphone beeps far above it. */
export const SILENCE_RMS = 0.005;
/**
 * Frames in a 2 s window that show a moving picture. The fake camera sends ~30
 * fps, but on a loaded 2-core machine the browsers decode far fewer: this asks
 * for movement, not for a frame rate; a dead path decodes none.
 */
export const MIN_LIVE_FRAMES = 4;

/** `viewer` decodes `other`'s moving picture and hears their microphone (retried while the machine is busy). */
export async function seesAndHears(viewer: DemoPage, other: DemoPage, what: string): Promise<void> {
  await untilDecoding(viewer, other, 45_000);
  await waitFor(
    `${viewer.label} to see ${other.label}'s picture move (${what})`,
    async () => (await framesDuring(viewer, other.identity, 2000)).probe >= MIN_LIVE_FRAMES,
    { timeoutMs: 30_000, describe: () => framesDuring(viewer, other.identity, 2000) },
  );
  await waitFor(
    `${viewer.label} to hear ${other.label} (${what})`,
    async () => (await audioDuring(viewer, other.identity, 3000)).peakRms > SILENCE_RMS,
    { timeoutMs: 30_000, describe: () => audioDuring(viewer, other.identity, 3000) },
  );
}

/** Waits until `viewer` has subscribed anew (after event index `from`) to `other`'s camera and decodes it. */
export async function decodesAnew(viewer: DemoPage, other: DemoPage, from: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    `${viewer.label} to receive ${other.label}'s camera anew`,
    async () =>
      (await demoEvents(viewer))
        .slice(from)
        .some((e) => e.type === 'trackSubscribed' && e.identity === other.identity && e.source === 'camera') ||
      undefined,
    { timeoutMs },
  );
  await untilDecoding(viewer, other, timeoutMs);
}
