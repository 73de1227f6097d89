/**
 * One track's piece of one recorded span: a loopback PlainTransport and a
 * consumer on the room's router, and an ffmpeg that copies the RTP (no
 * transcoding) into a Matroska file in the recorder's private folder.
 *
 * Order matters: the consumer is created paused, ffmpeg starts, and only once
 * ffmpeg holds its port is the consumer resumed and a key frame asked for, so
 * the file starts on a decodable frame. Nothing here is on the room's request
 * path: the recorder starts segments in the background.
 */
import { createSocket } from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import { FfmpegProcess } from './FfmpegProcess.js';
import { freePortPair, isBound } from './localPorts.js';
import { consumerSdp, recorderCapabilities } from './sdp.js';

export interface SegmentTrack {
  producer: types.Producer;
  identity: string;
  source: string;
}

export interface TrackSegmentOptions {
  router: types.Router;
  track: SegmentTrack;
  /** Private folder for the plaintext file while ffmpeg writes. */
  dir: Promise<string>;
  id: string;
  ffmpegPath: string;
  niceness: number;
}

const LISTEN_TIMEOUT_MS = 20_000;
const BYE_EXIT_MS = 4000;

/** RTCP BYE (RFC 3550 6.6) for `ssrc`, to ffmpeg's RTP port (muxed RTCP) and its RTCP port. */
async function sendBye(port: number, ssrc: number): Promise<void> {
  const bye = Buffer.alloc(8);
  bye.writeUInt8(0x81, 0);
  bye.writeUInt8(203, 1);
  bye.writeUInt16BE(1, 2);
  bye.writeUInt32BE(ssrc >>> 0, 4);
  const socket = createSocket('udp4');
  try {
    for (const p of [port, port + 1])
      await new Promise<void>((resolve) => socket.send(bye, p, '127.0.0.1', () => resolve()));
  } finally {
    socket.close();
  }
}
/** Key frames asked for after the start: the first request may reach the sender before ffmpeg's probe is ready. */
const KEY_FRAME_RETRIES_MS = [1000, 2500];

export class TrackSegment {
  readonly id: string;
  readonly track: SegmentTrack;
  /** The plaintext file (set once start() knows the folder). */
  file = '';
  readonly kind: 'audio' | 'video';
  codec = '';
  /** Wall-clock ms when media started flowing into ffmpeg. */
  startedAt: number | undefined;
  endedAt: number | undefined;
  readonly #options: TrackSegmentOptions;
  #transport: types.PlainTransport | undefined;
  #consumer: types.Consumer | undefined;
  #ffmpeg: FfmpegProcess | undefined;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #port: number | undefined;
  #ssrc: number | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #end!: (failure: string | undefined) => void;
  /**
   * Resolves when the segment is over: undefined when stopped (pause, producer
   * closed), a reason when ffmpeg or the setup failed.
   */
  readonly ended: Promise<string | undefined>;

  constructor(options: TrackSegmentOptions) {
    this.#options = options;
    this.id = options.id;
    this.track = options.track;
    this.kind = options.track.producer.kind;
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  get stderr(): string {
    return this.#ffmpeg?.stderr ?? '';
  }

  /** Sets up transport, consumer and ffmpeg; a failure ends the segment with its reason. */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      this.#end((err as Error).message);
      await this.stop();
    }
  }

  async #start(): Promise<void> {
    const { router, track } = this.#options;
    const dir = await this.#options.dir;
    this.file = join(dir, `${this.id}.mkv`);
    if (this.#stopping) return;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
      appData: { recording: this.id },
    });
    this.#transport = transport;
    const port = await freePortPair();
    await transport.connect({ ip: '127.0.0.1', port });
    this.#port = port;
    const consumer = await transport.consume({
      producerId: track.producer.id,
      rtpCapabilities: recorderCapabilities(router),
      paused: true,
      appData: { recording: this.id },
    });
    this.#consumer = consumer;
    this.#ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    // The producer went away (or the router closed): this track's segment ends here.
    consumer.observer.once('close', () => void this.stop());
    this.codec = consumer.rtpParameters.codecs[0]?.mimeType.split('/')[1]?.toLowerCase() ?? '';
    if (this.#stopping) return;
    const sdpFile = join(dir, `${this.id}.sdp`);
    await writeFile(sdpFile, consumerSdp(this.kind, consumer.rtpParameters, port), { mode: 0o600 });
    const ffmpeg = new FfmpegProcess({
      ffmpegPath: this.#options.ffmpegPath,
      niceness: this.#options.niceness,
      args: [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'warning',
        '-protocol_whitelist',
        'file,udp,rtp',
        // mediasoup starts a consumer on a key frame, which names the size: no need to probe long
        // (a long probe would lose the start of a short span when it is stopped early).
        '-analyzeduration',
        '1000000',
        '-fpsprobesize',
        '0',
        '-fflags',
        '+genpts',
        '-i',
        sdpFile,
        '-map',
        '0',
        '-c',
        'copy',
        // Short clusters: a crash loses about a second, not the whole cluster.
        '-cluster_time_limit',
        '1000',
        '-f',
        'matroska',
        '-y',
        this.file,
      ],
    });
    this.#ffmpeg = ffmpeg;
    ffmpeg.on('exit', ({ code, signal, requested }) => {
      if (requested || this.#stopping) return;
      this.#end(`ffmpeg exited (code ${code ?? '-'}, signal ${signal ?? '-'})`);
      void this.stop();
    });
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (!(await isBound(port))) {
      if (this.#stopping) return;
      if (Date.now() > deadline) throw new Error('ffmpeg did not open its RTP port');
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.#stopping) return;
    await consumer.resume();
    this.startedAt = Date.now();
    if (this.kind === 'video') {
      await consumer.requestKeyFrame().catch(() => undefined);
      for (const ms of KEY_FRAME_RETRIES_MS)
        this.#timers.push(
          setTimeout(() => {
            if (!consumer.closed) void consumer.requestKeyFrame().catch(() => undefined);
          }, ms),
        );
    }
  }

  /** Ends the segment: media stops, ffmpeg finalizes its file. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#end(undefined);
    if (this.startedAt !== undefined) this.endedAt = Date.now();
    for (const t of this.#timers) clearTimeout(t);
    this.#consumer?.close();
    this.#transport?.close();
    // Media has stopped; what ffmpeg received until now was consented to. ffmpeg blocks reading a
    // silent socket and only sees SIGINT between packets, so end its input the RTP way: an RTCP BYE
    // makes it finish the file (also while it is still probing). SIGINT, then SIGKILL, if it does not.
    const ffmpeg = this.#ffmpeg;
    if (!ffmpeg) return;
    if (this.#port !== undefined && this.#ssrc !== undefined) {
      ffmpeg.expectExit();
      await sendBye(this.#port, this.#ssrc);
      if (await ffmpeg.exitsWithin(BYE_EXIT_MS)) return;
    }
    await ffmpeg.stop();
  }

  /** For tests of the recorder's crash handling: ffmpeg dies as if it crashed. */
  crashForTest(): void {
    this.#ffmpeg?.kill();
  }
}
