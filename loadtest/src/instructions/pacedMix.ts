/**
 * The fixed-count loads' sending (fixedLoad.ts for a mediasoup worker,
 * janusLoad.ts for Janus): the consult subscriber's mix, 50 audio and 30
 * video frames a second interleaved by time, `packets` RTP packets in all at
 * `pps`, paced slowly enough that a server under callgrind keeps up. Both
 * loads send the same packets at the same times, so their counts compare.
 */
import type { OutStream } from '../rtp/media.js';

/** Sends the mix through `send` (clear RTP); returns how many packets it sent. */
export async function sendPacedMix(
  audio: OutStream,
  video: OutStream,
  packets: number,
  pps: number,
  send: (packet: Buffer) => void,
): Promise<number> {
  const gapMs = 1000 / pps;
  let sent = 0;
  let t = 0;
  const t0 = performance.now();
  while (sent < packets) {
    const frame = audio.nextFrameAtMs <= video.nextFrameAtMs ? audio : video;
    const at = frame.nextFrameAtMs;
    // The stream's own frame clock: without this step every frame would be audio's first.
    frame.nextFrameAtMs += frame.frameIntervalMs;
    for (const pkt of frame.nextFrame(at)) {
      if (sent >= packets) break;
      send(pkt);
      sent++;
      t += gapMs;
      const wait = t0 + t - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }
  return sent;
}
