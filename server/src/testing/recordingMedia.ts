/**
 * Test media for the recorder: a MediaRoom on the real mediasoup worker with
 * a publisher whose camera and microphone are real ffmpeg processes sending
 * VP8 (a moving test pattern) and Opus (a tone) over RTP into plain
 * transports — a call without a browser. Also: ffprobe and luma checks of a
 * recording's composed file.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { types } from 'mediasoup';
import { PeerMedia } from '../rooms/media/PeerMedia.js';
import type { MediaPeer } from '../rooms/media/MediaPeer.js';
import type { MediaRoom } from '../rooms/media/MediaRoom.js';

const run = promisify(execFile);

export interface TestPublisher {
  peer: MediaPeer;
  producers: string[];
  stop(): void;
}

function testPeer(identity: string): MediaPeer {
  return {
    identity,
    closed: false,
    media: new PeerMedia(),
    loadTest: true,
    remoteIp: '127.0.0.1',
    can: () => true,
    notify: () => undefined,
  };
}

async function plainSend(media: MediaRoom, peer: MediaPeer): Promise<types.PlainTransport> {
  const transport = await media.router.createPlainTransport({
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    // ffmpeg sends RTCP from another port than RTP: with one muxed tuple, comedia would latch onto the RTCP one.
    rtcpMux: false,
    comedia: true,
  });
  media.adopt(peer, { transport, direction: 'send', plain: true, connectCalled: true });
  return transport;
}

/** Publishes a camera (VP8 test pattern) and a microphone (Opus tone) from ffmpeg. */
export async function publishTestMedia(media: MediaRoom, identity: string, label = 0): Promise<TestPublisher> {
  const peer = testPeer(identity);
  const video = await plainSend(media, peer);
  const audio = await plainSend(media, peer);
  const vssrc = 1111 + label * 10;
  const assrc = 2222 + label * 10;
  const producers = [
    await media.produce(
      peer,
      {
        transportId: video.id,
        kind: 'video',
        source: 'camera',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/VP8',
              payloadType: 101,
              clockRate: 90000,
              // As a browser's: the SFU may ask for key frames (ffmpeg ignores them; its GOP is short).
              rtcpFeedback: [
                { type: 'nack', parameter: 'pli' },
                { type: 'ccm', parameter: 'fir' },
              ],
            },
          ],
          encodings: [{ ssrc: vssrc }],
        },
      },
      () => [],
    ),
    await media.produce(
      peer,
      {
        transportId: audio.id,
        kind: 'audio',
        source: 'microphone',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: assrc }],
        },
      },
      () => [],
    ),
  ];
  const target = (t: types.PlainTransport) => `rtp://127.0.0.1:${t.tuple.localPort}?rtcpport=${t.rtcpTuple!.localPort}`;
  const senders: ChildProcess[] = [
    spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '15'],
        ...['-ssrc', String(vssrc), '-payload_type', '101', '-f', 'rtp', target(video)],
      ],
      { stdio: 'ignore' },
    ),
    spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', `sine=frequency=${440 + label * 110}:sample_rate=48000`],
        ...['-ac', '2', '-c:a', 'libopus', '-b:a', '48k'],
        ...['-ssrc', String(assrc), '-payload_type', '100', '-f', 'rtp', target(audio)],
      ],
      { stdio: 'ignore' },
    ),
  ];
  return {
    peer,
    producers,
    stop() {
      for (const s of senders) s.kill('SIGKILL');
      video.close();
      audio.close();
    },
  };
}

export interface FrameStats {
  /** Mean, lowest and highest luma of the frame. */
  yavg: number;
  ymin: number;
  ymax: number;
  /** Mean luma difference to the previous frame (0: frozen). */
  ydif: number;
}

/** Per-frame luma statistics of a file's video, via ffmpeg's signalstats. */
export async function frameStats(file: string): Promise<FrameStats[]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-i', file, '-vf', 'signalstats,metadata=print:file=-', '-an', '-f', 'null', '-'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const frames: FrameStats[] = [];
  for (const block of stdout.split(/^frame:/m).slice(1)) {
    const v = (key: string) => Number(new RegExp(`lavfi\\.signalstats\\.${key}=([\\d.]+)`).exec(block)?.[1] ?? NaN);
    frames.push({ yavg: v('YAVG'), ymin: v('YMIN'), ymax: v('YMAX'), ydif: v('YDIF') });
  }
  return frames;
}

/** A frame with a picture in it: a blank (padding, black) frame has one luma value throughout. */
export const hasPicture = (f: FrameStats) => f.ymax - f.ymin > 40;

/** Peak volume of a file's audio (dB), via volumedetect. */
export async function maxVolume(file: string): Promise<number> {
  const { stderr } = await run('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-i',
    file,
    '-vn',
    '-af',
    'volumedetect',
    '-f',
    'null',
    '-',
  ]);
  const m = /max_volume:\s*(-?[\d.]+) dB/.exec(stderr);
  return m ? Number(m[1]) : -Infinity;
}
