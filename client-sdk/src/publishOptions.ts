/**
 * What a publish starts from: the option types, the camera and audio defaults
 * (resolution, simulcast layers, codec options), and getting a track from the
 * browser's devices.
 */
import type { ProducerCodecOptions, RtpEncodingParameters } from 'mediasoup-client/types';
import { ErrorCode, HuizhenError } from './errors.js';
import type { TrackSource } from '@huizhen/protocol';

export interface VideoResolution {
  width: number;
  height: number;
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
/** DTX saves bandwidth in silence; FEC hides packet loss on weak mobile links. */
export const AUDIO_CODEC_OPTIONS: ProducerCodecOptions = { opusDtx: true, opusFec: true };

export interface CommonPublishOptions {
  /** Publish this existing track instead of opening a device. The SDK will not stop it. */
  track?: MediaStreamTrack;
  /** Publish muted (nothing is sent until `unmute()`). */
  muted?: boolean;
}

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

export interface MicrophoneOptions extends CommonPublishOptions {
  deviceId?: string;
  /** All three default to true. */
  echoCancellation?: boolean;
  noiseSuppression?: boolean;
  autoGainControl?: boolean;
}

export interface ScreenShareOptions extends CommonPublishOptions {
  /** Frame rate to capture at; 15 by default (documents change slowly). */
  frameRate?: number;
  /** Hint for the encoder; 'detail' by default so text in records stays legible. */
  contentHint?: 'detail' | 'text' | 'motion';
  /** Maximum bitrate; 1.5 Mbps by default. */
  maxBitrate?: number;
}

export interface PublishTrackOptions {
  source: TrackSource;
  encodings?: RtpEncodingParameters[];
  codecOptions?: ProducerCodecOptions;
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
