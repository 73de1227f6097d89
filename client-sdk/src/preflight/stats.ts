/**
 * Reads what the pre-call check needs from WebRTC getStats reports (the W3C
 * webrtc-stats names, as Chrome, Firefox and Safari report them).
 */
import type { CandidateType } from './types.js';

type Stat = Record<string, unknown> & { type: string; id: string };

function all(report: RTCStatsReport, type: string): Stat[] {
  const out: Stat[] = [];
  report.forEach((s: Stat) => {
    if (s.type === type) out.push(s);
  });
  return out;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface SelectedPath {
  candidateType?: CandidateType;
  protocol?: 'udp' | 'tcp';
  relayProtocol?: 'udp' | 'tcp' | 'tls';
  /** STUN round trip on the selected pair, ms. */
  rttMs?: number;
  /** The sender's congestion-control estimate of what the path carries (GCC), kbit/s. */
  availableOutgoingKbps?: number;
}

/** The candidate pair ICE selected: from `transport.selectedCandidatePairId`, else the nominated succeeded pair. */
export function selectedPath(report: RTCStatsReport): SelectedPath | undefined {
  let pair: Stat | undefined;
  for (const t of all(report, 'transport')) {
    const id = t.selectedCandidatePairId;
    if (typeof id === 'string') pair = report.get(id) as Stat | undefined;
    if (pair) break;
  }
  pair ??= all(report, 'candidate-pair').find((p) => (p.nominated || p.selected) && p.state === 'succeeded');
  if (!pair) return undefined;
  const local =
    typeof pair.localCandidateId === 'string' ? (report.get(pair.localCandidateId) as Stat | undefined) : undefined;
  const type = local?.candidateType;
  const protocol = local?.protocol;
  const relay = local?.relayProtocol;
  const rtt = num(pair.currentRoundTripTime);
  const available = num(pair.availableOutgoingBitrate);
  return {
    ...(available !== undefined ? { availableOutgoingKbps: available / 1000 } : {}),
    ...(type === 'host' || type === 'srflx' || type === 'prflx' || type === 'relay' ? { candidateType: type } : {}),
    ...(protocol === 'udp' || protocol === 'tcp' ? { protocol } : {}),
    ...(relay === 'udp' || relay === 'tcp' || relay === 'tls' ? { relayProtocol: relay } : {}),
    ...(rtt !== undefined ? { rttMs: rtt * 1000 } : {}),
  };
}

export interface SendSample {
  bytesSent: number;
  packetsSent: number;
  /** From the server's receiver reports (remote-inbound-rtp). */
  remotePacketsLost?: number;
  remoteJitterMs?: number;
  remoteRttMs?: number;
}

export function sendSample(report: RTCStatsReport): SendSample {
  let bytesSent = 0;
  let packetsSent = 0;
  for (const s of all(report, 'outbound-rtp')) {
    bytesSent += num(s.bytesSent) ?? 0;
    packetsSent += num(s.packetsSent) ?? 0;
  }
  const sample: SendSample = { bytesSent, packetsSent };
  for (const r of all(report, 'remote-inbound-rtp')) {
    const lost = num(r.packetsLost);
    const jitter = num(r.jitter);
    const rtt = num(r.roundTripTime);
    if (lost !== undefined) sample.remotePacketsLost = (sample.remotePacketsLost ?? 0) + Math.max(0, lost);
    if (jitter !== undefined) sample.remoteJitterMs = Math.max(sample.remoteJitterMs ?? 0, jitter * 1000);
    if (rtt !== undefined) sample.remoteRttMs = Math.max(sample.remoteRttMs ?? 0, rtt * 1000);
  }
  return sample;
}

export interface ReceiveSample {
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  jitterMs?: number;
  framesReceived: number;
  framesDecoded: number;
}

export function receiveSample(report: RTCStatsReport): ReceiveSample {
  const sample: ReceiveSample = {
    bytesReceived: 0,
    packetsReceived: 0,
    packetsLost: 0,
    framesReceived: 0,
    framesDecoded: 0,
  };
  for (const s of all(report, 'inbound-rtp')) {
    sample.bytesReceived += num(s.bytesReceived) ?? 0;
    sample.packetsReceived += num(s.packetsReceived) ?? 0;
    sample.packetsLost += Math.max(0, num(s.packetsLost) ?? 0);
    sample.framesDecoded += num(s.framesDecoded) ?? 0;
    // framesReceived is newer; older browsers count decoded frames only.
    sample.framesReceived += num(s.framesReceived) ?? num(s.framesDecoded) ?? 0;
    const jitter = num(s.jitter);
    if (jitter !== undefined) sample.jitterMs = Math.max(sample.jitterMs ?? 0, jitter * 1000);
  }
  return sample;
}

export const mean = (values: number[]): number | undefined =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

export function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
