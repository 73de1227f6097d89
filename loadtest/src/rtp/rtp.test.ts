import { describe, expect, it } from 'vitest';
import { buildNack, buildSenderReport, isRtcp, parseRtcp, parseRtp, writeRtpHeader } from './rtp.js';
import { monoMs } from '../clock.js';
import { OutStream, VIDEO_LAYERS, readProbe } from './media.js';

describe('RTP and RTCP helpers', () => {
  it('writes and parses an RTP header', () => {
    const buf = Buffer.alloc(40);
    writeRtpHeader(buf, 101, true, 65535, 0xfffffff0, 0x01020304);
    expect(isRtcp(buf)).toBe(false);
    expect(parseRtp(buf)).toMatchObject({
      ssrc: 0x01020304,
      seq: 65535,
      payloadType: 101,
      marker: true,
      payloadStart: 12,
      payloadEnd: 40,
    });
  });

  it('round-trips a NACK with a bitmask across the sequence wrap, and a sender report', () => {
    const nack = buildNack(1, 99, [65534, 65535, 0, 3, 200]);
    expect(isRtcp(nack)).toBe(true);
    const fb = parseRtcp(Buffer.concat([buildSenderReport(7, Date.now(), 1, 2, 3), nack]));
    expect(fb.senderReports).toBe(1);
    expect(fb.nacks[0]!.ssrc).toBe(99);
    expect(fb.nacks[0]!.seqs.sort((a, b) => a - b)).toEqual([0, 3, 200, 65534, 65535]);
  });

  it('packetizes VP8 key frames with the key-frame bit and a readable probe', () => {
    const s = new OutStream(VIDEO_LAYERS[2]!, 101);
    const before = monoMs();
    const frame = s.nextFrame(123.5);
    const after = monoMs();
    expect(frame.length).toBeGreaterThan(1);
    const first = parseRtp(frame[0]!)!;
    // VP8 descriptor: X and S set, then I|L|T, two-byte picture id, TL0PICIDX, TID; frame tag with P = 0.
    expect(frame[0]![first.payloadStart]! & 0x90).toBe(0x90);
    expect(frame[0]![first.payloadStart + 6]! & 0x01).toBe(0);
    expect(parseRtp(frame[frame.length - 1]!)!.marker).toBe(true);
    // The probe carries the monotonic clock when the packet was built (what receive threads compare with).
    const probe = readProbe(frame[0]!, first.payloadStart, first.payloadEnd)!;
    expect(probe.streamIndex).toBe(s.index);
    expect(probe.sentAtMs).toBeGreaterThanOrEqual(before);
    expect(probe.sentAtMs).toBeLessThanOrEqual(after);
    const delta = s.nextFrame(200);
    const d0 = parseRtp(delta[0]!)!;
    expect(delta[0]![d0.payloadStart + 6]! & 0x01).toBe(1);
    s.close();
  });
});
