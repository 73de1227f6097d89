/**
 * A room's data channels. Clients publish over SCTP on their send transport
 * (one DataProducer per topic and reliability, label = topic); nothing a
 * client sends reaches another client directly. The relay consumes every
 * client DataProducer through a DirectTransport, checks each message (size,
 * then the sender's rate, then the topic policy: cheapest first, so a flood
 * costs little) and re-sends what it accepts, in an envelope naming the sender
 * as the server knows them, from its own two DataProducers (reliable and
 * unreliable). Every receiver has one DataConsumer on each, subscribed to a
 * subchannel of its own, so each message goes only to the receivers its topic
 * allows, in one send, with the fan-out done by the worker.
 *
 * Refusals are counted (`count(outcome)`) and reported to the sender as
 * `dataRefused`, at most once per topic and code per second. A sender that
 * keeps flooding past its limit has its messages dropped in the worker
 * (its server-side DataConsumers paused) for a while, so the flood no longer
 * even reaches this process.
 */
import type { types } from 'mediasoup';
import {
  DATA_CHANNEL_LABELS,
  DATA_ENVELOPE_PROTOCOL,
  DATA_ENVELOPE_VERSION,
  ErrorCode,
  encodeDataEnvelope,
  type DataChannelInfo,
  type RequestData,
  type ResponseData,
} from '@huizhen/protocol';
import { HuizhenError, invalidState, notFound, permissionDenied } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { RateLimiter } from '../../util/RateLimiter.js';
import { mediaCall } from '../media/mediaCall.js';
import {
  MAX_PRODUCERS_PER_PEER,
  channelInfo,
  dataRecvTransport,
  dataSendTransport,
  isReliable,
  receiveOptions,
} from './dataTransports.js';
import { DataTopicRegistry, type DataPayload, type DataPeer, type DataTopicPolicy } from './DataTopic.js';

export interface DataRelaySettings {
  enabled: boolean;
  maxMessageBytes: number;
  rateLimitPerSec: number;
  rateLimitBurst: number;
  restrictedTopics: readonly string[];
  maxSctpMessageSize: number;
  /**
   * Counts messages by outcome: 'forwarded', 'kept' (a policy kept it),
   * 'no_receivers', or the refusal's error code (also for messages dropped in the worker).
   */
  count?: (outcome: string, n?: number) => void;
}

/** WebRTC PPIDs (RFC 8831): string, binary, empty string, empty binary. */
const PPID = { string: 51, binary: 53, emptyString: 56, emptyBinary: 57 } as const;
/** How often the same refusal (topic, code) is told to the sender. */
const REFUSAL_NOTICE_MS = 1000;
/** Over this many refusals in one second, the sender's messages are dropped in the worker ... */
const FLOOD_REFUSALS_PER_SEC = 200;
/** ... for this long. */
const FLOOD_PAUSE_MS = 2000;

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

interface Source {
  readonly topic: string;
  readonly reliable: boolean;
  readonly policy: DataTopicPolicy;
  readonly producer: types.DataProducer;
  readonly tap: types.DataConsumer;
  /** Messages that reached this process, and those known dropped in the worker while paused. */
  seen: number;
  droppedInWorker: number;
}

interface PeerData {
  readonly limiter: RateLimiter;
  readonly sources: Map<string, Source>;
  /** Set while subscribed: this receiver's subchannel and its two DataConsumers. */
  receiving?: { subchannel: number; transportId: string; consumers: types.DataConsumer[]; infos: DataChannelInfo[] };
  readonly lastNotice: Map<string, number>;
  refusalsThisSecond: number;
  secondStartedAt: number;
  pausedUntil: number;
}

export class DataRelay {
  readonly topics: DataTopicRegistry;
  readonly #settings: DataRelaySettings;
  readonly #logger: Logger;
  readonly #participants: () => Iterable<DataPeer>;
  readonly #direct: types.DirectTransport | undefined;
  readonly #out: { reliable: types.DataProducer; unreliable: types.DataProducer } | undefined;
  readonly #peers = new WeakMap<DataPeer, PeerData>();
  readonly #subchannels = new Set<number>();
  #nextSubchannel = 0;

  private constructor(
    settings: DataRelaySettings,
    logger: Logger,
    participants: () => Iterable<DataPeer>,
    direct?: types.DirectTransport,
    out?: { reliable: types.DataProducer; unreliable: types.DataProducer },
  ) {
    this.#settings = settings;
    this.#logger = logger;
    this.#participants = participants;
    this.#direct = direct;
    this.#out = out;
    this.topics = new DataTopicRegistry(settings.restrictedTopics);
  }

  /** `participants`: everyone admitted to the room (the possible receivers). */
  static async create(
    router: types.Router,
    settings: DataRelaySettings,
    logger: Logger,
    participants: () => Iterable<DataPeer>,
  ): Promise<DataRelay> {
    if (!settings.enabled) return new DataRelay(settings, logger, participants);
    const direct = await router.createDirectTransport({ maxMessageSize: settings.maxSctpMessageSize });
    const produce = (label: string) => direct.produceData({ label, protocol: DATA_ENVELOPE_PROTOCOL });
    const [reliable, unreliable] = await Promise.all([
      produce(DATA_CHANNEL_LABELS.reliable),
      produce(DATA_CHANNEL_LABELS.unreliable),
    ]);
    return new DataRelay(settings, logger, participants, direct, { reliable, unreliable });
  }

  get enabled(): boolean {
    return this.#out !== undefined;
  }

  /** The largest payload accepted on any topic, in bytes. */
  get maxMessageBytes(): number {
    return this.#settings.maxMessageBytes;
  }

  /** The DataConsumers `peer` receives on now (none when not subscribed). */
  receivingConsumers(peer: DataPeer): readonly types.DataConsumer[] {
    return this.#peers.get(peer)?.receiving?.consumers ?? [];
  }

  /** The server's two DataProducers (for receivers' DataConsumers; tests consume them too). */
  get outgoing(): { reliable: types.DataProducer; unreliable: types.DataProducer } {
    return this.#required();
  }

  #required(): { direct: types.DirectTransport; reliable: types.DataProducer; unreliable: types.DataProducer } {
    if (!this.#out || !this.#direct) throw invalidState('Data channels are turned off on this server.');
    return { direct: this.#direct, ...this.#out };
  }

  #state(peer: DataPeer): PeerData {
    let s = this.#peers.get(peer);
    if (!s) {
      s = {
        limiter: new RateLimiter(this.#settings.rateLimitPerSec, this.#settings.rateLimitBurst),
        sources: new Map(),
        lastNotice: new Map(),
        refusalsThisSecond: 0,
        secondStartedAt: 0,
        pausedUntil: 0,
      };
      this.#peers.set(peer, s);
    }
    return s;
  }

  // --- publishing ------------------------------------------------------------

  /** Opens a client DataProducer on its send transport and starts checking what it sends. */
  async produceData(peer: DataPeer, request: RequestData<'produceData'>): Promise<ResponseData['produceData']> {
    this.#required();
    if (!peer.can('data')) throw permissionDenied('publish data');
    const policy = this.topics.resolve(request.label);
    if (!policy.mayPublish(peer))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, `Your role may not publish on the topic '${policy.topic}'.`);
    const t = dataSendTransport(peer.media, request.transportId);
    this.#roomForOneMore(peer);
    const producer = await mediaCall(() =>
      t.transport.produceData({
        sctpStreamParameters: request.sctpStreamParameters,
        label: policy.topic,
        protocol: request.protocol ?? '',
        appData: { identity: peer.identity },
      }),
    );
    await this.#tap(peer, producer, policy, isReliable(request.sctpStreamParameters));
    return { dataProducerId: producer.id, maxMessageBytes: this.#settings.maxMessageBytes };
  }

  /**
   * Takes a DataProducer made on another transport of this router for `peer`
   * (a server-side source, or a test's DirectTransport) as if `peer` had
   * published it: same policy, limits and envelope. The topic is its label.
   */
  async attach(peer: DataPeer, producer: types.DataProducer, options: { reliable: boolean }): Promise<void> {
    this.#required();
    const policy = this.topics.resolve(producer.label);
    if (!peer.can('data') || !policy.mayPublish(peer)) throw permissionDenied(`publish on the topic '${policy.topic}'`);
    await this.#tap(peer, producer, policy, options.reliable);
  }

  #roomForOneMore(peer: DataPeer): void {
    if (this.#state(peer).sources.size >= MAX_PRODUCERS_PER_PEER)
      throw invalidState(`At most ${MAX_PRODUCERS_PER_PEER} data topics may be open at once; close one first.`);
  }

  async #tap(peer: DataPeer, producer: types.DataProducer, policy: DataTopicPolicy, reliable: boolean): Promise<void> {
    const { direct } = this.#required();
    const state = this.#state(peer);
    try {
      this.#roomForOneMore(peer);
    } catch (err) {
      producer.close();
      throw err;
    }
    let tap: types.DataConsumer;
    try {
      tap = await direct.consumeData({ dataProducerId: producer.id });
    } catch (err) {
      producer.close();
      throw err;
    }
    if (peer.closed || direct.closed) {
      producer.close();
      throw invalidState('The session closed while the data channel was being opened.');
    }
    const source: Source = { topic: policy.topic, reliable, policy, producer, tap, seen: 0, droppedInWorker: 0 };
    state.sources.set(producer.id, source);
    producer.observer.once('close', () => state.sources.delete(producer.id));
    tap.on('message', (message, ppid) => this.#onMessage(peer, state, source, message, ppid));
    this.#logger.info('data producer opened', {
      participant: peer.identity,
      dataProducer: producer.id,
      topic: policy.topic,
      reliable,
    });
  }

  closeDataProducer(peer: DataPeer, dataProducerId: string): void {
    const source = this.#peers.get(peer)?.sources.get(dataProducerId);
    if (!source) throw notFound('data producer', dataProducerId);
    source.producer.close();
  }

  // --- receiving -------------------------------------------------------------

  /**
   * Opens the server's two channels to `peer` on its receive transport (or on
   * `transport`, for tests that receive through a DirectTransport). Calling it
   * again on the same transport returns the same channels.
   */
  async subscribe(peer: DataPeer, transport?: types.Transport): Promise<ResponseData['subscribeData']> {
    const { reliable, unreliable } = this.#required();
    const recv = transport ?? dataRecvTransport(peer.media);
    if (recv.closed) throw invalidState('Create the receive transport first.');
    const state = this.#state(peer);
    if (state.receiving?.transportId === recv.id)
      return { channels: state.receiving.infos, maxMessageBytes: this.#settings.maxMessageBytes };
    this.#stopReceiving(state);

    const subchannel = this.#allocateSubchannel();
    const consumers: types.DataConsumer[] = [];
    try {
      consumers.push(
        await recv.consumeData({ dataProducerId: reliable.id, ...receiveOptions(true), subchannels: [subchannel] }),
        await recv.consumeData({ dataProducerId: unreliable.id, ...receiveOptions(false), subchannels: [subchannel] }),
      );
    } catch (err) {
      for (const c of consumers) c.close();
      this.#subchannels.delete(subchannel);
      throw err;
    }
    if (peer.closed) {
      for (const c of consumers) c.close();
      this.#subchannels.delete(subchannel);
      throw invalidState('The session closed while the data channels were being opened.');
    }
    const infos: DataChannelInfo[] = consumers.map((c, i) => channelInfo(c, i === 0));
    const receiving = { subchannel, transportId: recv.id, consumers, infos };
    state.receiving = receiving;
    for (const c of consumers) {
      c.on('transportclose', () => {
        if (state.receiving === receiving) this.#stopReceiving(state);
      });
      c.on('dataproducerclose', () => {
        if (state.receiving === receiving) this.#stopReceiving(state);
        peer.notify('dataConsumerClosed', { dataConsumerId: c.id });
      });
    }
    return { channels: infos, maxMessageBytes: this.#settings.maxMessageBytes };
  }

  #allocateSubchannel(): number {
    if (this.#subchannels.size >= 65536) throw invalidState('This room has no data channel left.');
    while (this.#subchannels.has(this.#nextSubchannel)) this.#nextSubchannel = (this.#nextSubchannel + 1) % 65536;
    const sc = this.#nextSubchannel;
    this.#subchannels.add(sc);
    this.#nextSubchannel = (sc + 1) % 65536;
    return sc;
  }

  #stopReceiving(state: PeerData): void {
    const r = state.receiving;
    if (!r) return;
    state.receiving = undefined;
    this.#subchannels.delete(r.subchannel);
    for (const c of r.consumers) if (!c.closed) c.close();
  }

  /** The participant left the room: close what it published and received. */
  forget(peer: DataPeer): void {
    const state = this.#peers.get(peer);
    if (!state) return;
    this.#stopReceiving(state);
    for (const s of state.sources.values()) s.producer.close();
    this.#peers.delete(peer);
  }

  // --- one message -------------------------------------------------------------

  #onMessage(peer: DataPeer, state: PeerData, source: Source, message: Buffer, ppid: number): void {
    source.seen += 1;
    if (peer.closed) return;
    const now = Date.now();
    // Cheapest checks first: a flood is dropped before anything is decoded.
    if (message.length > this.#settings.maxMessageBytes) {
      this.#refuse(peer, state, source, now, ErrorCode.MESSAGE_TOO_LARGE, this.#tooLarge());
      return;
    }
    if (!state.limiter.take()) {
      this.#refuse(peer, state, source, now, ErrorCode.RATE_LIMITED, 'You are sending data faster than allowed.');
      return;
    }
    let payload: DataPayload;
    if (ppid === PPID.string || ppid === PPID.emptyString) {
      try {
        payload = ppid === PPID.emptyString ? '' : textDecoder.decode(message);
      } catch {
        this.#refuse(peer, state, source, now, ErrorCode.INVALID_REQUEST, 'A text message must be UTF-8.');
        return;
      }
    } else if (ppid === PPID.binary || ppid === PPID.emptyBinary) {
      payload = ppid === PPID.emptyBinary ? new Uint8Array(0) : new Uint8Array(message);
    } else {
      this.#refuse(peer, state, source, now, ErrorCode.INVALID_REQUEST, 'Unsupported data message type.');
      return;
    }

    let forward: DataPayload | undefined;
    try {
      forward = source.policy.inspect(peer, payload, now).forward;
    } catch (err) {
      if (err instanceof HuizhenError) {
        this.#refuse(peer, state, source, now, err.code, err.message);
      } else {
        this.#logger.error('data topic policy failed', { topic: source.topic, error: err as Error });
        this.#refuse(peer, state, source, now, ErrorCode.INTERNAL, 'The server could not check this message.');
      }
      return;
    }
    if (forward === undefined) {
      this.#settings.count?.('kept');
      return;
    }
    // Text forwarded unchanged goes out as the bytes that came in, not decoded and encoded again.
    this.#forward(peer, source, forward, now, forward === payload && typeof forward === 'string' ? message : undefined);
  }

  #forward(from: DataPeer, source: Source, payload: DataPayload, now: number, utf8?: Uint8Array): void {
    const out = this.#out;
    if (!out) return;
    const subchannels: number[] = [];
    for (const p of this.#participants()) {
      if (p === from || p.closed) continue;
      const receiving = this.#peers.get(p)?.receiving;
      if (receiving && source.policy.mayReceive(p)) subchannels.push(receiving.subchannel);
    }
    // An empty subchannel list would mean "everyone" to mediasoup.
    if (subchannels.length === 0) {
      this.#settings.count?.('no_receivers');
      return;
    }
    const text = typeof payload === 'string';
    try {
      const envelope = encodeDataEnvelope(
        {
          v: DATA_ENVELOPE_VERSION,
          from: { identity: from.identity, name: from.name, role: from.role },
          topic: source.topic,
          at: now,
          kind: text ? 'text' : 'binary',
          reliable: source.reliable,
        },
        text ? (utf8 ?? textEncoder.encode(payload)) : payload,
      );
      (source.reliable ? out.reliable : out.unreliable).send(
        Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength),
        PPID.binary,
        subchannels,
      );
      this.#settings.count?.('forwarded');
    } catch (err) {
      // An envelope that cannot be built or sent is this message's loss, never the relay's.
      this.#logger.warn('data forward failed', { topic: source.topic, error: err as Error });
      this.#settings.count?.(ErrorCode.MEDIA_ERROR);
    }
  }

  #tooLarge(): string {
    return `A data message may carry at most ${this.#settings.maxMessageBytes} bytes.`;
  }

  #refuse(peer: DataPeer, state: PeerData, source: Source, now: number, code: string, reason: string): void {
    this.#settings.count?.(code);
    if (now - state.secondStartedAt >= 1000) {
      state.secondStartedAt = now;
      state.refusalsThisSecond = 0;
    }
    state.refusalsThisSecond += 1;
    if (state.refusalsThisSecond > FLOOD_REFUSALS_PER_SEC && now >= state.pausedUntil)
      this.#pauseFlood(peer, state, now);
    const key = `${source.topic}\u0000${code}`;
    const last = state.lastNotice.get(key);
    if (last !== undefined && now - last < REFUSAL_NOTICE_MS) return;
    state.lastNotice.set(key, now);
    peer.notify('dataRefused', { topic: source.topic, code, reason });
  }

  /** Drops the sender's data in the worker for a while: the flood stops reaching this process. */
  #pauseFlood(peer: DataPeer, state: PeerData, now: number): void {
    state.pausedUntil = now + FLOOD_PAUSE_MS;
    this.#logger.warn('data flood: dropping in the media worker', {
      participant: peer.identity,
      pauseMs: FLOOD_PAUSE_MS,
    });
    const sources = [...state.sources.values()];
    for (const s of sources) void s.tap.pause().catch(() => undefined);
    setTimeout(() => {
      for (const s of sources) if (!s.tap.closed) void this.#resumeAfterFlood(s);
    }, FLOOD_PAUSE_MS).unref();
  }

  /** Counts what the worker dropped meanwhile (it reached the worker but never this process), then resumes. */
  async #resumeAfterFlood(source: Source): Promise<void> {
    try {
      const [stats] = await source.producer.getStats();
      const dropped = (stats?.messagesReceived ?? 0) - source.seen - source.droppedInWorker;
      if (dropped > 0) {
        source.droppedInWorker += dropped;
        this.#settings.count?.(ErrorCode.RATE_LIMITED, dropped);
      }
    } catch {
      // The producer closed meanwhile: nothing left to count.
    }
    if (!source.tap.closed) await source.tap.resume().catch(() => undefined);
  }

  close(): void {
    this.#direct?.close();
  }
}
