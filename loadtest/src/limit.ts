/**
 * The physical-limit microbenchmark: how many packets one core can SRTP-protect
 * and hand to the kernel over UDP in a tight loop, in Node, with the packet
 * mix a consult subscriber receives (opus + top-layer VP8). An SFU does more
 * per packet (receive, decrypt, route, encrypt, send), so this bounds from
 * above what any forwarding server on this core could reach.
 */
import { createSocket } from 'node:dgram';
import { AUDIO_SPEC, OutStream, VIDEO_LAYERS } from './rtp/media.js';
import { SrtpContext, randomSrtpParameters, type SrtpSuite } from './rtp/srtp.js';

export interface LimitResult {
  srtp: boolean;
  /** The suite the loop protected with (when `srtp`). */
  suite?: SrtpSuite;
  seconds: number;
  packets: number;
  pps: number;
  mbps: number;
  avgPacketBytes: number;
  /** CPU the loop used, in cores (≈ 1.0 when it really ran flat out on one core). */
  cpu: number;
}

/** A few seconds of what one consult subscriber receives, to cycle through. */
function packetMix(): Buffer[] {
  const audio = new OutStream(AUDIO_SPEC, 100);
  const video = new OutStream(VIDEO_LAYERS[2]!, 101);
  const out: Buffer[] = [];
  let t = 0;
  for (let frame = 0; frame < 60; frame++) {
    out.push(...video.nextFrame(t));
    if (frame % 3 !== 2) out.push(...audio.nextFrame(t)); // 50 audio vs 30 video frames per second
    t += 33.3;
  }
  audio.close();
  video.close();
  return out;
}

export async function runLimit(options: {
  port: number;
  seconds: number;
  srtp: boolean;
  suite: SrtpSuite;
}): Promise<LimitResult> {
  const socket = createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  socket.on('error', () => undefined);
  socket.connect(options.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const mix = packetMix();
  const ctx = new SrtpContext(randomSrtpParameters(options.suite));
  let packets = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + options.seconds * 1000;
  let i = 0;
  while (performance.now() < deadline) {
    for (let n = 0; n < 512; n++) {
      const p = mix[i++ % mix.length]!;
      const out = options.srtp ? ctx.protectRtp(p) : p;
      socket.send(out);
      packets++;
      bytes += out.length;
    }
    // Let libuv complete the queued sends so memory stays bounded.
    await new Promise<void>((r) => setImmediate(r));
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  socket.close();
  return {
    srtp: options.srtp,
    ...(options.srtp ? { suite: options.suite } : {}),
    seconds,
    packets,
    pps: packets / seconds,
    mbps: (bytes * 8) / seconds / 1e6,
    avgPacketBytes: bytes / packets,
    cpu: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}
