/**
 * The local half of the check: may the camera and microphone be used, does the
 * camera give a picture (at least one frame shown locally) and does the
 * microphone hear anything (its level, through WebAudio).
 */
import type { CameraCheck, DeviceStatus, MicrophoneCheck } from './types.js';
import { THRESHOLDS } from './verdict.js';

/** How long to wait for a first camera frame. */
const FRAME_TIMEOUT_MS = 5000;
/** How long to listen for sound. Long enough for one "hello". */
const LISTEN_MS = 3000;

export interface DeviceChecks {
  camera: CameraCheck;
  microphone: MicrophoneCheck;
  /** The working tracks, used again as the test stream (the caller stops them). */
  videoTrack?: MediaStreamTrack;
  audioTrack?: MediaStreamTrack;
}

/** Maps a getUserMedia error to what the person can do about it. */
export function deviceStatusOf(error: unknown): DeviceStatus {
  const name = (error as { name?: string })?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'notFound';
    case 'NotReadableError':
    case 'AbortError':
      return 'inUse';
    default:
      return 'error';
  }
}

const CAMERA_MESSAGES: Record<DeviceStatus, string> = {
  ok: 'Your camera works.',
  denied: 'The camera may not be used.',
  notFound: 'No camera found.',
  inUse: 'The camera is busy in another app.',
  noSignal: 'The camera gives no picture.',
  skipped: 'Camera not checked.',
  error: 'The camera did not start.',
};
const MIC_MESSAGES: Record<DeviceStatus | 'silent', string> = {
  ok: 'Your microphone works.',
  denied: 'The microphone may not be used.',
  notFound: 'No microphone found.',
  inUse: 'The microphone is busy in another app.',
  noSignal: 'The microphone gives no sound.',
  silent: 'The microphone is silent.',
  skipped: 'Microphone not checked.',
  error: 'The microphone did not start.',
};

async function getTrack(kind: 'audio' | 'video'): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia(
    kind === 'video' ? { video: { width: { ideal: 640 }, height: { ideal: 360 } } } : { audio: true },
  );
  const track = kind === 'video' ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0];
  if (!track) throw Object.assign(new Error(`no ${kind} track`), { name: 'NotFoundError' });
  return track;
}

/**
 * Asks for both devices at once (one permission prompt); when that fails, each
 * on its own, so a missing camera does not hide a working microphone.
 */
async function openDevices(
  wantVideo: boolean,
  wantAudio: boolean,
): Promise<{ video?: MediaStreamTrack; audio?: MediaStreamTrack; videoError?: unknown; audioError?: unknown }> {
  if (!navigator.mediaDevices?.getUserMedia) {
    const error = Object.assign(new Error('getUserMedia is not available (not a secure page?)'), {
      name: 'SecurityError',
    });
    return { videoError: error, audioError: error };
  }
  if (wantVideo && wantAudio) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 360 } },
        audio: true,
      });
      const video = stream.getVideoTracks()[0];
      const audio = stream.getAudioTracks()[0];
      if (video && audio) return { video, audio };
      for (const t of stream.getTracks()) t.stop();
    } catch {
      // Fall through and find out which one is the problem.
    }
  }
  const result: { video?: MediaStreamTrack; audio?: MediaStreamTrack; videoError?: unknown; audioError?: unknown } = {};
  if (wantVideo) {
    try {
      result.video = await getTrack('video');
    } catch (error) {
      result.videoError = error;
    }
  }
  if (wantAudio) {
    try {
      result.audio = await getTrack('audio');
    } catch (error) {
      result.audioError = error;
    }
  }
  return result;
}

/** Plays the camera into a tiny, invisible video element until a frame shows. */
async function firstFrames(track: MediaStreamTrack, signal?: AbortSignal): Promise<CameraCheck> {
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.setAttribute('aria-hidden', 'true');
  video.style.cssText = 'position:fixed;left:0;top:0;width:2px;height:2px;opacity:0;pointer-events:none';
  video.srcObject = new MediaStream([track]);
  document.body.appendChild(video);
  try {
    await video.play().catch(() => undefined);
    const deadline = performance.now() + FRAME_TIMEOUT_MS;
    // Frames are counted from playback quality: requestVideoFrameCallback does not fire in a hidden tab.
    const frames = () => video.getVideoPlaybackQuality?.().totalVideoFrames ?? (video.readyState >= 2 ? 1 : 0);
    while (performance.now() < deadline && !signal?.aborted) {
      if (frames() > 0 && video.videoWidth > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const count = frames();
    const ok = count > 0 && video.videoWidth > 0;
    return {
      status: ok ? 'ok' : 'noSignal',
      label: track.label,
      ...(ok ? { width: video.videoWidth, height: video.videoHeight, frames: count } : { frames: count }),
      message: ok ? `${CAMERA_MESSAGES.ok} (${video.videoWidth}×${video.videoHeight})` : CAMERA_MESSAGES.noSignal,
    };
  } finally {
    video.pause();
    video.srcObject = null;
    video.remove();
  }
}

/** Listens to the microphone and reports the loudest level (dBFS). */
async function listen(
  track: MediaStreamTrack,
  audio: AudioContext | undefined,
  signal?: AbortSignal,
): Promise<MicrophoneCheck> {
  const label = track.label;
  if (!audio) return { status: 'ok', label, peakDb: null, message: MIC_MESSAGES.ok };
  if (audio.state !== 'running') await audio.resume().catch(() => undefined);
  if (audio.state !== 'running') {
    // Without a click on the page the browser may keep audio suspended: the level cannot be measured.
    return { status: 'ok', label, peakDb: null, message: `${MIC_MESSAGES.ok} (its level could not be measured)` };
  }
  const source = audio.createMediaStreamSource(new MediaStream([track]));
  const analyser = audio.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  try {
    const deadline = performance.now() + LISTEN_MS;
    while (performance.now() < deadline && !signal?.aborted) {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      peak = Math.max(peak, Math.sqrt(sum / samples.length));
      // Heard clearly: no need to wait for the whole window.
      if (toDb(peak) > THRESHOLDS.silenceDb + 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    source.disconnect();
  }
  const peakDb = Math.round(toDb(peak) * 10) / 10;
  const heard = peakDb > THRESHOLDS.silenceDb;
  return { status: heard ? 'ok' : 'silent', label, peakDb, message: heard ? MIC_MESSAGES.ok : MIC_MESSAGES.silent };
}

function toDb(rms: number): number {
  return rms > 0 ? 20 * Math.log10(rms) : -Infinity;
}

export async function checkDevices(options: {
  camera: boolean;
  microphone: boolean;
  audio: AudioContext | undefined;
  signal?: AbortSignal;
  onCamera?: (c: CameraCheck) => void;
}): Promise<DeviceChecks> {
  const opened = await openDevices(options.camera, options.microphone);
  let camera: CameraCheck;
  if (!options.camera) camera = { status: 'skipped', message: CAMERA_MESSAGES.skipped };
  else if (opened.video) camera = await firstFrames(opened.video, options.signal);
  else {
    const status = deviceStatusOf(opened.videoError);
    camera = { status, message: CAMERA_MESSAGES[status] };
  }
  options.onCamera?.(camera);
  let microphone: MicrophoneCheck;
  if (!options.microphone) microphone = { status: 'skipped', message: MIC_MESSAGES.skipped };
  else if (opened.audio) microphone = await listen(opened.audio, options.audio, options.signal);
  else {
    const status = deviceStatusOf(opened.audioError);
    microphone = { status, message: MIC_MESSAGES[status] };
  }
  if (camera.status !== 'ok') opened.video?.stop();
  return {
    camera,
    microphone,
    ...(camera.status === 'ok' && opened.video ? { videoTrack: opened.video } : {}),
    ...(opened.audio ? { audioTrack: opened.audio } : {}),
  };
}
