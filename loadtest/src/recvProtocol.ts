/** Messages between the main thread and its receive threads (recvThread.ts, recvThreads.ts). */
import type { SrtpParameters } from './rtp/srtp.js';

/** One received RTP packet: path id, SSRC, seq, size, arrival (monoMs), probe send stamp (monoMs, NaN without probe), probe stream index. */
export const RECORD_FIELDS = 7;

export type ToThread =
  | {
      type: 'open';
      req: number;
      id: number;
      ip: string;
      port: number;
      inbound?: SrtpParameters;
      outbound?: SrtpParameters;
    }
  | { type: 'send'; id: number; packet: Uint8Array }
  | { type: 'close'; id: number };

export type FromThread =
  | { type: 'opened'; req: number; localPort?: number; error?: string }
  | { type: 'batch'; data: Float64Array; srtpFailures: number; rtcpPackets: number };
