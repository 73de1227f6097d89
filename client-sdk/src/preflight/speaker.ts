/**
 * The speaker test for a pre-call check page: a short, gentle three-note chime
 * made with WebAudio (no file to download), so the patient can say whether
 * they heard it. Call it from a click handler: browsers only play sound after
 * the person has interacted with the page.
 */
export interface TestSoundOptions {
  /** The output device (`MediaDeviceInfo.deviceId` of an `audiooutput`), where the browser supports choosing one. */
  sinkId?: string;
  /** 0..1; 0.25 by default (comfortable on laptop speakers and headphones). */
  volume?: number;
  /** Re-use an AudioContext of the page; a new one is made (and closed) otherwise. */
  audioContext?: AudioContext;
}

/** C5, E5, G5: a major chord, heard as "a notification", not an alarm. */
const NOTES_HZ = [523.25, 659.25, 783.99];
const NOTE_S = 0.35;

/** Plays the chime; resolves when it has finished (about 1.4 s). */
export async function playTestSound(options: TestSoundOptions = {}): Promise<void> {
  const Ctor =
    globalThis.AudioContext ??
    (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor && !options.audioContext) throw new Error('This browser cannot play sound from a page (no WebAudio).');
  const ctx = options.audioContext ?? new Ctor();
  try {
    if (options.sinkId) {
      const withSink = ctx as AudioContext & { setSinkId?: (id: string) => Promise<void> };
      await withSink.setSinkId?.(options.sinkId);
    }
    if (ctx.state !== 'running') await ctx.resume();
    const volume = Math.min(1, Math.max(0, options.volume ?? 0.25));
    const start = ctx.currentTime + 0.05;
    NOTES_HZ.forEach((hz, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = hz;
      const t0 = start + i * NOTE_S;
      // A soft attack and a long decay: no clicks.
      gain.gain.setValueAtTime(0, t0);
      gain.gain.linearRampToValueAtTime(volume, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + NOTE_S * 1.8);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0);
      osc.stop(t0 + NOTE_S * 1.9);
    });
    const totalMs = (NOTES_HZ.length * NOTE_S + NOTE_S * 0.9 + 0.1) * 1000;
    await new Promise((r) => setTimeout(r, totalMs));
  } finally {
    if (!options.audioContext) await ctx.close().catch(() => undefined);
  }
}
