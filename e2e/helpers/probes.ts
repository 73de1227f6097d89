/**
 * Page-side media probes: is a remote participant's video really being decoded,
 * and is their audio really carrying sound? Both read the media elements the
 * demo attached, never the SDK's internals.
 */
import { describePage, type DemoPage } from './browser.js';
import { sleep, waitFor } from './wait.js';

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
 * tile (or screen-share tile). Returns null while there is no tile or no video
 * track in it.
 */
export async function sampleVideo(
  demo: DemoPage,
  identity: string,
  source: 'camera' | 'screen' = 'camera',
): Promise<VideoSample | null> {
  return demo.page.evaluate(
    (identity, source) => {
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

      const testId = source === 'screen' ? 'screen-tile' : 'tile';
      const tile = document.querySelector<HTMLElement>(
        `[data-testid="${testId}"][data-identity="${CSS.escape(identity)}"]`,
      );
      const video = tile?.querySelector<Counted>('video');
      if (!tile || !video) return null;
      const track = video.srcObject instanceof MediaStream ? video.srcObject.getVideoTracks()[0] : undefined;
      if (!track) return null;
      countFrames(video);

      const key = `${identity}|${source}`;
      let probe = probes[key];
      if (!probe || probe.trackId !== track.id) {
        probe?.el.remove();
        const el = document.createElement('video') as Counted;
        el.muted = true;
        el.autoplay = true;
        el.playsInline = true;
        el.dataset.hzProbe = key;
        Object.assign(el.style, {
          position: 'fixed',
          left: '0',
          top: '0',
          width: '64px',
          height: '48px',
          zIndex: '9999',
          pointerEvents: 'none',
        });
        el.srcObject = new MediaStream([track]);
        document.body.append(el);
        void el.play().catch(() => {});
        countFrames(el);
        probe = probes[key] = { el, trackId: track.id };
      }
      return {
        tileFrames: video.__hzFrames ?? 0,
        probeFrames: probe.el.__hzFrames ?? 0,
        videoWidth: video.videoWidth,
        videoHeight: video.videoHeight,
        tileVideo: tile.dataset.video,
        trackMuted: track.muted,
      };
    },
    identity,
    source,
  );
}

/** Frames decoded during `ms` (tile and probe), plus the sample at the end. */
/** Waits until `viewer` decodes `other`'s camera (ICE + DTLS + first key frame can take a while). */
export async function untilDecoding(
  viewer: DemoPage,
  other: { label: string; identity: string },
  timeoutMs = 30_000,
): Promise<VideoSample> {
  return waitFor(
    `${viewer.label} to decode ${other.label}'s video`,
    async () => {
      const s = await sampleVideo(viewer, other.identity);
      return s && s.videoWidth > 0 && s.tileFrames > 5 ? s : undefined;
    },
    { timeoutMs, describe: () => describePage(viewer) },
  );
}

export async function framesDuring(
  demo: DemoPage,
  identity: string,
  ms: number,
  source: 'camera' | 'screen' = 'camera',
) {
  const before = await sampleVideo(demo, identity, source);
  await sleep(ms);
  const after = await sampleVideo(demo, identity, source);
  if (!before || !after) throw new Error(`${demo.label}: no ${source} tile with a track for ${identity}`);
  return { tile: after.tileFrames - before.tileFrames, probe: after.probeFrames - before.probeFrames, after };
}

// ---------------------------------------------------------------------------
// Audio: an AnalyserNode with the longest window (32768 samples, ~0.7 s) read
// every 50 ms, split into 128-sample blocks, so the fake microphone's short
// beeps are never missed between reads. (An AudioWorklet would need a blob:
// module, which the server's Content-Security-Policy rightly refuses.)

export interface AudioSample {
  /** Loudest 128-sample block (RMS, full scale = 1). */
  peakRms: number;
  /** RMS over the reads in the window (overlapping analyser windows). */
  meanRms: number;
  /** Analyser reads made in the window; ~20 per second when the page runs normally. */
  reads: number;
}

/**
 * Reads the meter for `identity`'s microphone audio element and resets it
 * (installing it on first use). Null while there is no such element or track.
 */
async function readAudioMeter(demo: DemoPage, identity: string): Promise<AudioSample | null> {
  return demo.page.evaluate(async (identity) => {
    type Meter = {
      trackId: string;
      source: MediaStreamAudioSourceNode;
      timer: number;
      peak: number;
      sumSquares: number;
      values: number;
      reads: number;
    };
    const w = window as unknown as { __hzAudio?: { ctx: AudioContext; meters: Record<string, Meter> } };
    const audio = document.querySelector<HTMLAudioElement>(
      `audio[data-testid="remote-audio"][data-identity="${CSS.escape(identity)}"][data-source="microphone"]`,
    );
    const track = audio?.srcObject instanceof MediaStream ? audio.srcObject.getAudioTracks()[0] : undefined;
    if (!track) return null;
    w.__hzAudio ??= { ctx: new AudioContext(), meters: {} };
    const { ctx, meters } = w.__hzAudio;
    if (ctx.state !== 'running') await ctx.resume();
    let meter = meters[identity];
    if (!meter || meter.trackId !== track.id) {
      if (meter) {
        clearInterval(meter.timer);
        meter.source.disconnect();
      }
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 32768;
      source.connect(analyser);
      const buffer = new Float32Array(analyser.fftSize);
      const m: Meter = { trackId: track.id, source, timer: 0, peak: 0, sumSquares: 0, values: 0, reads: 0 };
      m.timer = window.setInterval(() => {
        analyser.getFloatTimeDomainData(buffer);
        for (let start = 0; start < buffer.length; start += 128) {
          let sum = 0;
          for (let i = start; i < start + 128; i++) sum += buffer[i]! * buffer[i]!;
          m.peak = Math.max(m.peak, Math.sqrt(sum / 128));
          m.sumSquares += sum;
        }
        m.values += buffer.length;
        m.reads += 1;
      }, 50);
      meter = meters[identity] = m;
    }
    const sample = {
      peakRms: meter.peak,
      meanRms: Math.sqrt(meter.sumSquares / Math.max(1, meter.values)),
      reads: meter.reads,
    };
    Object.assign(meter, { peak: 0, sumSquares: 0, values: 0, reads: 0 });
    return sample;
  }, identity);
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

// ---------------------------------------------------------------------------
// What the browser itself received, from every peer connection the page made
// (openDemo keeps a list): the strongest evidence that a page decoded nothing.

export interface ReceivedMedia {
  /** Peer connections the page created (any state). */
  peerConnections: number;
  /** Summed over every inbound video stream. */
  videoFramesDecoded: number;
  videoPacketsReceived: number;
  /** Summed over every inbound audio stream. */
  audioPacketsReceived: number;
  audioSamplesReceived: number;
}

export async function receivedMedia(demo: DemoPage): Promise<ReceivedMedia> {
  return demo.page.evaluate(async () => {
    const pcs = (window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? [];
    const out = {
      peerConnections: pcs.length,
      videoFramesDecoded: 0,
      videoPacketsReceived: 0,
      audioPacketsReceived: 0,
      audioSamplesReceived: 0,
    };
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          out.videoFramesDecoded += Number(s.framesDecoded ?? 0);
          out.videoPacketsReceived += Number(s.packetsReceived ?? 0);
        } else if (s.kind === 'audio') {
          out.audioPacketsReceived += Number(s.packetsReceived ?? 0);
          out.audioSamplesReceived += Number(s.totalSamplesReceived ?? 0);
        }
      });
    }
    return out;
  });
}

/** What Chromium's getStats says one connected peer connection's DTLS-SRTP transport negotiated. */
export interface TransportCipher {
  dtlsState: string;
  tlsVersion: string;
  dtlsCipher: string;
  srtpCipher: string;
  /** The transport's DTLS role as Chromium reports it (client or server). */
  dtlsRole: string;
}

/** The `transport` stats (W3C webrtc-stats RTCTransportStats) of every open peer connection on the page. */
export async function transportCiphers(demo: DemoPage): Promise<TransportCipher[]> {
  return demo.page.evaluate(async () => {
    const pcs = (window as unknown as { __hzPeerConnections?: RTCPeerConnection[] }).__hzPeerConnections ?? [];
    const out: TransportCipher[] = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const report = await pc.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'transport') return;
        out.push({
          dtlsState: String(s.dtlsState ?? ''),
          tlsVersion: String(s.tlsVersion ?? ''),
          dtlsCipher: String(s.dtlsCipher ?? ''),
          srtpCipher: String(s.srtpCipher ?? ''),
          dtlsRole: String(s.dtlsRole ?? ''),
        });
      });
    }
    return out;
  });
}
