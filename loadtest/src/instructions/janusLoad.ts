/**
 * The fixed-count load of fixedLoad.ts, through Janus' VideoRoom instead of
 * a mediasoup worker, for counting Janus' instructions per forwarded packet
 * (janusInstructions.ts). One room, one publisher sending the same mix
 * (opus 50 frames/s + the top VP8 layer, 30 frames/s, one SSRC each, no
 * simulcast) and `subscribers` subscribers of both its streams, all over
 * WebRTC (werift ICE + DTLS, the generator's SRTP), since that is the only
 * media path Janus has. Sending starts once every path is up, paced as
 * fixedLoad paces it, so a janus under callgrind keeps up.
 *
 * What Janus forwarded is read from its Admin API (`handle_info`: each
 * subscriber handle's outgoing packet counts), what the subscribers
 * received is counted here; the two are checked against each other.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LoadTestError } from '../errors.js';
import type { PathSink } from '../paths.js';
import { JanusSession } from '../janus/api.js';
import { VIDEOROOM } from '../janus/connector.js';
import { JanusPath } from '../janus/path.js';
import type { JanusProcess } from '../janus/process.js';
import { parseRemote, publisherOffer, subscriberAnswer } from '../janus/sdp.js';
import { AUDIO_SPEC, OutStream, VIDEO_LAYERS } from '../rtp/media.js';
import type { SrtpSuite } from '../rtp/srtp.js';
import { createWebRtcIdentity } from '../webrtcPeer.js';
import type { FixedLoadResult } from './fixedLoad.js';
import { sendPacedMix } from './pacedMix.js';

export interface JanusLoadOptions {
  janus: JanusProcess;
  adminSecret: string;
  packets: number;
  pps: number;
  subscribers: number;
  suite: SrtpSuite;
  /** How long ICE and DTLS may each take per path (a janus under callgrind is ~50× slower). */
  stepTimeoutMs: number;
}

export interface JanusLoadResult extends FixedLoadResult {
  /** RTP packets Janus says it sent the subscribers (Admin API), per subscriber handle. */
  egressPerSubscriber: number[];
  /** Errors the media paths reported (ICE lost, DTLS closed, send failures). */
  errors: string[];
}

const AUDIO_PT = 111;
const VIDEO_PT = 96;
const SETTLE_MS = 3000;

/** The packet counters of one handle's media (Janus 1.1 `handle_info`: webrtc.media.<mid>.stats.in / .out). */
const Counter = z.object({ packets: z.number() }).passthrough();
const HandleInfo = z.object({
  janus: z.string(),
  info: z
    .object({
      webrtc: z
        .object({
          media: z
            .record(
              z.string(),
              z
                .object({
                  stats: z.object({ in: Counter.optional(), out: Counter.optional() }).passthrough().optional(),
                })
                .passthrough(),
            )
            .optional(),
        })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .optional(),
});

/** RTP packets in and out of one handle, summed over its media, from the Admin API. */
export async function handlePackets(
  adminUrl: string,
  secret: string,
  session: number,
  handle: number,
): Promise<{ in: number; out: number }> {
  const res = await fetch(`${adminUrl}/${session}/${handle}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ janus: 'handle_info', transaction: randomBytes(6).toString('hex'), admin_secret: secret }),
    signal: AbortSignal.timeout(60_000),
  });
  const parsed = HandleInfo.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success || parsed.data.janus !== 'success' || !parsed.data.info?.webrtc?.media)
    throw new LoadTestError('SERVER_REFUSED', `janus' Admin API gave no media stats for handle ${handle}`);
  let inPackets = 0;
  let outPackets = 0;
  for (const m of Object.values(parsed.data.info.webrtc.media)) {
    inPackets += m.stats?.in?.packets ?? 0;
    outPackets += m.stats?.out?.packets ?? 0;
  }
  return { in: inPackets, out: outPackets };
}

export async function runJanusLoad(o: JanusLoadOptions): Promise<JanusLoadResult> {
  const { janus } = o;
  const adminUrl = janus.adminUrl;
  if (!adminUrl) throw new LoadTestError('INTERNAL', 'the fixed-count janus load needs its Admin API');
  const identity = await createWebRtcIdentity();
  const errors: string[] = [];
  const sink: PathSink = { srtpFailures: 0, noteError: (m) => errors.push(m) };
  const sessions: JanusSession[] = [];
  const paths: JanusPath[] = [];
  const audio = new OutStream(AUDIO_SPEC, AUDIO_PT);
  const video = new OutStream(VIDEO_LAYERS[2]!, VIDEO_PT);
  const session = async () => {
    const s = await JanusSession.create(janus.url);
    sessions.push(s);
    return s;
  };
  const path = (direction: 'send' | 'recv', id: string) => {
    const p = new JanusPath(id, direction, identity, o.suite, sink, janus.iceIp, o.stepTimeoutMs);
    paths.push(p);
    return p;
  };
  try {
    const admin = await session();
    const adminHandle = await admin.attach(VIDEOROOM);
    const room = 1000 + Math.floor(Math.random() * 1_000_000);
    await admin.request(adminHandle, {
      request: 'create',
      room,
      publishers: 1,
      audiocodec: 'opus',
      videocodec: 'vp8',
      is_private: true,
      notify_joining: false,
    });

    // The publisher: join, publish with our offer (audio mid 0, video mid 1), ICE + DTLS.
    const pub = await session();
    const pubHandle = await pub.attach(VIDEOROOM);
    const joined = await pub.message(pubHandle, { request: 'join', ptype: 'publisher', room, display: 'publisher' });
    const feed = joined.data.id;
    if (typeof feed !== 'number') throw new LoadTestError('SERVER_REFUSED', 'janus did not confirm the publisher join');
    const send = path('send', 'publisher');
    const offer = publisherOffer(await send.local(), {
      cname: 'instructions',
      audio: { payloadType: AUDIO_PT, ssrc: audio.ssrc },
      video: { payloadType: VIDEO_PT, ssrcs: [video.ssrc] },
    });
    const answered = await pub.message(
      pubHandle,
      { request: 'publish', audiocodec: 'opus', videocodec: 'vp8' },
      { type: 'offer', sdp: offer },
    );
    if (answered.jsep?.type !== 'answer')
      throw new LoadTestError('SERVER_REFUSED', 'janus answered publish without an SDP answer');
    await pub.trickleCompleted(pubHandle);
    send.start(parseRemote(answered.jsep.sdp));
    await send.established;
    // Janus lists the feed once its side of the PeerConnection is up, which lags ours under callgrind.
    const listedBy = performance.now() + o.stepTimeoutMs;
    for (;;) {
      const list = await admin.request(adminHandle, { request: 'listparticipants', room });
      const participants = Array.isArray(list.participants) ? (list.participants as Record<string, unknown>[]) : [];
      if (participants.some((p) => p.id === feed && p.publisher === true)) break;
      if (performance.now() > listedBy)
        throw new LoadTestError(
          'SERVER_REFUSED',
          `janus did not list the published feed within ${o.stepTimeoutMs / 1000} s`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }

    // The subscribers: both streams of the one feed each, Janus' offer answered, ICE + DTLS.
    let delivered = 0;
    const subscribers: { session: JanusSession; handle: number }[] = [];
    for (let i = 0; i < o.subscribers; i++) {
      const sub = await session();
      const handle = await sub.attach(VIDEOROOM);
      const attached = await sub.message(handle, {
        request: 'join',
        ptype: 'subscriber',
        room,
        streams: [{ feed }],
      });
      if (attached.jsep?.type !== 'offer')
        throw new LoadTestError('SERVER_REFUSED', 'janus answered the subscriber join without an offer');
      const remote = parseRemote(attached.jsep.sdp);
      const recv = path('recv', `subscriber-${i}`);
      recv.onPacket = (_packet, rtcp) => {
        if (!rtcp) delivered++;
      };
      await sub.message(
        handle,
        { request: 'start' },
        { type: 'answer', sdp: subscriberAnswer(await recv.local(), remote) },
      );
      await sub.trickleCompleted(handle);
      recv.start(remote);
      await recv.established;
      subscribers.push({ session: sub, handle });
    }

    // Our side of a path is up before janus has told its plugin (webrtcup, media setup); under callgrind
    // that lags, and a packet sent meanwhile is dropped. Let it settle first.
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    // The same mix and pacing as fixedLoad: 50 audio and 30 video frames a second, interleaved by time.
    const sent = await sendPacedMix(audio, video, o.packets, o.pps, (pkt) => send.send(pkt));
    // Let janus drain what is queued (it runs far slower under callgrind): until the subscribers have
    // what janus says it sent them, or nothing more arrives for a while.
    const expected = sent * o.subscribers;
    const deadline = performance.now() + 30_000;
    const forwarded = async () => {
      const out: number[] = [];
      for (const s of subscribers) out.push((await handlePackets(adminUrl, o.adminSecret, s.session.id, s.handle)).out);
      return out;
    };
    let egressPerSubscriber = await forwarded();
    let last = -1;
    let quiet = 0;
    while (performance.now() < deadline) {
      const total = egressPerSubscriber.reduce((a, b) => a + b, 0);
      if (delivered >= expected || (delivered >= total && total > 0 && quiet >= 1)) break;
      quiet = delivered === last ? quiet + 1 : 0;
      if (quiet >= 3) break;
      last = delivered;
      await new Promise((r) => setTimeout(r, 1000));
      egressPerSubscriber = await forwarded();
    }
    const ingress = (await handlePackets(adminUrl, o.adminSecret, pub.id, pubHandle)).in;
    if (ingress === 0) throw new LoadTestError('SETUP_FAILED', 'janus received none of the fixed-count packets');
    return {
      workerBin: 'janus',
      suite: o.suite,
      sent,
      ingress,
      egress: egressPerSubscriber.reduce((a, b) => a + b, 0),
      egressPerSubscriber,
      delivered,
      srtpFailures: sink.srtpFailures,
      workerPid: janus.pid,
      errors,
    };
  } finally {
    audio.close();
    video.close();
    for (const p of paths) p.close();
    for (const s of sessions.reverse()) await s.destroy();
  }
}
