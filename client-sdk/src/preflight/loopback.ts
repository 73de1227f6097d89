/**
 * The media round trip of the pre-call check: a test video stream goes to the
 * server on the preflight send transport and comes straight back on the recv
 * transport (the server's loopback, outside every room). Measured from
 * getStats on both ends of this browser: the selected candidate pair, RTT,
 * jitter, loss in each direction, the bitrate that came back, frames decoded.
 */
import type { Consumer, Device, Producer, Transport } from 'mediasoup-client/types';
import { ErrorCode, type ResponseData } from '@huizhen/protocol';
import type { SignalClient } from '../SignalClient.js';
import {
  receiveSample,
  selectedPath,
  sendSample,
  mean,
  median,
  type ReceiveSample,
  type SendSample,
  type SelectedPath,
} from './stats.js';
import { PreflightError, PreflightFailureReason, type MediaCheck } from './types.js';

export interface LoopbackOptions {
  signal: SignalClient;
  start: ResponseData['startPreflight'];
  iceServers: RTCIceServer[] | undefined;
  iceTransportPolicy: RTCIceTransportPolicy | undefined;
  /** The camera track from the device check; a synthetic picture is sent when there is none. */
  videoTrack: MediaStreamTrack | undefined;
  durationMs: number;
  connectTimeoutMs: number;
  abort?: AbortSignal;
  /** Called about once a second while media flows (0..1 of the run). */
  onTick?: (fraction: number) => void;
}

const SAMPLE_MS = 1000;

/** A moving picture drawn on a canvas, for when there is no camera (the network is still worth testing). */
function syntheticVideo(): { track: MediaStreamTrack; stop: () => void } {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const g = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!g) return;
    frame++;
    g.fillStyle = `hsl(${(frame * 4) % 360} 60% 45%)`;
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#fff';
    g.font = '48px sans-serif';
    g.fillText(`Huizhen check ${frame}`, 40 + (frame % 200), 190);
  };
  draw();
  const timer = setInterval(draw, 1000 / 15);
  const track = canvas.captureStream(15).getVideoTracks()[0];
  if (!track)
    throw new PreflightError(
      PreflightFailureReason.UnsupportedBrowser,
      'This browser cannot make a test video.',
      ErrorCode.MEDIA_ERROR,
    );
  return {
    track,
    stop: () => {
      clearInterval(timer);
      track.stop();
    },
  };
}

function hasRelay(servers: RTCIceServer[] | undefined): boolean {
  return (servers ?? []).some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => /^turns?:/i.test(u)));
}

/** Resolves when the transport is connected; rejects when ICE/DTLS fails. */
function connected(transport: Transport): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (state: string) => {
      if (state === 'connected' || state === 'completed') {
        transport.off('connectionstatechange', check);
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        transport.off('connectionstatechange', check);
        reject(new Error(`the ${transport.direction} transport ${state}`));
      }
    };
    transport.on('connectionstatechange', check);
    check(transport.connectionState);
  });
}

function blocked(message: string, cause?: unknown): PreflightError {
  return new PreflightError(PreflightFailureReason.MediaBlocked, message, ErrorCode.CONNECTION_FAILED, { cause });
}

function sleep(ms: number, abort?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    abort?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

export async function runLoopback(options: LoopbackOptions): Promise<MediaCheck> {
  const { signal, start } = options;
  if (options.iceTransportPolicy === 'relay' && !hasRelay(options.iceServers)) {
    throw new PreflightError(
      PreflightFailureReason.NoRelay,
      'A relayed (TURN) connection was required, but no TURN server is configured for this check.',
      ErrorCode.CONNECTION_FAILED,
    );
  }
  let device: Device;
  try {
    // Loaded when the check runs (as for a room): see MediaSession.createDevice.
    const { Device } = await import('mediasoup-client');
    device = await Device.factory();
    await device.load({ routerRtpCapabilities: start.routerRtpCapabilities });
  } catch (cause) {
    throw new PreflightError(
      PreflightFailureReason.UnsupportedBrowser,
      'This browser cannot do WebRTC with the server.',
      ErrorCode.MEDIA_ERROR,
      { cause },
    );
  }
  if (!device.canProduce('video')) {
    throw new PreflightError(
      PreflightFailureReason.UnsupportedBrowser,
      'This browser cannot send any video codec the server offers.',
      ErrorCode.MEDIA_ERROR,
    );
  }
  const ice = {
    ...(options.iceServers ? { iceServers: options.iceServers } : {}),
    ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
  };
  const send = device.createSendTransport({ ...start.sendTransport, ...ice });
  const recv = device.createRecvTransport({ ...start.recvTransport, ...ice });
  let consumerInfo: ResponseData['preflightProduce']['consumer'] | undefined;
  for (const t of [send, recv]) {
    t.on('connect', ({ dtlsParameters }, callback, errback) => {
      signal
        .request('preflightConnectTransport', { transportId: t.id, dtlsParameters })
        .then(() => callback(), errback);
    });
  }
  send.on('produce', ({ kind, rtpParameters }, callback, errback) => {
    signal
      .request('preflightProduce', {
        transportId: send.id,
        kind,
        rtpParameters,
        rtpCapabilities: device.recvRtpCapabilities,
      })
      .then((res) => {
        consumerInfo = res.consumer;
        callback({ id: res.producerId });
      }, errback);
  });

  const synthetic = options.videoTrack ? undefined : syntheticVideo();
  const track = options.videoTrack ?? synthetic!.track;
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const started = performance.now();
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            blocked(
              `No media connection to the server within ${Math.round(options.connectTimeoutMs / 1000)} s: the network (a firewall) or the server's announced address blocks it.`,
            ),
          ),
        options.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          producer = await send.produce({
            track,
            // One layer, capped below the server's limit (which it enforces anyway).
            encodings: [{ maxBitrate: Math.min(Math.round(start.maxBitrate * 0.9), 1_200_000) }],
            codecOptions: { videoGoogleStartBitrate: 1000 },
            stopTracks: false,
          });
          if (!consumerInfo) throw new Error('the server did not loop the test track back');
          consumer = await recv.consume({
            id: consumerInfo.consumerId,
            producerId: consumerInfo.producerId,
            kind: consumerInfo.kind,
            rtpParameters: consumerInfo.rtpParameters,
          });
          await signal.request('preflightResumeConsumer', { consumerId: consumerInfo.consumerId });
          await Promise.all([connected(send), connected(recv)]);
        })(),
        timeout,
      ]);
    } catch (error) {
      if (error instanceof PreflightError) throw error;
      throw blocked(`The media connection to the server failed: ${(error as Error).message}.`, error);
    } finally {
      clearTimeout(timer);
    }
    const connectMs = Math.round(performance.now() - started);

    // Media flows: sample both ends once a second for the run.
    const sends: { at: number; s: SendSample }[] = [];
    const recvs: { at: number; r: ReceiveSample }[] = [];
    const paths: SelectedPath[] = [];
    const estimates: number[] = [];
    const runStart = performance.now();
    let ended = false;
    const onEnded = (n: { notification: string }) => {
      if (n.notification === 'preflightEnded') ended = true;
    };
    signal.on('notification', onEnded);
    try {
      while (!ended && !options.abort?.aborted) {
        await sleep(SAMPLE_MS, options.abort);
        const now = performance.now();
        const [ps, cs, ts] = await Promise.all([producer!.getStats(), consumer!.getStats(), recv.getStats()]);
        sends.push({ at: now, s: sendSample(ps) });
        recvs.push({ at: now, r: receiveSample(cs) });
        const path = selectedPath(ts) ?? selectedPath(ps);
        if (path) paths.push(path);
        // The send side's estimate lives on the send transport's pair (the producer's report).
        const available = selectedPath(ps)?.availableOutgoingKbps;
        if (available !== undefined) estimates.push(available);
        options.onTick?.(Math.min(1, (now - runStart) / options.durationMs));
        if (now - runStart >= options.durationMs) break;
      }
    } finally {
      signal.off('notification', onEnded);
    }
    return summarize({
      sends,
      recvs,
      paths,
      estimates,
      connectMs,
      durationMs: Math.round(performance.now() - runStart),
    });
  } finally {
    producer?.close();
    consumer?.close();
    send.close();
    recv.close();
    synthetic?.stop();
  }
}

function summarize(run: {
  sends: { at: number; s: SendSample }[];
  recvs: { at: number; r: ReceiveSample }[];
  paths: SelectedPath[];
  /** The sender's estimate, once a second. */
  estimates: number[];
  connectMs: number;
  durationMs: number;
}): MediaCheck {
  const lastR = run.recvs.at(-1)?.r;
  const lastS = run.sends.at(-1)?.s;
  const path = run.paths.at(-1) ?? {};
  // Bitrate over the run from the first sample that saw media, so connection set-up does not count.
  const firstR = run.recvs.find((x) => x.r.bytesReceived > 0);
  const lastRAt = run.recvs.at(-1);
  const kbps = (bytes: number, ms: number) => (ms > 0 ? Math.round((bytes * 8) / ms) : undefined);
  const bitrateKbps =
    firstR && lastRAt && lastRAt.at > firstR.at
      ? kbps(lastRAt.r.bytesReceived - firstR.r.bytesReceived, lastRAt.at - firstR.at)
      : undefined;
  const firstS = run.sends.find((x) => x.s.bytesSent > 0);
  const lastSAt = run.sends.at(-1);
  const sendBitrateKbps =
    firstS && lastSAt && lastSAt.at > firstS.at
      ? kbps(lastSAt.s.bytesSent - firstS.s.bytesSent, lastSAt.at - firstS.at)
      : undefined;

  // Loss in the worse direction: what the server reports it lost from us, and what we lost from it.
  const downLoss =
    lastR && lastR.packetsReceived + lastR.packetsLost > 0
      ? (100 * lastR.packetsLost) / (lastR.packetsReceived + lastR.packetsLost)
      : undefined;
  const upLoss =
    lastS && lastS.packetsSent > 0 && lastS.remotePacketsLost !== undefined
      ? (100 * lastS.remotePacketsLost) / lastS.packetsSent
      : undefined;
  const losses = [downLoss, upLoss].filter((v): v is number => v !== undefined);
  const jitterDown = mean(run.recvs.map((x) => x.r.jitterMs).filter((v): v is number => v !== undefined));
  const jitterUp = mean(run.sends.map((x) => x.s.remoteJitterMs).filter((v): v is number => v !== undefined));
  const jitters = [jitterDown, jitterUp].filter((v): v is number => v !== undefined);
  const rtt =
    mean(run.sends.map((x) => x.s.remoteRttMs).filter((v): v is number => v !== undefined && v > 0)) ??
    mean(run.paths.map((p) => p.rttMs).filter((v): v is number => v !== undefined));
  const round = (v: number | undefined, digits = 0) =>
    v === undefined ? undefined : Math.round(v * 10 ** digits) / 10 ** digits;

  const framesReceived = lastR?.framesReceived ?? 0;
  const framesDecoded = lastR?.framesDecoded ?? 0;
  const check: MediaCheck = {
    status: framesDecoded > 0 ? 'ok' : 'failed',
    framesReceived,
    framesDecoded,
    connectMs: run.connectMs,
    durationMs: run.durationMs,
    message: '',
    ...(path.candidateType ? { candidateType: path.candidateType } : {}),
    ...(path.protocol ? { protocol: path.protocol } : {}),
    ...(path.relayProtocol ? { relayProtocol: path.relayProtocol } : {}),
  };
  const put = <K extends keyof MediaCheck>(key: K, value: MediaCheck[K] | undefined) => {
    if (value !== undefined) check[key] = value;
  };
  put('rttMs', round(rtt));
  put('jitterMs', round(jitters.length ? Math.max(...jitters) : undefined, 1));
  put('packetLossPercent', round(losses.length ? Math.max(...losses) : undefined, 2));
  put('bitrateKbps', bitrateKbps);
  put('sendBitrateKbps', sendBitrateKbps);
  // The estimate after ramping up: the median of the second half of the run.
  put('availableBitrateKbps', round(median(run.estimates.slice(Math.floor(run.estimates.length / 2)))));
  check.message =
    check.status === 'ok'
      ? 'Video reached the clinic’s server and came back.'
      : 'The connection was made, but no video came back from the server.';
  return check;
}
