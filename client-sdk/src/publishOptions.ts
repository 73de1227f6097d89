/**
 * What a publish starts from: the option types, the camera and audio defaults
 * (resolution, simulcast layers, codec options), and getting a track from the
 * browser's devices.
 */
import type { ProducerCodecOptions, RtpEncodingParameters } from 'mediasoup-client/types';
import { ErrorCode, HuizhenError } from './errors.js';
import type { TrackSource } from '@huizhen/protocol';

/** A capture size and rate. */
export interface VideoResolution {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Frames per second. */
  frameRate?: number;
}

/** 1280x720 at 30 fps: sharp enough for a clinical look at the patient. */
export const DEFAULT_CAMERA_RESOLUTION: Readonly<Required<VideoResolution>> = {
  width: 1280,
  height: 720,
  frameRate: 30,
};

/**
 * Three simulcast layers (quarter, half and full resolution) so each viewer
 * gets what their tile size and network allow.
 */
export const CAMERA_SIMULCAST_ENCODINGS: readonly Readonly<RtpEncodingParameters>[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

/** Start video near 1 Mbps instead of ramping up from the browser's low default. */
export const VIDEO_CODEC_OPTIONS: ProducerCodecOptions = { videoGoogleStartBitrate: 1000 };
/**
 * Speech needs far less than Opus's default: at 24 kbit/s a voice stays clear, and a patient's
 * 64 kbit/s mobile downlink still has room for signaling next to the doctor's audio (RTP, SRTP,
 * UDP and IP add about 25 kbit/s at 50 packets a second on top of the codec's rate).
 */
export const DEFAULT_MICROPHONE_BITRATE = 24_000;

/** Checks an application's `MicrophoneOptions.maxBitrate` (Opus takes 6–510 kbit/s; above 128 wastes a weak link). */
export function microphoneBitrate(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MICROPHONE_BITRATE;
  if (!Number.isInteger(value) || value < 6000 || value > 128_000)
    throw new HuizhenError(
      ErrorCode.INVALID_REQUEST,
      'The microphone bitrate must be a whole number of bit/s from 6000 to 128000.',
    );
  return value;
}

/** DTX saves bandwidth in silence; FEC hides packet loss on weak mobile links. */
export function audioCodecOptions(maxBitrate = DEFAULT_MICROPHONE_BITRATE): ProducerCodecOptions {
  return { opusDtx: true, opusFec: true, opusMaxAverageBitrate: maxBitrate };
}

export interface CommonPublishOptions {
  /** Publish this existing track instead of opening a device. The SDK will not stop it. */
  track?: MediaStreamTrack;
  /** Publish muted (nothing is sent until `unmute()`). */
  muted?: boolean;
}

/** Options of `publishCamera` / `setCameraEnabled`. */
export interface CameraOptions extends CommonPublishOptions {
  /** A `deviceId` from `navigator.mediaDevices.enumerateDevices()`. */
  deviceId?: string;
  /** 'environment' picks a phone's rear camera (e.g. to show a wound). */
  facingMode?: 'user' | 'environment';
  /** Capture size and rate; 1280x720 at 30 fps by default. */
  resolution?: VideoResolution;
  /** Send three simulcast layers; true by default. */
  simulcast?: boolean;
}

/** Options of `publishMicrophone` / `setMicrophoneEnabled`. */
export interface MicrophoneOptions extends CommonPublishOptions {
  /** A `deviceId` from `navigator.mediaDevices.enumerateDevices()`. */
  deviceId?: string;
  /** All three default to true. */
  echoCancellation?: boolean;
  /** Browser noise suppression. */
  noiseSuppression?: boolean;
  /** Browser automatic gain control. */
  autoGainControl?: boolean;
  /** Opus's average bitrate (bit/s, 6000–128000); 24000 by default, clear for speech on weak links. */
  maxBitrate?: number;
}

/** Options of `publishScreen` / `setScreenShareEnabled`. */
export interface ScreenShareOptions extends CommonPublishOptions {
  /** Frame rate to capture at; 15 by default (documents change slowly). */
  frameRate?: number;
  /** Hint for the encoder; 'detail' by default so text in records stays legible. */
  contentHint?: 'detail' | 'text' | 'motion';
  /** Maximum bitrate; 1.5 Mbps by default. */
  maxBitrate?: number;
}

/** Options of `publishTrack` (an existing MediaStreamTrack). */
export interface PublishTrackOptions {
  /** What the track is: camera, microphone, screen or screenAudio. */
  source: TrackSource;
  /** RTP encodings (simulcast layers) to send. */
  encodings?: RtpEncodingParameters[];
  /** mediasoup-client codec options (e.g. Opus's). */
  codecOptions?: ProducerCodecOptions;
  /** Publish muted. */
  muted?: boolean;
}

/** What LocalParticipant needs from its Room. */

export interface AcquiredTrack {
  track: MediaStreamTrack;
  /** Whether the SDK opened the device (and so must stop it). */
  owned: boolean;
}

export function mediaDevices(): MediaDevices {
  const devices = (globalThis as { navigator?: { mediaDevices?: MediaDevices } }).navigator?.mediaDevices;
  if (!devices) {
    throw new HuizhenError(
      ErrorCode.INVALID_STATE,
      'Camera, microphone and screen access need a secure page (https:// or http://localhost)',
    );
  }
  return devices;
}

export const AUDIO_SOURCES: ReadonlySet<TrackSource> = new Set<TrackSource>(['microphone', 'screenAudio']);

export function firstTrack(stream: MediaStream, kind: 'audio' | 'video'): MediaStreamTrack {
  const [track] = kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks();
  // Release anything else the browser handed over (e.g. screen audio we did not ask to publish).
  for (const other of stream.getTracks()) if (other !== track) other.stop();
  if (!track) throw new HuizhenError(ErrorCode.MEDIA_ERROR, `The browser returned no ${kind} track`);
  return track;
}
