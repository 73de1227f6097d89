/**
 * The synthetic participants' SFU interface over Janus' VideoRoom plugin, so
 * the same participants, media and criteria run against Janus (webrtc mode
 * only). Each participant has a Janus session and a publisher handle (it
 * joins the room as a publisher, which is also how it hears about feeds);
 * it publishes with an offer it builds (sdp.ts) and subscribes, once the
 * feeds it expects are published, on one subscriber handle to all of them,
 * answering Janus' offer. Rooms are created through a handle of the
 * connector's own.
 */
import { LoadTestError } from '../errors.js';
import type { MediaPath } from '../paths.js';
import type {
  ConsumerInfo,
  JoinRequest,
  JoinTiming,
  PlainTransportInfo,
  SfuConnector,
  SfuSession,
  WebRtcPathRequest,
  WebRtcTransportInfo,
} from '../sfu.js';
import { JanusSession } from './api.js';
import { JanusPath } from './path.js';
import { parseRemote, publisherOffer, subscriberAnswer, type PublisherTracks } from './sdp.js';

export const VIDEOROOM = 'janus.plugin.videoroom';
const FEEDS_TIMEOUT_MS = 20_000;
/** The top simulcast substream and temporal layer, what Huizhen's load-test subscribers start at. */
const TOP_SUBSTREAM = 2;
const TOP_TEMPORAL = 2;

interface Feed {
  id: number;
  display: string;
}

function feedsOf(data: Record<string, unknown>): Feed[] {
  const list = Array.isArray(data.publishers) ? (data.publishers as unknown[]) : [];
  const out: Feed[] = [];
  for (const p of list) {
    const f = p as { id?: unknown; display?: unknown };
    if (typeof f.id === 'number')
      out.push({ id: f.id, display: typeof f.display === 'string' ? f.display : String(f.id) });
  }
  return out;
}

const notHere = (what: string) =>
  new LoadTestError('USAGE', `janus is driven in webrtc mode only (${what} is a Huizhen/mediasoup request)`);

class JanusSfuSession implements SfuSession {
  readonly routerRtpCapabilities: Record<string, unknown> = {};
  onConsumer: ((c: ConsumerInfo) => void) | undefined;
  onClosed: ((reason: string) => void) | undefined;
  readonly #api: JanusSession;
  readonly #handle: number;
  readonly #room: number;
  readonly #feedId: number;
  readonly #iceIp: string | undefined;
  readonly #feeds = new Map<number, Feed>();
  #feedsChanged: (() => void) | undefined;
  #send: JanusPath | undefined;
  #recv: { path: JanusPath; expectedFeeds: number } | undefined;
  #audio: PublisherTracks['audio'] | undefined;
  #closed = false;

  constructor(api: JanusSession, handle: number, room: number, feedId: number, feeds: Feed[], iceIp?: string) {
    this.#iceIp = iceIp;
    this.#api = api;
    this.#handle = handle;
    this.#room = room;
    this.#feedId = feedId;
    for (const f of feeds) this.#feeds.set(f.id, f);
    api.onEvent = (e) => {
      if (e.sender !== this.#handle) return;
      for (const f of feedsOf(e.data)) this.#feeds.set(f.id, f);
      for (const key of ['unpublished', 'leaving'] as const) {
        const gone = e.data[key];
        if (typeof gone === 'number') this.#feeds.delete(gone);
      }
      this.#feedsChanged?.();
    };
    api.onClosed = (reason) => {
      if (!this.#closed) this.onClosed?.(reason);
    };
  }

  async openWebRtcPath(direction: 'send' | 'recv', req: WebRtcPathRequest): Promise<MediaPath> {
    const path = new JanusPath(
      `${direction}-${this.#api.id}`,
      direction,
      req.identity,
      req.suite,
      req.sink,
      this.#iceIp,
    );
    req.timings.push(path.timing);
    if (direction === 'send') this.#send = path;
    else this.#recv = { path, expectedFeeds: Math.ceil(req.expectedConsumers / 2) };
    return path;
  }

  /** The participant is ready for consumers: subscribe once the feeds it expects are published. */
  async setRtpCapabilities(): Promise<void> {
    const recv = this.#recv;
    if (!recv) return;
    this.#subscribe(recv.path, recv.expectedFeeds).catch((err: unknown) =>
      recv.path.fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  async #waitForFeeds(n: number): Promise<Feed[]> {
    const others = () => [...this.#feeds.values()].filter((f) => f.id !== this.#feedId);
    const deadline = performance.now() + FEEDS_TIMEOUT_MS;
    while (others().length < n) {
      if (this.#closed) throw new LoadTestError('INTERNAL', 'the session closed while waiting for feeds');
      const left = deadline - performance.now();
      if (left <= 0)
        throw new LoadTestError('SERVER_REFUSED', `janus listed ${others().length} of ${n} expected feeds in 20 s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.#feedsChanged = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return others();
  }

  async #subscribe(path: JanusPath, expectedFeeds: number): Promise<void> {
    const feeds = await this.#waitForFeeds(expectedFeeds);
    const started = performance.now();
    const sub = await this.#api.attach(VIDEOROOM);
    const attached = await this.#api.message(sub, {
      request: 'join',
      ptype: 'subscriber',
      room: this.#room,
      private_id: undefined,
      streams: feeds.map((f) => ({ feed: f.id })),
    });
    if (!attached.jsep || attached.jsep.type !== 'offer')
      throw new LoadTestError('SERVER_REFUSED', 'janus answered the subscriber join without an offer');
    const offer = parseRemote(attached.jsep.sdp);
    const streams = Array.isArray(attached.data.streams) ? (attached.data.streams as Record<string, unknown>[]) : [];
    const display = new Map(feeds.map((f) => [f.id, f.display]));
    const consumers: ConsumerInfo[] = [];
    for (const m of offer.media) {
      if ((m.kind !== 'audio' && m.kind !== 'video') || m.ssrc === undefined) continue;
      const s = streams.find((x) => String(x.mid) === m.mid);
      const feed = typeof s?.feed_id === 'number' ? s.feed_id : 0;
      consumers.push({
        consumerId: `${sub}:${m.mid}`,
        trackId: `${feed}/${String(s?.feed_mid ?? '')}`,
        participantIdentity: display.get(feed) ?? String(feed),
        kind: m.kind,
        source: m.kind === 'audio' ? 'microphone' : 'camera',
        rtpParameters: { encodings: [{ ssrc: m.ssrc }] },
        producerPaused: false,
      } as ConsumerInfo);
    }
    for (const c of consumers) this.onConsumer?.(c);
    const answer = subscriberAnswer(await path.local(), offer);
    await this.#api.message(sub, { request: 'start' }, { type: 'answer', sdp: answer });
    path.timing.connectMs = performance.now() - started;
    await this.#api.trickleCompleted(sub);
    path.start(offer);
    const videoMids = offer.media.filter((m) => m.kind === 'video').map((m) => m.mid);
    if (videoMids.length)
      await this.#api.message(sub, {
        request: 'configure',
        streams: videoMids.map((mid) => ({ mid, substream: TOP_SUBSTREAM, temporal: TOP_TEMPORAL })),
      });
  }

  async produce(
    _transportId: string,
    kind: 'audio' | 'video',
    _source: 'camera' | 'microphone',
    rtpParameters: Record<string, unknown>,
  ): Promise<string> {
    const codec = (rtpParameters.codecs as { payloadType: number }[])[0]!;
    const ssrcs = (rtpParameters.encodings as { ssrc: number }[]).map((e) => e.ssrc);
    if (kind === 'audio') {
      this.#audio = { payloadType: codec.payloadType, ssrc: ssrcs[0]! };
      return `${this.#feedId}/0`;
    }
    // The video track completes the offer: audio (mid 0) and simulcast video (mid 1) are published together.
    const path = this.#send;
    if (!path || !this.#audio)
      throw new LoadTestError('INTERNAL', 'janus publishing needs the send path and the audio track first');
    const cname = String((rtpParameters.rtcp as { cname?: string } | undefined)?.cname ?? 'lt');
    const offer = publisherOffer(await path.local(), {
      cname,
      audio: this.#audio,
      video: { payloadType: codec.payloadType, ssrcs },
    });
    const started = performance.now();
    const answered = await this.#api.message(
      this.#handle,
      { request: 'publish', audiocodec: 'opus', videocodec: 'vp8' },
      { type: 'offer', sdp: offer },
    );
    if (!answered.jsep || answered.jsep.type !== 'answer')
      throw new LoadTestError('SERVER_REFUSED', 'janus answered publish without an SDP answer');
    path.timing.connectMs = performance.now() - started;
    // Every candidate was in the offer (half-trickle): say so, or Janus waits for more before it lets ICE fail or settle.
    await this.#api.trickleCompleted(this.#handle);
    path.start(parseRemote(answered.jsep.sdp));
    return `${this.#feedId}/1`;
  }

  async resumeConsumer(): Promise<void> {
    // Janus starts forwarding on `start`; nothing is paused.
  }

  createPlainTransport(): Promise<PlainTransportInfo> {
    return Promise.reject(notHere('createPlainTransport'));
  }

  connectPlainTransport(): Promise<void> {
    return Promise.reject(notHere('connectPlainTransport'));
  }

  createWebRtcTransport(): Promise<WebRtcTransportInfo> {
    return Promise.reject(notHere('createTransport'));
  }

  connectWebRtcTransport(): Promise<void> {
    return Promise.reject(notHere('connectTransport'));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#feedsChanged?.();
    void this.#api.destroy();
  }
}

export class JanusConnector implements SfuConnector {
  readonly name = 'janus';
  readonly #url: string;
  readonly #iceIp: string | undefined;
  readonly #rooms = new Map<string, Promise<number>>();
  #admin: Promise<{ api: JanusSession; handle: number }> | undefined;
  #nextRoom = 1000 + Math.floor(Math.random() * 1_000_000);

  /** @param iceIp the local non-loopback address Janus gathers on (JanusProcess.iceIp), accepted besides loopback. */
  constructor(url: string, iceIp?: string) {
    this.#url = url;
    this.#iceIp = iceIp;
  }

  #adminHandle(): Promise<{ api: JanusSession; handle: number }> {
    this.#admin ??= JanusSession.create(this.#url).then(async (api) => ({ api, handle: await api.attach(VIDEOROOM) }));
    return this.#admin;
  }

  #room(name: string): Promise<number> {
    let room = this.#rooms.get(name);
    if (!room) {
      const id = this.#nextRoom++;
      room = this.#adminHandle().then(async ({ api, handle }) => {
        await api.request(handle, {
          request: 'create',
          room: id,
          description: 'huizhen-loadtest',
          publishers: 16,
          audiocodec: 'opus',
          videocodec: 'vp8',
          is_private: true,
          notify_joining: false,
        });
        return id;
      });
      room.catch(() => undefined);
      this.#rooms.set(name, room);
    }
    return room;
  }

  async connect(req: JoinRequest, timing: JoinTiming): Promise<SfuSession> {
    const api = await JanusSession.create(this.#url);
    try {
      timing.wsOpenAt = performance.now();
      const room = await this.#room(req.room);
      const handle = await api.attach(VIDEOROOM);
      const joined = await api.message(handle, { request: 'join', ptype: 'publisher', room, display: req.identity });
      if (joined.data.videoroom !== 'joined' || typeof joined.data.id !== 'number')
        throw new LoadTestError('SERVER_REFUSED', 'janus did not confirm the publisher join');
      timing.joinedAt = performance.now();
      return new JanusSfuSession(api, handle, room, joined.data.id, feedsOf(joined.data), this.#iceIp);
    } catch (err) {
      await api.destroy();
      throw err;
    }
  }

  async close(): Promise<void> {
    const admin = await this.#admin?.catch(() => undefined);
    await admin?.api.destroy();
  }
}
