/** The public shapes of the pre-call check: options, progress, the report and why a check failed. */
import { ErrorCode, HuizhenError } from '@huizhen/protocol';
import type { WebSocketFactory } from '../SignalClient.js';

/** Options of `preflight()`. */
export interface PreflightOptions {
  /**
   * How long test media flows through the server, in ms (default 8 000;
   * at least 3 000; never more than the server allows). Longer runs measure
   * bitrate more truly.
   */
  durationMs?: number;
  /** The application's own TURN/STUN servers, used with the ones the server hands out (as `connect` does). */
  iceServers?: RTCIceServer[];
  /** 'relay' forces the media through a TURN server (for strict networks and to test TURN). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Cancels the check; `result` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Skip the camera or microphone check (e.g. the patient joins with sound only). */
  camera?: boolean;
  /** Skip the microphone check (false); checked by default. */
  microphone?: boolean;
  /** How long the media connection may take before it counts as blocked; 10 000 ms by default. */
  connectTimeoutMs?: number;
  /** Passed to the SDK's signaling client (tests); defaults to the browser's WebSocket. */
  webSocketFactory?: WebSocketFactory;
}

/** The steps of the check, in order. */
export type PreflightStep = 'camera' | 'microphone' | 'signaling' | 'media' | 'verdict';
/** Where a step stands. */
export type PreflightStepStatus = 'running' | 'passed' | 'warning' | 'failed' | 'skipped';

/** A step's progress (the `progress` event). */
export interface PreflightProgress {
  /** The step. */
  step: PreflightStep;
  /** Where it stands. */
  status: PreflightStepStatus;
  /** 0..1 for the whole check. */
  fraction: number;
  /** A sentence for the person running the check. */
  message: string;
}

/** Events of a `PreflightTest`. */
export type PreflightEvents = {
  /** A step started or finished. */
  progress: (progress: PreflightProgress) => void;
  /** The check finished (also when its verdict is `failed`). */
  completed: (report: PreflightReport) => void;
};

/** What a device check found. */
export type DeviceStatus = 'ok' | 'denied' | 'notFound' | 'inUse' | 'noSignal' | 'skipped' | 'error';

/** What the camera check found. */
export interface CameraCheck {
  /** The outcome. */
  status: DeviceStatus;
  /** The device's name (once permission is given). */
  label?: string;
  /** Captured width, pixels. */
  width?: number;
  /** Captured height, pixels. */
  height?: number;
  /** Frames shown locally during the check. */
  frames?: number;
  /** A sentence for the person running the check. */
  message: string;
}

/** What the microphone check found. */
export interface MicrophoneCheck {
  /** The outcome; `silent` when it works but nothing was heard. */
  status: DeviceStatus | 'silent';
  /** The device's name (once permission is given). */
  label?: string;
  /** The loudest level heard, in dBFS (0 = full scale); null when it could not be measured. */
  peakDb?: number | null;
  /** A sentence for the person running the check. */
  message: string;
}

/** What the signaling check (WebSocket to the server, token) found. */
export interface SignalingCheck {
  /** The outcome. */
  status: 'ok' | 'failed';
  /** Median round trip of a few signaling pings, ms. */
  rttMs?: number;
  /** A sentence for the person running the check. */
  message: string;
}

/** An ICE candidate's type: direct (`host`), through NAT (`srflx`, `prflx`) or through TURN (`relay`). */
export type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';

/** What the media check (video to the server and back) measured. */
export interface MediaCheck {
  /** The outcome. */
  status: 'ok' | 'failed' | 'skipped';
  /** The local candidate of the selected pair: `relay` means through TURN. */
  candidateType?: CandidateType;
  /** The transport to the server (or to the TURN server when relayed). */
  protocol?: 'udp' | 'tcp';
  /** With relay: how this browser reaches the TURN server. */
  relayProtocol?: 'udp' | 'tcp' | 'tls';
  /** Round trip to the server, ms. */
  rttMs?: number;
  /** Worst jitter seen in either direction, ms. */
  jitterMs?: number;
  /** Packets lost in the worse direction, percent. */
  packetLossPercent?: number;
  /** The video bitrate received back through the server, averaged over the run, kbit/s. */
  bitrateKbps?: number;
  /**
   * What the path was shown to carry: the browser's congestion-control
   * estimate for sending to the server at the end of the run, kbit/s. The
   * achieved bitrate is bounded by what the encoder chose to send for the
   * picture (a still room needs little), this by the network.
   */
  availableBitrateKbps?: number;
  /** What this browser sent, averaged over the run, kbit/s. */
  sendBitrateKbps?: number;
  /** Video frames received back from the server, and decoded. */
  framesReceived?: number;
  /** Of those, the frames decoded. */
  framesDecoded?: number;
  /** Time to connect the media path, ms. */
  connectMs?: number;
  /** How long media flowed, ms. */
  durationMs?: number;
  /** A sentence for the person running the check. */
  message: string;
}

/** The overall verdict: whether a video visit will work, and how well. */
export type PreflightVerdict = 'excellent' | 'good' | 'poor' | 'failed';

/** What `preflight()` found (the `completed` event, `result`). */
export interface PreflightReport {
  /** The overall verdict. */
  verdict: PreflightVerdict;
  /** What to do, in plain words for the patient; most important first. */
  advice: string[];
  /** With `failed`: the first thing that made the visit impossible. */
  failure?: PreflightError;
  /** The camera check. */
  camera: CameraCheck;
  /** The microphone check. */
  microphone: MicrophoneCheck;
  /** The signaling check. */
  signaling: SignalingCheck;
  /** The media check. */
  media: MediaCheck;
  /** The whole check, ms. */
  durationMs: number;
}

/** Why a check failed (PreflightError.reason). */
export const PreflightFailureReason = {
  /** The camera or microphone may not be used (the person or a policy said no). */
  PermissionDenied: 'permissionDenied',
  /** No microphone (a visit needs sound). */
  NoMicrophone: 'noMicrophone',
  /** The microphone is held by another app. */
  DeviceInUse: 'deviceInUse',
  /** The signaling WebSocket could not be opened. */
  ServerUnreachable: 'serverUnreachable',
  /** The server refused the token (invalid, expired, unknown issuer). */
  TokenRejected: 'tokenRejected',
  /** Too many checks in a short time. */
  RateLimited: 'rateLimited',
  /** No media connection could be made in time (firewall, wrong server address, UDP and TCP blocked). */
  MediaBlocked: 'mediaBlocked',
  /** Relay was forced but no TURN server is available. */
  NoRelay: 'noRelay',
  /** Connected, but nothing came back through the server. */
  NoMediaReceived: 'noMediaReceived',
  /** This browser cannot do WebRTC. */
  UnsupportedBrowser: 'unsupportedBrowser',
  /** Anything else (details in the message). */
  Other: 'other',
} as const;
/** Why a check failed (see the constant of the same name). */
export type PreflightFailureReason = (typeof PreflightFailureReason)[keyof typeof PreflightFailureReason];

/** What a failed check carries: a stable code (as everywhere in the SDK) and the reason it failed. */
export class PreflightError extends HuizhenError {
  /** Why the check failed. */
  readonly reason: PreflightFailureReason;

  constructor(
    reason: PreflightFailureReason,
    message: string,
    code: ErrorCode = ErrorCode.CONNECTION_FAILED,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'PreflightError';
    this.reason = reason;
  }
}
