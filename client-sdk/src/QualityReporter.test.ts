import { describe, expect, it } from 'vitest';
import { summarize } from './QualityReporter.js';
import { parseRequest } from '@huizhen/protocol';

/** A stand-in for the browser's RTCStatsReport (a Map of stats by id). */
function report(entries: Record<string, unknown>[]): RTCStatsReport {
  return new Map(entries.map((e) => [e.id as string, e])) as unknown as RTCStatsReport;
}

const send = report([
  { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' },
  { id: 'CP', type: 'candidate-pair', currentRoundTripTime: 0.612, availableOutgoingBitrate: 87_450.3 },
  { id: 'O1', type: 'outbound-rtp', kind: 'video', framesPerSecond: 7, qualityLimitationReason: 'bandwidth' },
  { id: 'R1', type: 'remote-inbound-rtp', kind: 'audio', fractionLost: 0.04 },
]);
const recv = (received: number, lost: number) =>
  report([
    { id: 'CP2', type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.5 },
    { id: 'I1', type: 'inbound-rtp', kind: 'audio', packetsReceived: received, packetsLost: lost, jitter: 0.045 },
    { id: 'I2', type: 'inbound-rtp', kind: 'video', packetsReceived: 0, packetsLost: 0, framesPerSecond: 2 },
  ]);

describe('summarize', () => {
  it('reads round trip, estimate, frame rates, jitter and limitation from the browser stats', () => {
    const { report: r } = summarize(recv(100, 0), send, undefined);
    expect(r).toEqual({
      rttMs: 612,
      availableOutgoingBitrate: 87_450,
      jitterMs: 45,
      receivedFps: 2,
      sentFps: 7,
      outboundLoss: 0.04,
      bandwidthLimited: true,
    });
    // What it builds is what the server accepts.
    expect(() => parseRequest('reportQuality', r)).not.toThrow();
  });

  it('computes inbound loss over the interval, not since the start', () => {
    const first = summarize(recv(1000, 100), undefined, undefined);
    expect(first.report.inboundLoss).toBeUndefined();
    const second = summarize(recv(1090, 110), undefined, first.counters);
    expect(second.report.inboundLoss).toBeCloseTo(10 / 100);
    // Without a send transport, the receive side's pair gives the round trip.
    expect(second.report.rttMs).toBe(500);
    expect(second.report.bandwidthLimited).toBeUndefined();
  });

  it('reports nothing it did not measure', () => {
    expect(summarize(undefined, undefined, undefined).report).toEqual({});
  });
});

describe('reportQuality on the wire', () => {
  it('refuses values out of bounds and unknown fields', () => {
    expect(() => parseRequest('reportQuality', { inboundLoss: 2 })).toThrow(/inboundLoss/);
    expect(() => parseRequest('reportQuality', { rttMs: -1 })).toThrow(/rttMs/);
    expect(() => parseRequest('reportQuality', { note: 'x' })).toThrow();
  });
});
