/**
 * Page-side media probes: is a remote participant's video really being decoded,
 * and is their audio really carrying sound? Both read the media elements the
 * demo attached, never the SDK's internals.
 */
import type { DemoPage } from './browser.js';
import { sleep } from './wait.js';

export interface VideoSample {
  /** Frames presented by the tile's own <video> (requestVideoFrameCallback count). */
  tileFrames: number;
  /**
   * Frames presented by a probe <video> that plays the same track and is always
   * visible, so "no new frames" means no media arrived, not that the demo's CSS
   * hid its tile.
   */
  probeFrames: number;
  videoWidth: number;
  videoHeight: number;
  /** The tile's data-video attribute: "live" | "muted" | "none". */
  tileVideo: string | undefined;
  trackMuted: boolean | undefined;
}

/**
 * Reads (and on first call installs) the frame counters for `identity`'s camera
 * tile. Returns null while there is no tile or no video track in it.
 */
export async function sampleVideo(demo: DemoPage, identity: string): Promise<VideoSample | null> {
  return demo.page.evaluate((identity) => {
    type Counted = HTMLVideoElement & { __hzFrames?: number };
    const w = window as unknown as { __hzVideoProbes?: Record<string, { el: Counted; trackId: string }> };
    const probes = (w.__hzVideoProbes ??= {});
    const countFrames = (video: Counted) => {
      if (video.__hzFrames !== undefined) return;
      video.__hzFrames = 0;
      const onFrame = () => {
        video.__hzFrames = (video.__hzFrames ?? 0) + 1;
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    };

    const tile = document.querySelector<HTMLElement>(`[data-testid="tile"][data-identity="${CSS.escape(identity)}"]`);
    const video = tile?.querySelector<Counted>('video');
    if (!tile || !video) return null;
    const track = video.srcObject instanceof MediaStream ? video.srcObject.getVideoTracks()[0] : undefined;
    if (!track) return null;
    countFrames(video);

    let probe = probes[identity];
    if (!probe || probe.trackId !== track.id) {
      probe?.el.remove();
      const el = document.createElement('video') as Counted;
      el.muted = true;
      el.autoplay = true;
      el.playsInline = true;
      el.dataset.hzProbe = identity;
      Object.assign(el.style, { position: 'fixed', left: '0', top: '0', width: '64px', height: '48px', zIndex: '9999', pointerEvents: 'none' });
      el.srcObject = new MediaStream([track]);
      document.body.append(el);
      void el.play().catch(() => {});
      countFrames(el);
      probe = probes[identity] = { el, trackId: track.id };
    }
    return {
      tileFrames: video.__hzFrames ?? 0,
      probeFrames: probe.el.__hzFrames ?? 0,
      videoWidth: video.videoWidth,
      videoHeight: video.videoHeight,
      tileVideo: tile.dataset.video,
      trackMuted: track.muted,
    };
  }, identity);
}

/** Frames decoded during `ms` (tile and probe), plus the sample at the end. */
export async function framesDuring(demo: DemoPage, identity: string, ms: number) {
  const before = await sampleVideo(demo, identity);
  await sleep(ms);
  const after = await sampleVideo(demo, identity);
  if (!before || !after) throw new Error(`${demo.label}: no video tile with a track for ${identity}`);
  return { tile: after.tileFrames - before.tileFrames, probe: after.probeFrames - before.probeFrames, after };
}

// ---------------------------------------------------------------------------
// Audio: an AudioWorklet measures the RMS of every 128-sample block of the
// remote track, so short beeps between reads are never missed (a timer-driven
// AnalyserNode could skip them).

const RMS_WORKLET = `
class HuizhenRmsMeter extends AudioWorkletProcessor {
  constructor() {
    super();
    this.reset();
    this.port.onmessage = () => {
      this.port.postMessage({ peakRms: this.peak, meanRms: Math.sqrt(this.sumSquares / Math.max(1, this.samples)), samples: this.samples });
      this.reset();
    };
  }
  reset() { this.peak = 0; this.sumSquares = 0; this.samples = 0; }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      let sum = 0;
      for (let i = 0; i < channel.length; i++) sum += channel[i] * channel[i];
      const rms = Math.sqrt(sum / channel.length);
      if (rms > this.peak) this.peak = rms;
      this.sumSquares += sum;
      this.samples += channel.length;
    }
    return true;
  }
}
registerProcessor('huizhen-rms-meter', HuizhenRmsMeter);
`;

export interface AudioSample {
  /** Loudest 128-sample block (RMS, full scale = 1). */
  peakRms: number;
  meanRms: number;
  /** Samples measured; ~48 000 per second when the audio graph runs. */
  samples: number;
}

/**
 * Reads the meter for `identity`'s microphone audio element and resets it
 * (installing it on first use). Null while there is no such element or track.
 */
async function readAudioMeter(demo: DemoPage, identity: string): Promise<AudioSample | null> {
  return demo.page.evaluate(
    async (identity, workletSource) => {
      type Meter = { trackId: string; source: MediaStreamAudioSourceNode; node: AudioWorkletNode };
      const w = window as unknown as { __hzAudio?: { ctx: AudioContext; ready: Promise<void>; meters: Record<string, Meter> } };
      const audio = document.querySelector<HTMLAudioElement>(
        `audio[data-testid="remote-audio"][data-identity="${CSS.escape(identity)}"][data-source="microphone"]`,
      );
      const track = audio?.srcObject instanceof MediaStream ? audio.srcObject.getAudioTracks()[0] : undefined;
      if (!track) return null;
      if (!w.__hzAudio) {
        const ctx = new AudioContext();
        const url = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
        w.__hzAudio = { ctx, ready: ctx.audioWorklet.addModule(url), meters: {} };
      }
      const { ctx, ready, meters } = w.__hzAudio;
      await ready;
      if (ctx.state !== 'running') await ctx.resume();
      let meter = meters[identity];
      if (!meter || meter.trackId !== track.id) {
        meter?.source.disconnect();
        const source = ctx.createMediaStreamSource(new MediaStream([track]));
        const node = new AudioWorkletNode(ctx, 'huizhen-rms-meter');
        // A silent path to the destination keeps the graph pulling samples through the meter.
        const mute = ctx.createGain();
        mute.gain.value = 0;
        source.connect(node).connect(mute).connect(ctx.destination);
        meter = meters[identity] = { trackId: track.id, source, node };
      }
      const { node } = meter;
      return new Promise<{ peakRms: number; meanRms: number; samples: number }>((resolve) => {
        node.port.onmessage = (event) => resolve(event.data);
        node.port.postMessage('read');
      });
    },
    identity,
    RMS_WORKLET,
  );
}

/** Measures `identity`'s remote microphone audio over `ms`. */
export async function audioDuring(demo: DemoPage, identity: string, ms: number): Promise<AudioSample> {
  const first = await readAudioMeter(demo, identity);
  if (!first) throw new Error(`${demo.label}: no remote audio element with a track for ${identity}`);
  await sleep(ms);
  const sample = await readAudioMeter(demo, identity);
  if (!sample) throw new Error(`${demo.label}: the remote audio element for ${identity} went away`);
  return sample;
}
