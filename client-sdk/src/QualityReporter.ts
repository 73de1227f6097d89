/**
 * Every couple of seconds, sums up this browser's own WebRTC stats (round
 * trip, jitter, loss, its send-side bandwidth estimate, frame rates) and
 * reports them to the server (`reportQuality`), which combines them with what
 * the SFU sees into the participant's connection quality and decides when
 * video has to stop for the network. Failures are ignored: a report is a hint.
 */
import type { QualityReport } from '@huizhen/protocol';
import type { Logger } from './logger.js';
import type { MediaSession } from './MediaSession.js';

/** Matches the server's sampling interval. */
export const REPORT_INTERVAL_MS = 2_000;

type StatsEntry = Record<string, unknown> & { type: string; id: string };

interface Counters {
  received: number;
  lost: number;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function entries(report: RTCStatsReport | undefined): StatsEntry[] {
  const out: StatsEntry[] = [];
  report?.forEach((s: StatsEntry) => out.push(s));
  return out;
}

/** The candidate pair in use: the transport's selected one, else the nominated succeeded one. */
function selectedPair(stats: StatsEntry[]): StatsEntry | undefined {
  const transport = stats.find((s) => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string');
  const byId = transport ? stats.find((s) => s.id === transport.selectedCandidatePairId) : undefined;
  return byId ?? stats.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded');
}

const bound = (v: number, max: number) => Math.min(max, Math.max(0, v));

/** Pure: builds a report from two transports' stats and the previous inbound counters. */
export function summarize(
  recv: RTCStatsReport | undefined,
  send: RTCStatsReport | undefined,
  previous: Counters | undefined,
): { report: QualityReport; counters: Counters } {
  const r = entries(recv);
  const s = entries(send);
  const report: QualityReport = {};
  const rtt = num(selectedPair(s)?.currentRoundTripTime) ?? num(selectedPair(r)?.currentRoundTripTime);
  if (rtt !== undefined) report.rttMs = bound(Math.round(rtt * 1000), 60_000);
  const out = num(selectedPair(s)?.availableOutgoingBitrate);
  if (out !== undefined) report.availableOutgoingBitrate = bound(Math.round(out), 1_000_000_000);

  let received = 0;
  let lost = 0;
  let jitter: number | undefined;
  let receivedFps: number | undefined;
  for (const e of r) {
    if (e.type !== 'inbound-rtp') continue;
    received += num(e.packetsReceived) ?? 0;
    lost += Math.max(0, num(e.packetsLost) ?? 0);
    if (e.kind === 'audio') {
      const j = num(e.jitter);
      if (j !== undefined) jitter = Math.max(jitter ?? 0, j);
    } else {
      const fps = num(e.framesPerSecond);
      if (fps !== undefined) receivedFps = Math.max(receivedFps ?? 0, fps);
    }
  }
  if (jitter !== undefined) report.jitterMs = bound(Math.round(jitter * 1000), 60_000);
  if (receivedFps !== undefined) report.receivedFps = bound(receivedFps, 240);
  if (previous) {
    const dReceived = received - previous.received;
    const dLost = lost - previous.lost;
    if (dReceived + dLost > 0 && dReceived >= 0 && dLost >= 0)
      report.inboundLoss = bound(dLost / (dReceived + dLost), 1);
  }

  let sentFps: number | undefined;
  let limited = false;
  let outboundLoss: number | undefined;
  for (const e of s) {
    if (e.type === 'outbound-rtp' && e.kind === 'video') {
      const fps = num(e.framesPerSecond);
      if (fps !== undefined) sentFps = Math.max(sentFps ?? 0, fps);
      if (e.qualityLimitationReason === 'bandwidth') limited = true;
    } else if (e.type === 'remote-inbound-rtp') {
      const f = num(e.fractionLost);
      if (f !== undefined) outboundLoss = Math.max(outboundLoss ?? 0, f);
    }
  }
  if (sentFps !== undefined) report.sentFps = bound(sentFps, 240);
  if (outboundLoss !== undefined) report.outboundLoss = bound(outboundLoss, 1);
  if (s.length > 0) report.bandwidthLimited = limited;
  return { report, counters: { received, lost } };
}

export class QualityReporter {
  readonly #media: () => MediaSession | undefined;
  readonly #send: (report: QualityReport) => Promise<unknown>;
  readonly #log: () => Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #counters: Counters | undefined;
  #busy = false;

  constructor(options: {
    media: () => MediaSession | undefined;
    send: (report: QualityReport) => Promise<unknown>;
    log: () => Logger;
  }) {
    this.#media = options.media;
    this.#send = options.send;
    this.#log = options.log;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#tick(), REPORT_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#counters = undefined;
  }

  async #tick(): Promise<void> {
    const media = this.#media();
    if (!media || media.closed || this.#busy) return;
    this.#busy = true;
    try {
      const [recv, send] = await Promise.all([
        media.recvTransport.getStats().catch(() => undefined),
        media.sendTransport?.getStats().catch(() => undefined),
      ]);
      const { report, counters } = summarize(recv, send, this.#counters);
      this.#counters = counters;
      await this.#send(report);
    } catch (error) {
      this.#log().debug('quality report not sent', { error: String(error) });
    } finally {
      this.#busy = false;
    }
  }
}
