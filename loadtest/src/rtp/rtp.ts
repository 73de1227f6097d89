/**
 * Just enough RTP and RTCP (RFC 3550, 4585, 5104) for synthetic publishers and
 * subscribers: header writing and parsing, sender reports, generic NACK, and a
 * reader that counts the feedback the SFU sends back.
 */

export const RTP_HEADER_BYTES = 12;

/** RTCP packet types (RFC 3550 / 4585); with rtcp-mux they share the port with RTP. */
export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** RFC 5761: the second byte of an RTCP packet is 192..223, which no dynamic RTP payload type uses. */
export function isRtcp(packet: Buffer): boolean {
  const pt = packet[1] ?? 0;
  return packet.length >= 8 && pt >= 192 && pt <= 223;
}

export function writeRtpHeader(
  buf: Buffer,
  pt: number,
  marker: boolean,
  seq: number,
  timestamp: number,
  ssrc: number,
): void {
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  buf.writeUInt16BE(seq & 0xffff, 2);
  buf.writeUInt32BE(timestamp >>> 0, 4);
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

export interface RtpView {
  ssrc: number;
  seq: number;
  payloadType: number;
  marker: boolean;
  timestamp: number;
  /** Offsets of the payload inside the packet (padding removed). */
  payloadStart: number;
  payloadEnd: number;
}

/** Parses an RTP header; null for anything that is not a well-formed RTP packet. */
export function parseRtp(packet: Buffer): RtpView | null {
  if (packet.length < RTP_HEADER_BYTES || packet[0]! >> 6 !== 2) return null;
  const cc = packet[0]! & 0x0f;
  let start = RTP_HEADER_BYTES + cc * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < start + 4) return null;
    start += 4 + packet.readUInt16BE(start + 2) * 4;
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[packet.length - 1]!;
  if (end < start) return null;
  return {
    ssrc: packet.readUInt32BE(8),
    seq: packet.readUInt16BE(2),
    payloadType: packet[1]! & 0x7f,
    marker: (packet[1]! & 0x80) !== 0,
    timestamp: packet.readUInt32BE(4),
    payloadStart: start,
    payloadEnd: end,
  };
}

/** RTP header length (with CSRCs and extensions), needed by SRTP to find the payload. */
export function rtpHeaderLength(packet: Buffer): number {
  const cc = packet[0]! & 0x0f;
  let len = RTP_HEADER_BYTES + cc * 4;
  if (packet[0]! & 0x10 && packet.length >= len + 4) len += 4 + packet.readUInt16BE(len + 2) * 4;
  return Math.min(len, packet.length);
}

const NTP_EPOCH_OFFSET_SEC = 2_208_988_800;

/** RTCP sender report (no report blocks): the SFU needs one per simulcast layer before it may switch layers. */
export function buildSenderReport(
  ssrc: number,
  nowMs: number,
  rtpTimestamp: number,
  packets: number,
  octets: number,
): Buffer {
  const buf = Buffer.alloc(28);
  buf[0] = 0x80;
  buf[1] = RTCP_SR;
  buf.writeUInt16BE(6, 2);
  buf.writeUInt32BE(ssrc >>> 0, 4);
  const sec = Math.floor(nowMs / 1000);
  buf.writeUInt32BE((sec + NTP_EPOCH_OFFSET_SEC) >>> 0, 8);
  buf.writeUInt32BE(Math.floor(((nowMs % 1000) / 1000) * 0x1_0000_0000) >>> 0, 12);
  buf.writeUInt32BE(rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(packets >>> 0, 20);
  buf.writeUInt32BE(octets >>> 0, 24);
  return buf;
}

/** Generic NACK (RFC 4585 §6.2.1) for a list of missing sequence numbers of one stream. */
export function buildNack(senderSsrc: number, mediaSsrc: number, missing: readonly number[]): Buffer {
  const fci: { pid: number; blp: number }[] = [];
  const sorted = [...missing].sort((a, b) => a - b);
  for (const seq of sorted) {
    const last = fci[fci.length - 1];
    const diff = last ? (seq - last.pid) & 0xffff : 0;
    if (last && diff >= 1 && diff <= 16) last.blp |= 1 << (diff - 1);
    else fci.push({ pid: seq & 0xffff, blp: 0 });
  }
  const buf = Buffer.alloc(12 + fci.length * 4);
  buf[0] = 0x80 | 1;
  buf[1] = RTCP_RTPFB;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  fci.forEach((e, i) => {
    buf.writeUInt16BE(e.pid, 12 + i * 4);
    buf.writeUInt16BE(e.blp, 14 + i * 4);
  });
  return buf;
}

export interface RtcpFeedback {
  /** Sequence numbers the SFU asked to be resent, by media SSRC. */
  nacks: { ssrc: number; seqs: number[] }[];
  /** SSRCs for which a key frame was requested (PLI or FIR). */
  keyFrameRequests: number[];
  senderReports: number;
  receiverReports: number;
}

/** Walks a (compound) RTCP packet and collects what the load generator reacts to or counts. */
export function parseRtcp(packet: Buffer): RtcpFeedback {
  const out: RtcpFeedback = { nacks: [], keyFrameRequests: [], senderReports: 0, receiverReports: 0 };
  let off = 0;
  while (off + 4 <= packet.length) {
    if (packet[off]! >> 6 !== 2) break;
    const fmt = packet[off]! & 0x1f;
    const pt = packet[off + 1]!;
    const len = (packet.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > packet.length) break;
    if (pt === RTCP_SR) out.senderReports++;
    else if (pt === RTCP_RR) out.receiverReports++;
    else if (pt === RTCP_RTPFB && fmt === 1 && len >= 16) {
      const ssrc = packet.readUInt32BE(off + 8);
      const seqs: number[] = [];
      for (let i = off + 12; i + 4 <= off + len; i += 4) {
        const pid = packet.readUInt16BE(i);
        const blp = packet.readUInt16BE(i + 2);
        seqs.push(pid);
        for (let b = 0; b < 16; b++) if (blp & (1 << b)) seqs.push((pid + b + 1) & 0xffff);
      }
      out.nacks.push({ ssrc, seqs });
    } else if (pt === RTCP_PSFB && len >= 12) {
      if (fmt === 1) out.keyFrameRequests.push(packet.readUInt32BE(off + 8));
      else if (fmt === 4)
        for (let i = off + 12; i + 8 <= off + len; i += 8) out.keyFrameRequests.push(packet.readUInt32BE(i));
    }
    off += len;
  }
  return out;
}
