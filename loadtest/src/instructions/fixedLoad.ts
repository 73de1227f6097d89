/**
 * A fixed number of packets through one mediasoup worker, for counting the
 * worker's instructions per forwarded packet (see callgrind.ts). One
 * publisher (opus + VP8 at the top simulcast layer's rate: what a consult
 * subscriber receives) on an SRTP plain transport, forwarded to
 * `subscribers` SRTP plain transports; paced slowly enough that a worker under
 * callgrind (~50× slower) keeps up, so nothing is dropped or retransmitted.
 * Runs in its own process: the worker binary comes from MEDIASOUP_WORKER_BIN,
 * which mediasoup reads when it is first imported.
 */
import { createSocket, type Socket } from 'node:dgram';
import { LoadTestError } from '../errors.js';
import { AUDIO_SPEC, OutStream, VIDEO_LAYERS } from '../rtp/media.js';
import { isRtcp } from '../rtp/rtp.js';
import { SrtpContext, randomSrtpParameters, type SrtpSuite } from '../rtp/srtp.js';
import { sendPacedMix } from './pacedMix.js';

export interface FixedLoadOptions {
  /** RTP packets the publisher sends. */
  packets: number;
  /** Publisher packets per second. */
  pps: number;
  subscribers: number;
  suite: SrtpSuite;
}

export interface FixedLoadResult {
  workerBin: string;
  suite: SrtpSuite;
  sent: number;
  /** RTP packets the worker received from the publisher (producer stats). */
  ingress: number;
  /** RTP packets the worker sent to the subscribers (consumer stats). */
  egress: number;
  /** RTP packets the subscribers received and could decrypt. */
  delivered: number;
  srtpFailures: number;
  workerPid: number;
}

const AUDIO_PT = 100;
const VIDEO_PT = 101;

async function bindLoopback(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return s;
}

export async function runFixedLoad(o: FixedLoadOptions): Promise<FixedLoadResult> {
  const mediasoup = await import('mediasoup');
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 });
  const sockets: Socket[] = [];
  try {
    const router = await worker.createRouter({
      mediaCodecs: [
        { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
        { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
      ],
    });
    const listenInfo = { protocol: 'udp' as const, ip: '127.0.0.1' };
    const send = await router.createPlainTransport({
      listenInfo,
      rtcpMux: true,
      comedia: true,
      enableSrtp: true,
      srtpCryptoSuite: o.suite,
    });
    const pubSocket = await bindLoopback();
    sockets.push(pubSocket);
    const ours = randomSrtpParameters(o.suite);
    await send.connect({ srtpParameters: ours as never });
    const out = new SrtpContext(ours);
    const audio = new OutStream(AUDIO_SPEC, AUDIO_PT);
    const video = new OutStream(VIDEO_LAYERS[2]!, VIDEO_PT);
    const cname = 'instructions';
    const producers = [
      await send.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: audio.ssrc }],
          rtcp: { cname, reducedSize: true },
        },
      }),
      await send.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/VP8',
              payloadType: VIDEO_PT,
              clockRate: 90000,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
            },
          ],
          encodings: [{ ssrc: video.ssrc }],
          rtcp: { cname, reducedSize: true },
        },
      }),
    ];

    let delivered = 0;
    let srtpFailures = 0;
    const consumers = [];
    for (let i = 0; i < o.subscribers; i++) {
      const recv = await router.createPlainTransport({
        listenInfo,
        rtcpMux: true,
        enableSrtp: true,
        srtpCryptoSuite: o.suite,
      });
      const socket = await bindLoopback();
      sockets.push(socket);
      const theirs = new SrtpContext(recv.srtpParameters!);
      socket.on('message', (raw) => {
        if (isRtcp(raw)) return;
        try {
          theirs.unprotectRtp(raw);
          delivered++;
        } catch {
          srtpFailures++;
        }
      });
      await recv.connect({
        ip: '127.0.0.1',
        port: socket.address().port,
        srtpParameters: randomSrtpParameters(o.suite) as never,
      });
      for (const p of producers) {
        consumers.push(await recv.consume({ producerId: p.id, rtpCapabilities: router.rtpCapabilities }));
      }
    }

    // The consult subscriber's mix: 50 audio and 30 video frames a second, interleaved by time.
    pubSocket.connect(send.tuple.localPort, '127.0.0.1');
    await new Promise<void>((resolve) => pubSocket.once('connect', () => resolve()));
    const sent = await sendPacedMix(audio, video, o.packets, o.pps, (pkt) => pubSocket.send(out.protectRtp(pkt)));
    // Let the worker drain what is queued (it may run far slower under callgrind).
    const expected = sent * o.subscribers;
    const deadline = performance.now() + 20_000;
    let last = -1;
    while (delivered < expected && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (delivered === last) break;
      last = delivered;
    }
    const ingress = (await Promise.all(producers.map((p) => p.getStats())))
      .flat()
      .reduce((s, st) => s + Number((st as { packetCount?: number }).packetCount ?? 0), 0);
    const egress = (await Promise.all(consumers.map((c) => c.getStats())))
      .flat()
      .filter((st) => st.type === 'outbound-rtp')
      .reduce((s, st) => s + Number((st as { packetCount?: number }).packetCount ?? 0), 0);
    audio.close();
    video.close();
    if (ingress === 0) throw new LoadTestError('SETUP_FAILED', 'the worker received none of the fixed-count packets');
    return {
      workerBin: process.env.MEDIASOUP_WORKER_BIN ?? '(mediasoup default)',
      suite: o.suite,
      sent,
      ingress,
      egress,
      delivered,
      srtpFailures,
      workerPid: worker.pid,
    };
  } finally {
    for (const s of sockets) s.close();
    worker.close();
  }
}
