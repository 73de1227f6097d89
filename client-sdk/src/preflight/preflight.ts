/**
 * `preflight(url, token, options)`: the pre-call check a patient runs before
 * entering the waiting room, like Twilio's Preflight and doxy.me's check-in.
 * Checks the camera and microphone, the signaling round trip, and a real media
 * round trip through the server's loopback (which never reaches any room),
 * then gives a verdict with advice in plain words. Progress events while it
 * runs; `result` resolves with the report (also when the verdict is `failed`)
 * and rejects only when the check is cancelled through `signal`.
 */
import { ErrorCode, HuizhenError, PROTOCOL_VERSION, TypedEmitter, type ResponseData } from '@huizhen/protocol';
import { SignalClient } from '../SignalClient.js';
import { toSignalUrl } from '../url.js';
import { checkDevices } from './devices.js';
import { runLoopback } from './loopback.js';
import { median } from './stats.js';
import {
  PreflightError,
  PreflightFailureReason,
  type CameraCheck,
  type MediaCheck,
  type MicrophoneCheck,
  type PreflightEvents,
  type PreflightOptions,
  type PreflightProgress,
  type PreflightReport,
  type PreflightStep,
  type PreflightStepStatus,
  type SignalingCheck,
} from './types.js';
import { ADVICE, decideVerdict } from './verdict.js';

const DEFAULT_DURATION_MS = 8000;
const MIN_DURATION_MS = 3000;
const PINGS = 5;

/** Where each step starts and ends in the overall progress (0..1). */
const SPAN: Record<PreflightStep, [number, number]> = {
  camera: [0, 0.1],
  microphone: [0.1, 0.25],
  signaling: [0.25, 0.3],
  media: [0.3, 0.98],
  verdict: [0.98, 1],
};

/** A running pre-call check. */
export class PreflightTest extends TypedEmitter<PreflightEvents> {
  /** The report; rejects only when cancelled (with the AbortSignal's reason). */
  readonly result: Promise<PreflightReport>;
  #last: PreflightProgress | undefined;

  /** @internal Use `preflight()`. */
  constructor(run: (test: PreflightTest) => Promise<PreflightReport>) {
    super();
    // Started on the next turn, so listeners attached right after `preflight()` see every event.
    this.result = Promise.resolve().then(() => run(this));
    this.result.then(
      (report) => this.emit('completed', report),
      () => undefined,
    );
  }

  /** The latest progress. */
  get progress(): PreflightProgress | undefined {
    return this.#last;
  }

  /** @internal */
  report(
    step: PreflightStep,
    status: PreflightStepStatus,
    message: string,
    within = status === 'running' ? 0 : 1,
  ): void {
    const [from, to] = SPAN[step];
    this.#last = { step, status, fraction: Math.round((from + (to - from) * within) * 1000) / 1000, message };
    this.emit('progress', this.#last);
  }
}

function failureOf(error: unknown): PreflightError {
  if (error instanceof PreflightError) return error;
  if (error instanceof HuizhenError) {
    switch (error.code) {
      case ErrorCode.TOKEN_INVALID:
      case ErrorCode.TOKEN_EXPIRED:
      case ErrorCode.ISSUER_UNKNOWN:
        return new PreflightError(PreflightFailureReason.TokenRejected, error.message, error.code, { cause: error });
      case ErrorCode.RATE_LIMITED:
        return new PreflightError(PreflightFailureReason.RateLimited, error.message, error.code, { cause: error });
      case ErrorCode.CONNECTION_FAILED:
      case ErrorCode.TIMEOUT:
        return new PreflightError(PreflightFailureReason.ServerUnreachable, error.message, error.code, {
          cause: error,
        });
      default:
        return new PreflightError(PreflightFailureReason.Other, error.message, error.code, { cause: error });
    }
  }
  return new PreflightError(
    PreflightFailureReason.Other,
    (error as Error)?.message ?? String(error),
    ErrorCode.INTERNAL,
    {
      cause: error,
    },
  );
}

const ADVICE_FOR: Partial<Record<PreflightFailureReason, string>> = {
  [PreflightFailureReason.ServerUnreachable]: ADVICE.serverUnreachable,
  [PreflightFailureReason.TokenRejected]: ADVICE.tokenRejected,
  [PreflightFailureReason.RateLimited]: ADVICE.rateLimited,
  [PreflightFailureReason.MediaBlocked]: ADVICE.mediaBlocked,
  [PreflightFailureReason.NoRelay]: ADVICE.noRelay,
  [PreflightFailureReason.NoMediaReceived]: ADVICE.noMedia,
  [PreflightFailureReason.UnsupportedBrowser]: ADVICE.unsupported,
};

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The connection check was cancelled.', 'AbortError');
}

/**
 * Runs the pre-call check against the Huizhen server at `url` with any valid
 * `token` (the patient's join token will do; no room is entered). Call it from
 * a click handler, so the browser lets the microphone level be measured.
 */
export function preflight(url: string, token: string, options: PreflightOptions = {}): PreflightTest {
  // Made now, inside the click that started the check: browsers allow audio only after a gesture.
  const Ctor = globalThis.AudioContext;
  const audio = options.microphone !== false && Ctor ? new Ctor() : undefined;
  return new PreflightTest((test) => run(test, url, token, options, audio));
}

async function run(
  test: PreflightTest,
  url: string,
  token: string,
  options: PreflightOptions,
  audio: AudioContext | undefined,
): Promise<PreflightReport> {
  const started = performance.now();
  const abort = options.signal;
  const stopIfAborted = () => {
    if (abort?.aborted) throw abortError(abort);
  };
  let tracks: MediaStreamTrack[] = [];
  let signal: SignalClient | undefined;
  let failure: PreflightError | undefined;
  let camera: CameraCheck = { status: 'skipped', message: 'Camera not checked.' };
  let microphone: MicrophoneCheck = { status: 'skipped', message: 'Microphone not checked.' };
  let signaling: SignalingCheck = { status: 'failed', message: 'Not checked.' };
  let media: MediaCheck = { status: 'skipped', message: 'Not checked.' };
  const deviceStatus = (s: string): PreflightStepStatus =>
    s === 'ok' ? 'passed' : s === 'skipped' ? 'skipped' : 'failed';
  try {
    stopIfAborted();
    // --- camera and microphone
    test.report('camera', 'running', 'Checking your camera…');
    const devices = await checkDevices({
      camera: options.camera !== false,
      microphone: options.microphone !== false,
      audio,
      ...(abort ? { signal: abort } : {}),
      onCamera: (c) => {
        test.report('camera', deviceStatus(c.status), c.message);
        test.report('microphone', 'running', 'Checking your microphone… say something.');
      },
    });
    ({ camera, microphone } = devices);
    tracks = [devices.videoTrack, devices.audioTrack].filter((t): t is MediaStreamTrack => t !== undefined);
    test.report(
      'microphone',
      microphone.status === 'silent' ? 'warning' : deviceStatus(microphone.status),
      microphone.message,
    );
    stopIfAborted();

    // --- signaling
    test.report('signaling', 'running', 'Reaching the clinic’s server…');
    let start: ResponseData['startPreflight'];
    try {
      signal = new SignalClient(toSignalUrl(url), {
        heartbeatIntervalMs: 0,
        ...(options.webSocketFactory ? { webSocketFactory: options.webSocketFactory } : {}),
      });
      await signal.connect();
      start = await signal.request('startPreflight', { protocolVersion: PROTOCOL_VERSION, token });
      const rtts: number[] = [];
      for (let i = 0; i < PINGS; i++) {
        const t0 = performance.now();
        await signal.request('ping', {});
        rtts.push(performance.now() - t0);
      }
      const rttMs = Math.round(median(rtts) ?? 0);
      signaling = { status: 'ok', rttMs, message: `The clinic’s server answers in ${rttMs} ms.` };
      test.report('signaling', 'passed', signaling.message);
    } catch (error) {
      failure = failureOf(error);
      // The server answered (it refused the token, or asked to wait): signaling itself works.
      const answered =
        failure.reason === PreflightFailureReason.TokenRejected ||
        failure.reason === PreflightFailureReason.RateLimited;
      signaling = { status: answered ? 'ok' : 'failed', message: failure.message };
      test.report('signaling', 'failed', failure.message);
      throw failure;
    }
    stopIfAborted();

    // --- media round trip through the server
    const durationMs = Math.max(
      MIN_DURATION_MS,
      Math.min(options.durationMs ?? DEFAULT_DURATION_MS, start.maxDurationMs - 3000),
    );
    test.report('media', 'running', 'Sending test video to the server and back…');
    try {
      media = await runLoopback({
        signal,
        start,
        // The same servers a call would use: the application's own plus the server's TURN.
        iceServers: [...(options.iceServers ?? []), ...(start.iceServers ?? [])],
        iceTransportPolicy: options.iceTransportPolicy,
        videoTrack: devices.videoTrack,
        durationMs,
        connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
        ...(abort ? { abort } : {}),
        onTick: (f) => test.report('media', 'running', 'Measuring your connection…', f),
      });
      stopIfAborted();
      if (media.status === 'failed') {
        throw new PreflightError(PreflightFailureReason.NoMediaReceived, media.message, ErrorCode.MEDIA_ERROR);
      }
      test.report('media', 'passed', media.message);
    } catch (error) {
      stopIfAborted();
      failure = failureOf(error);
      media = { ...media, status: 'failed', message: failure.message };
      test.report('media', 'failed', failure.message);
      throw failure;
    }
  } catch (error) {
    if (abort?.aborted) {
      cleanUp(signal, tracks, audio);
      throw abortError(abort);
    }
    failure ??= failureOf(error);
  }
  cleanUp(signal, tracks, audio);

  const { verdict, advice } = decideVerdict({
    camera,
    microphone,
    signaling,
    media,
    ...(failure && ADVICE_FOR[failure.reason] ? { failureAdvice: ADVICE_FOR[failure.reason] } : {}),
  });
  test.report('verdict', verdict === 'failed' ? 'failed' : verdict === 'poor' ? 'warning' : 'passed', advice[0] ?? '');
  return {
    verdict,
    advice,
    ...(failure ? { failure } : verdict === 'failed' ? { failure: deviceFailure(microphone) } : {}),
    camera,
    microphone,
    signaling,
    media,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The failure when only the microphone made the visit impossible. */
function deviceFailure(microphone: MicrophoneCheck): PreflightError {
  switch (microphone.status) {
    case 'denied':
      return new PreflightError(
        PreflightFailureReason.PermissionDenied,
        'The microphone may not be used.',
        ErrorCode.PERMISSION_DENIED,
      );
    case 'inUse':
      return new PreflightError(
        PreflightFailureReason.DeviceInUse,
        'The microphone is busy in another app.',
        ErrorCode.MEDIA_ERROR,
      );
    default:
      return new PreflightError(PreflightFailureReason.NoMicrophone, microphone.message, ErrorCode.MEDIA_ERROR);
  }
}

function cleanUp(signal: SignalClient | undefined, tracks: MediaStreamTrack[], audio: AudioContext | undefined): void {
  if (signal?.state === 'open') {
    // Best effort: closing the socket ends the loopback on the server in any case.
    signal.request('endPreflight', {}, { timeoutMs: 2000 }).then(
      () => signal.close(1000, 'preflight done'),
      () => signal.close(1000, 'preflight done'),
    );
  }
  for (const t of tracks) t.stop();
  void audio?.close().catch(() => undefined);
}
