/**
 * Watches every participant's link from the SFU's side (transport, producer
 * and consumer stats and scores, ICE state) plus what their client reports,
 * and acts on it:
 *   - a connection quality per participant (ConnectionQuality.ts), announced
 *     through the `quality` event with hysteresis;
 *   - downlink: the receive transport's bandwidth estimate caps what the SFU
 *     sends (starting low, raised as the estimate grows), new video on an
 *     unknown or weak link starts at the lowest layer, and when even that
 *     does not fit, video towards the participant is paused on the server
 *     (audio goes on) until a trial shows it fits again (VideoGate.ts);
 *   - uplink: when the participant's sending cannot carry video, the `audioOnly`
 *     event with direction 'uplink' tells their SDK to pause the camera; an
 *     uplink not yet proven to carry video follows the downlink into audio only.
 * It knows nothing of roles: the room decides who hears about it.
 */
import type { types } from 'mediasoup';
import { TypedEmitter, type ConnectionQuality, type LinkDirection, type QualityReport } from '@huizhen/protocol';
import type { Logger } from '../../observability/logger.js';
import { LOSS_POOR, QualityTracker, RTT_POOR_MS, type LinkSample } from './ConnectionQuality.js';
import type { MediaPeer } from './MediaPeer.js';
import type { PeerTransport, Subscription } from './PeerMedia.js';
import type { DownlinkPolicy } from './SubscriptionManager.js';
import { fitsVideo, uplinkFits } from './uplinkFit.js';
import { VideoGate, type GateChange } from './VideoGate.js';

/** How often links are measured. 2 s: fast enough to warn within seconds, light on the worker. */
export const SAMPLE_MS = 2_000;
/**
 * What the SFU may send a new receiver before its bandwidth estimate exists.
 * mediasoup's default (600 kbit/s, and the config's 1 Mbit/s) is several times a
 * weak mobile link: the first seconds of video would queue in front of the
 * WebSocket and the audio. 300 kbit/s carries audio and the lowest camera
 * layer; a good link's estimate passes it within seconds.
 */
export const RECV_START_BITRATE = 300_000;
/** The receive cap follows the estimate with this headroom, so probing can find more. */
const CAP_HEADROOM = 2;
const CAP_MAX = 20_000_000;
/** A client report older than this is not used. */
const REPORT_TTL_MS = 3 * SAMPLE_MS;
/** Reports more often than this are ignored (the rate limiter bounds the rest). */
const REPORT_MIN_GAP_MS = 500;

export interface QualityUpdate {
  quality: ConnectionQuality;
  uplink?: ConnectionQuality;
  downlink?: ConnectionQuality;
  rttMs?: number;
  loss?: number;
  availableBitrate?: number;
}

export interface LinkMonitorEvents {
  /** The announced quality of `peer` changed. */
  quality: (peer: MediaPeer, update: QualityUpdate) => void;
  /** `peer`'s video in `direction` stopped (true) or came back (false) for network reasons. */
  audioOnly: (peer: MediaPeer, audioOnly: boolean, direction: LinkDirection) => void;
  /**
   * Uplink trials: `peer`'s SDK is asked to try its camera again (false) or to
   * stop again (true); others are not told until the trial passed.
   */
  uplinkTrial: (peer: MediaPeer, audioOnly: boolean) => void;
}

interface PeerLink {
  tracker: QualityTracker;
  down: VideoGate;
  up: VideoGate;
  lastBytes: number;
  lastHeardAt: number;
  cap: number;
  report?: { at: number; data: QualityReport };
  lastReportAt: number;
  /** Set once a transport connected: from then on silence counts. */
  measuring?: boolean;
  /** The client's estimate at the previous sample of an uplink trial. */
  trialEstimate?: number | undefined;
}

function fraction(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : Math.min(1, Math.max(0, value));
}

function iceUp(t: PeerTransport | undefined): boolean {
  if (!t || t.plain) return false;
  const state = (t.transport as types.WebRtcTransport).iceState;
  return state === 'connected' || state === 'completed';
}

function everConnected(t: PeerTransport | undefined): boolean {
  if (!t || t.plain) return false;
  const state = (t.transport as types.WebRtcTransport).iceState;
  return state !== 'new' && state !== 'closed';
}

export class LinkMonitor extends TypedEmitter<LinkMonitorEvents> implements DownlinkPolicy {
  readonly #links = new WeakMap<MediaPeer, PeerLink>();
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #peers: () => Iterable<MediaPeer> = () => [];
  #busy = false;

  constructor(logger: Logger) {
    super({
      onListenerError: (error, event) => logger.error('link listener failed', { event, error: error as Error }),
    });
    this.#logger = logger;
  }

  /** Starts sampling the links of `peers` every SAMPLE_MS. */
  start(peers: () => Iterable<MediaPeer>): void {
    this.#peers = peers;
    this.#timer ??= setInterval(() => void this.sampleAll(), SAMPLE_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #link(peer: MediaPeer): PeerLink {
    let link = this.#links.get(peer);
    if (!link) {
      link = {
        tracker: new QualityTracker(),
        down: new VideoGate(),
        up: new VideoGate(),
        lastBytes: 0,
        lastHeardAt: Date.now(),
        cap: RECV_START_BITRATE,
        lastReportAt: 0,
      };
      this.#links.set(peer, link);
    }
    return link;
  }

  quality(peer: MediaPeer): ConnectionQuality | undefined {
    return this.#links.get(peer)?.tracker.quality;
  }

  /** The directions in which `peer` is announced as audio only now. */
  audioOnly(peer: MediaPeer): LinkDirection[] {
    const link = this.#links.get(peer);
    if (!link) return [];
    return (['downlink', 'uplink'] as const).filter((d) => (d === 'downlink' ? link.down : link.up).audioOnly);
  }

  // --- DownlinkPolicy (asked by SubscriptionManager when it creates consumers) ---

  startLow(peer: MediaPeer): boolean {
    // Load-test participants are not sampled (see #sample), so nothing would ever raise their layers:
    // they get what they ask for, or the benchmark would measure only the lowest layer.
    if (peer.loadTest) return false;
    const link = this.#links.get(peer);
    const down = link?.tracker.downlink;
    return !link || down === undefined || down === 'poor' || link.down.state !== 'video';
  }

  videoHeld(peer: MediaPeer): boolean {
    return this.#links.get(peer)?.down.state === 'audioOnly';
  }

  // --- inputs -------------------------------------------------------------------

  /** The client's own stats summary. Returns false when ignored (too soon after the last). */
  report(peer: MediaPeer, data: QualityReport, now = Date.now()): boolean {
    const link = this.#link(peer);
    if (now - link.lastReportAt < REPORT_MIN_GAP_MS) return false;
    link.lastReportAt = now;
    link.report = { at: now, data };
    return true;
  }

  /** Applies the receive-side start cap on a new receive transport. */
  async prepareRecvTransport(peer: MediaPeer, transport: types.WebRtcTransport): Promise<void> {
    const link = this.#link(peer);
    link.cap = RECV_START_BITRATE;
    await transport.setMaxOutgoingBitrate(RECV_START_BITRATE).catch(() => undefined);
  }

  // --- sampling -------------------------------------------------------------------

  async sampleAll(now = Date.now()): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await Promise.all(
        [...this.#peers()].map((peer) =>
          this.#sample(peer, now).catch((error: unknown) => {
            if (!peer.closed)
              this.#logger.debug('link sample failed', { participant: peer.identity, error: error as Error });
          }),
        ),
      );
    } finally {
      this.#busy = false;
    }
  }

  async #sample(peer: MediaPeer, now: number): Promise<void> {
    if (peer.closed || peer.loadTest) return;
    const send = peer.media.transport('send');
    const recv = peer.media.transport('recv');
    if (!send && !recv) return;
    // Nothing to measure until ICE got through once: a transport still being set up is not a lost link.
    if (!everConnected(send) && !everConnected(recv)) return;
    const link = this.#link(peer);
    if (!link.measuring) {
      link.measuring = true;
      link.lastHeardAt = now;
    }
    const [sendStats, recvStats] = await Promise.all([
      send ? send.transport.getStats().then((s) => s[0]) : undefined,
      recv ? recv.transport.getStats().then((s) => s[0]) : undefined,
    ]);
    if (peer.closed) return;
    // Anything at all from the participant (media, RTCP, STUN consent) says the link is there.
    const bytes = (sendStats?.bytesReceived ?? 0) + (recvStats?.bytesReceived ?? 0);
    if (bytes > link.lastBytes) link.lastHeardAt = now;
    link.lastBytes = bytes;

    const audioConsumer = [...peer.media.subscriptions()].find(
      (s) => s.consumer.kind === 'audio' && !s.consumer.paused,
    );
    const audioSent = audioConsumer ? await sentStreamStats(audioConsumer) : undefined;
    const rtcpRtt = audioSent?.roundTripTime;
    // While video towards the participant is held (or on trial), the transport's loss figure is
    // a slow weighted history of congestion feedback that thin audio updates rarely: it stays
    // high for most of a minute after a link recovers. The receivers' latest reports say how the
    // link is now (RTCP fraction lost over the last report interval, 0..255).
    const recentDownLoss = link.down.state === 'video' ? undefined : await recentDownlinkLoss(peer, audioSent);
    const report = link.report && now - link.report.at <= REPORT_TTL_MS ? link.report.data : undefined;

    const videoProducers = [...peer.media.tracks()].filter((t) => t.producer.kind === 'video' && !t.producer.paused);
    // A simulcast producer is as good as its best layer (the SDK's encoder drops top layers on purpose).
    const producerScores = [...peer.media.tracks()]
      .filter((t) => !t.producer.paused && t.producer.score.length > 0)
      .map((t) => Math.max(...t.producer.score.map((s) => s.score)));
    const consumerScores = [...peer.media.subscriptions()]
      .filter((s) => !s.consumer.paused && !s.consumer.producerPaused)
      .map((s) => s.consumer.score.score);
    const starved = link.down.state === 'audioOnly' ? undefined : starvedVideo(peer);
    const sample: LinkSample = {
      iceConnected: iceUp(send) || iceUp(recv),
      silentForMs: now - link.lastHeardAt,
      ...defined('rttMs', rtcpRtt ?? report?.rttMs),
      ...defined('uplinkLoss', fraction(sendStats?.rtpPacketLossReceived) ?? report?.outboundLoss),
      ...defined('downlinkLoss', recentDownLoss ?? fraction(recvStats?.rtpPacketLossSent) ?? report?.inboundLoss),
      // An estimate says "too little" only when video is held back by it (see starvedVideo / the encoder's flag).
      ...defined('downlinkBitrate', starved === true ? recvStats?.availableOutgoingBitrate : undefined),
      ...defined(
        'uplinkBitrate',
        link.up.state === 'video' && report?.bandwidthLimited ? report.availableOutgoingBitrate : undefined,
      ),
      ...defined('producerScore', producerScores.length ? Math.min(...producerScores) : undefined),
      ...defined('consumerScore', consumerScores.length ? Math.min(...consumerScores) : undefined),
      ...defined('jitterMs', report?.jitterMs),
      uplinkVideoBlocked: link.up.audioOnly,
      downlinkVideoBlocked: link.down.audioOnly,
    };

    const before = link.tracker.downlink;
    const changed = link.tracker.push(sample);
    if (changed) {
      this.emit('quality', peer, {
        quality: changed,
        ...defined('uplink', link.tracker.uplink),
        ...defined('downlink', link.tracker.downlink),
        ...defined('rttMs', sample.rttMs === undefined ? undefined : Math.round(sample.rttMs)),
        ...defined('loss', roundLoss(Math.max(sample.uplinkLoss ?? 0, sample.downlinkLoss ?? 0))),
        ...defined('availableBitrate', recvStats?.availableOutgoingBitrate),
      });
    }
    if (changed === 'lost') return;

    if (recv) await this.#steerDownlink(peer, link, recv, recvStats, sample, now, before);
    await this.#steerUplink(peer, link, report, sample, videoProducers.length > 0, now);
  }

  async #steerDownlink(
    peer: MediaPeer,
    link: PeerLink,
    recv: PeerTransport,
    stats: { availableOutgoingBitrate?: number } | undefined,
    sample: LinkSample,
    now: number,
    before: string | undefined,
  ): Promise<void> {
    const estimate = stats?.availableOutgoingBitrate;
    // The cap follows the estimate up (with headroom for probing), never below the start value.
    if (estimate !== undefined) {
      const cap = Math.min(CAP_MAX, Math.max(RECV_START_BITRATE, Math.round(estimate * CAP_HEADROOM)));
      if (Math.abs(cap - link.cap) / link.cap > 0.2) {
        link.cap = cap;
        await (recv.transport as types.WebRtcTransport).setMaxOutgoingBitrate(cap).catch(() => undefined);
      }
    }
    const starved = starvedVideo(peer);
    const fits =
      link.down.state === 'trial'
        ? trialFits(starved, sample.downlinkLoss, sample.rttMs)
        : starved === undefined
          ? undefined
          : !starved && fitsVideo(sample.downlinkLoss, sample.rttMs);
    const change = link.down.push({ now, fits, healthy: healthy(sample.downlinkLoss, sample.rttMs) });
    if (change) await this.#applyDownlink(peer, change);
    // The link got good: sizes the client asked for while it was weak now apply.
    const after = link.tracker.downlink;
    if (before !== after && (after === 'good' || after === 'excellent') && link.down.state === 'video') {
      await this.#restoreLayers(peer);
    }
  }

  async #applyDownlink(peer: MediaPeer, change: GateChange): Promise<void> {
    const videos = [...peer.media.subscriptions()].filter((s) => s.consumer.kind === 'video');
    this.#logger.info('downlink video', { participant: peer.identity, state: change.state, consumers: videos.length });
    await Promise.all(videos.map((s) => (change.sendVideo ? this.#resumeVideo(s) : this.#holdVideo(s))));
    if (change.announce !== undefined) this.emit('audioOnly', peer, change.announce, 'downlink');
  }

  async #holdVideo(s: Subscription): Promise<void> {
    s.networkPaused = true;
    if (!s.consumer.paused) await s.consumer.pause().catch(() => undefined);
  }

  async #resumeVideo(s: Subscription): Promise<void> {
    s.networkPaused = false;
    if (s.consumer.type === 'simulcast')
      await s.consumer.setPreferredLayers({ spatialLayer: 0, temporalLayer: 2 }).catch(() => undefined);
    if (s.clientResumed && !s.clientPaused && s.consumer.paused) {
      s.resumedAt = Date.now();
      await s.consumer.resume().catch(() => undefined);
    }
  }

  async #restoreLayers(peer: MediaPeer): Promise<void> {
    for (const s of peer.media.subscriptions()) {
      if (s.consumer.type !== 'simulcast' || s.requestedSpatialLayer === undefined) continue;
      await s.consumer
        .setPreferredLayers({ spatialLayer: s.requestedSpatialLayer, temporalLayer: 2 })
        .catch(() => undefined);
    }
  }

  async #steerUplink(
    peer: MediaPeer,
    link: PeerLink,
    report: QualityReport | undefined,
    sample: LinkSample,
    sendingVideo: boolean,
    now: number,
  ): Promise<void> {
    const camera = [...peer.media.tracks()].some((t) => t.source === 'camera');
    if (!camera) return;
    const state = link.up.state;
    const estimate = report?.availableOutgoingBitrate;
    const verdict = uplinkFits({
      state,
      // While the camera is paused for the network, only the client's estimate and the audio say anything.
      score: sendingVideo ? sample.producerScore : undefined,
      report,
      loss: sample.uplinkLoss,
      rttMs: sample.rttMs,
      previousEstimate: state === 'trial' ? link.trialEstimate : undefined,
    });
    link.trialEstimate = state === 'trial' ? (estimate ?? link.trialEstimate) : undefined;
    const fits = verdict === 'climbing' ? undefined : verdict;
    // A fresh join on a thin link: the camera would fill the uplink (and bury the audio) for the
    // seconds the uplink's own samples take, while the downlink has already shown video does not fit.
    const coupled = link.down.state === 'audioOnly' ? link.up.holdUnproven(now) : undefined;
    const change =
      coupled ??
      link.up.push({
        now,
        fits,
        healthy: healthy(sample.uplinkLoss, sample.rttMs),
        climbing: verdict === 'climbing',
      });
    if (!change) return;
    this.#logger.info('uplink video', {
      participant: peer.identity,
      state: change.state,
      ...(coupled ? { reason: 'downlink' } : {}),
      // What decided it, for whoever reads why a camera stopped (no clinical content).
      ...defined('estimateKbps', estimate === undefined ? undefined : Math.round(estimate / 1000)),
      ...defined('score', sendingVideo ? sample.producerScore : undefined),
      ...defined('rttMs', sample.rttMs === undefined ? undefined : Math.round(sample.rttMs)),
      ...defined('loss', sample.uplinkLoss === undefined ? undefined : roundLoss(sample.uplinkLoss)),
    });
    if (change.announce !== undefined) this.emit('audioOnly', peer, change.announce, 'uplink');
    else if (change.state === 'trial' || (state === 'trial' && change.state === 'audioOnly'))
      this.emit('uplinkTrial', peer, change.state !== 'trial');
  }
}

/**
 * Whether video towards `peer` is held back by their downlink: a video
 * consumer that should flow (not paused by anyone, its producer sending) but
 * has no layer at all. mediasoup selects no layer when its bandwidth estimate
 * is below even the lowest layer's bitrate, so this is "the lowest layer does
 * not fit", measured where it is decided. Undefined: no such consumer now.
 *
 * The estimate itself is no good for this: GCC barely grows it beyond what is
 * actually sent, so a doctor on fibre who receives only a patient's thin
 * stream has a low estimate too.
 */
/** How long a just-resumed video consumer may have no layer before it counts as starved. */
const FIRST_FRAME_GRACE_MS = 3_000;

function starvedVideo(peer: MediaPeer, now = Date.now()): boolean | undefined {
  let flowing: boolean | undefined;
  for (const s of peer.media.subscriptions()) {
    const c = s.consumer;
    if (c.kind !== 'video' || c.paused || c.producerPaused || s.networkPaused) continue;
    // Just started: the first key frame is still on its way.
    if (now - (s.resumedAt ?? 0) < FIRST_FRAME_GRACE_MS) continue;
    if (!c.score.producerScores.some((x) => x > 0) && c.score.producerScore <= 0) continue;
    if (c.currentLayers === undefined && c.type !== 'simple') return true;
    flowing = false;
  }
  return flowing;
}

/** The stats of what the SFU sends on `s` (the stream with the receiver's reports), if any. */
async function sentStreamStats(
  s: Subscription,
): Promise<{ roundTripTime?: number; fractionLost?: number } | undefined> {
  return s.consumer
    .getStats()
    .then((stats) => stats.find((x) => x.type === 'outbound-rtp'))
    .catch(() => undefined);
}

/**
 * The worst loss the receiver reported in its latest RTCP receiver reports on
 * the consumers that flow now (audio, and video during a trial). Undefined
 * when no report arrived yet.
 */
async function recentDownlinkLoss(
  peer: MediaPeer,
  audio: { fractionLost?: number } | undefined,
): Promise<number | undefined> {
  const videos = [...peer.media.subscriptions()].filter((s) => s.consumer.kind === 'video' && !s.consumer.paused);
  const reported = [audio, ...(await Promise.all(videos.map(sentStreamStats)))]
    .map((x) => x?.fractionLost)
    .filter((f): f is number => f !== undefined && Number.isFinite(f));
  return reported.length ? fraction(Math.max(...reported) / 256) : undefined;
}

/**
 * During a trial (video on at the lowest layer): video that does not fit
 * shows as a queue (round trip up) or loss, which fails it; video flowing
 * cleanly passes it; video not flowing yet decides nothing (the trial then
 * times out as failed, see TRIAL_MAX_MS).
 */
function trialFits(
  held: boolean | undefined,
  loss: number | undefined,
  rttMs: number | undefined,
): boolean | undefined {
  if ((loss ?? 0) > LOSS_POOR || (rttMs ?? 0) >= RTT_POOR_MS) return false;
  return held === false ? true : undefined;
}

function healthy(loss: number | undefined, rttMs: number | undefined): boolean {
  return (loss ?? 0) < LOSS_POOR && (rttMs ?? 0) < RTT_POOR_MS;
}

function roundLoss(loss: number): number {
  return Math.round(loss * 1000) / 1000;
}

/** `{ [key]: value }` when value is defined, else `{}` (exactOptionalPropertyTypes). */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
