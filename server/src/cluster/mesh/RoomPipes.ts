/**
 * Pipes a room's producers between this node's router and other nodes'
 * routers over mediasoup PipeTransports (SRTP on, RTX on), set up through
 * node links. A subscriber on node B of a producer on node A then consumes
 * the imported producer (same id) from B's own router like a local one:
 * simulcast layers all cross the pipe and are chosen per subscriber on B, and
 * key-frame requests and NACKs travel back through the pipe to A.
 *
 * Each direction has its own pipe transport pair per room and node pair
 * ("out": this node exports over it, "in": the other node does): two nodes
 * may start exporting to each other at the same moment, and separate pairs
 * make that race harmless, at the cost of one more UDP port per pair.
 * A pipe opens on the first export and closes when its last producer is gone.
 *
 * With data channels on, each pipe also carries an SCTP association: a data
 * stream is sent by a DataConsumer on the sender's pipe and arrives as a
 * DataProducer on the receiver's, keyed by its SCTP stream id (what the data
 * relays of the two nodes make of it is theirs, see cluster/relay).
 */
import { TypedEmitter } from '@huizhen/protocol';
import type { types } from 'mediasoup';
import { invalidState, notFound } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { LinkNoteData, LinkRequestData, LinkRequestResult, PipeEndpoint } from './linkMessages.js';
import type { NodeLink } from './NodeLink.js';

export interface RoomPipesOptions {
  /** Where pipe transports listen (the node's media address, reachable from the other nodes). */
  listenIp: string;
  /** The address other nodes are told, when listenIp is a wildcard or behind NAT. */
  announcedAddress?: string;
  /** The room's router on this node, or null when the room has no media here. */
  routerFor: (room: string) => types.Router | null;
  /** SCTP on every pipe (data channels are on); absent: pipes carry media only. */
  sctp?: { maxMessageSize: number };
  logger: Logger;
}

/**
 * SCTP streams per pipe and direction. A room's pipe carries two streams per
 * relayed receiver and one per topic a relayed publisher opens: 1024 holds a
 * grand round's worth of people on one edge, and costs nothing unused.
 */
const PIPE_SCTP_STREAMS = 1024;

/** The sending half of a pipe's data streams: consume on `transport`, then `track` what was made. */
export interface DataOut {
  transport: types.PipeTransport;
  track(consumer: types.DataConsumer): void;
}

export interface RoomPipesEvents {
  /** A producer of another node now exists on this node's router for the room: subscribe local peers to it. */
  producerImported: (room: string, producer: types.Producer, fromNode: string) => void;
}

/** What an exported producer carries about itself (the room's MediaRoom sets this appData). */
interface ProducerTag {
  identity: string;
  source: 'camera' | 'microphone' | 'screen' | 'screenAudio';
}

interface Pipe {
  transport: types.PipeTransport;
  /** out: producer id → the pipe consumer sending it; in: producer id → the imported producer. */
  media: Map<string, types.Consumer | types.Producer>;
  /** out: SCTP stream id → the pipe DataConsumer sending it; in: stream id → the DataProducer it arrives as. */
  data: Map<number, types.DataConsumer | types.DataProducer>;
}

const pipeKey = (room: string, peer: string): string => `${room}\u0000${peer}`;

export class RoomPipes extends TypedEmitter<RoomPipesEvents> {
  readonly #options: RoomPipesOptions;
  readonly #logger: Logger;
  readonly #out = new Map<string, Promise<Pipe>>();
  readonly #in = new Map<string, Pipe>();
  readonly #links = new Set<NodeLink>();

  constructor(options: RoomPipesOptions) {
    super({
      onListenerError: (error, event) =>
        options.logger.error('room pipes listener failed', { event, error: error as Error }),
    });
    this.#options = options;
    this.#logger = options.logger;
  }

  /** Pipe transports open on this node, both directions (for /metrics). */
  get transportCount(): number {
    return this.#out.size + this.#in.size;
  }

  /** Serves the other node's half of the pipes on this link, and closes them when it goes. */
  attach(link: NodeLink): void {
    this.#links.add(link);
    link.handle('openPipe', (data) => this.#openIn(link.peer, data));
    link.handle('importProducer', (data) => this.#importProducer(link.peer, data));
    link.onNote('producerPaused', (data) => this.#importedPaused(link.peer, data));
    link.onNote('producerClosed', (data) => this.#inMedia(link.peer, data)?.close());
    link.onNote('releaseProducer', (data) => this.#released(link.peer, data));
    link.onNote('pipeDataClosed', ({ room, streamId }) =>
      this.#in.get(pipeKey(room, link.peer))?.data.get(streamId)?.close(),
    );
    link.onNote('closePipe', ({ room }) => this.#closeIn(room, link.peer));
    link.once('closed', () => {
      this.#links.delete(link);
      for (const key of [...this.#in.keys()]) if (key.endsWith(`\u0000${link.peer}`)) this.#closeIn(...splitKey(key));
      for (const key of [...this.#out.keys()])
        if (key.endsWith(`\u0000${link.peer}`)) void this.#closeOut(...splitKey(key));
    });
  }

  /**
   * Sends `producer` (on this node's router for `room`) to the other end of
   * `link`; resolves once the other node has created its copy. Exporting the
   * same producer twice to one node is a no-op.
   */
  async exportProducer(room: string, producer: types.Producer, link: NodeLink): Promise<void> {
    const pipe = await this.#ensureOut(room, link);
    if (pipe.media.has(producer.id)) return;
    const tag = producer.appData as unknown as ProducerTag;
    const consumer = await pipe.transport.consume({ producerId: producer.id });
    pipe.media.set(producer.id, consumer);
    const forget = (): void => {
      if (pipe.media.get(producer.id) !== consumer) return;
      pipe.media.delete(producer.id);
      if (pipe.media.size + pipe.data.size === 0) void this.#closeOut(room, link.peer);
    };
    consumer.on('producerpause', () => link.note('producerPaused', { room, producerId: producer.id, paused: true }));
    consumer.on('producerresume', () => link.note('producerPaused', { room, producerId: producer.id, paused: false }));
    consumer.on('producerclose', () => {
      link.note('producerClosed', { room, producerId: producer.id });
      forget();
    });
    consumer.observer.once('close', forget);
    try {
      await link.request('importProducer', {
        room,
        producerId: producer.id,
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        paused: consumer.producerPaused,
        identity: tag.identity,
        source: tag.source,
      });
    } catch (error) {
      consumer.close();
      throw error;
    }
  }

  /** This node no longer needs a producer it imported: close the copy and stop the other node sending it. */
  releaseImported(room: string, producerId: string, fromNode: string): void {
    const producer = this.#inMedia(fromNode, { room, producerId });
    if (!producer) return;
    producer.close();
    for (const link of this.#links) if (link.peer === fromNode) link.note('releaseProducer', { room, producerId });
  }

  /**
   * The room's pipe to `link`'s node for data streams: what is consumed on it
   * and tracked reaches the other node (which is told the stream id and makes
   * a DataProducer of it with `receiveData`); the other node is told when a
   * tracked stream ends, and the pipe stays open while one is left.
   */
  async dataOut(room: string, link: NodeLink): Promise<DataOut> {
    if (!this.#options.sctp) throw invalidState('Data channels are turned off on this server.');
    const pipe = await this.#ensureOut(room, link);
    return {
      transport: pipe.transport,
      track: (consumer) => {
        const streamId = consumer.sctpStreamParameters?.streamId;
        if (streamId === undefined || consumer.closed) return;
        if (pipe.data.get(streamId) === consumer) return;
        pipe.data.set(streamId, consumer);
        consumer.observer.once('close', () => {
          if (pipe.data.get(streamId) !== consumer) return;
          pipe.data.delete(streamId);
          if (!pipe.transport.closed) link.note('pipeDataClosed', { room, streamId });
          if (pipe.media.size + pipe.data.size === 0) void this.#closeOut(room, link.peer);
        });
      },
    };
  }

  /** Sends `dataProducer` (on this node's router for `room`) down the pipe to `link`'s node. */
  async sendData(
    room: string,
    link: NodeLink,
    dataProducerId: string,
    options: { ordered?: boolean; maxRetransmits?: number; subchannels?: number[] } = {},
  ): Promise<types.DataConsumer> {
    const out = await this.dataOut(room, link);
    const consumer = await out.transport.consumeData({ dataProducerId, ...options });
    out.track(consumer);
    return consumer;
  }

  /**
   * The DataProducer a stream of `fromNode`'s pipe arrives as here. A stream
   * id used again (the other node reopened it) replaces what it was.
   */
  async receiveData(
    room: string,
    fromNode: string,
    stream: { sctpStreamParameters: types.SctpStreamParameters; label: string; protocol: string },
    appData: Record<string, unknown>,
  ): Promise<types.DataProducer> {
    const pipe = this.#in.get(pipeKey(room, fromNode));
    if (!pipe) throw notFound('pipe for room', room);
    const streamId = stream.sctpStreamParameters.streamId;
    pipe.data.get(streamId)?.close();
    const producer = await pipe.transport.produceData({
      sctpStreamParameters: stream.sctpStreamParameters,
      label: stream.label,
      protocol: stream.protocol,
      appData: { ...appData, fromNode },
    });
    pipe.data.set(streamId, producer);
    producer.observer.once('close', () => {
      if (pipe.data.get(streamId) === producer) pipe.data.delete(streamId);
    });
    return producer;
  }

  /** Closes every pipe of the room (the room closed on this node). */
  closeRoom(room: string): void {
    for (const key of [...this.#in.keys()]) if (splitKey(key)[0] === room) this.#closeIn(...splitKey(key));
    for (const key of [...this.#out.keys()]) if (splitKey(key)[0] === room) void this.#closeOut(...splitKey(key));
  }

  // --- the exporting half

  #ensureOut(room: string, link: NodeLink): Promise<Pipe> {
    const key = pipeKey(room, link.peer);
    let pipe = this.#out.get(key);
    if (!pipe) {
      pipe = this.#createOut(room, link);
      this.#out.set(key, pipe);
      pipe.catch(() => {
        if (this.#out.get(key) === pipe) this.#out.delete(key);
      });
    }
    return pipe;
  }

  async #createOut(room: string, link: NodeLink): Promise<Pipe> {
    const transport = await this.#createTransport(room);
    try {
      const { endpoint } = await link.request('openPipe', { room, endpoint: this.#endpoint(transport) });
      await transport.connect(endpoint);
      transport.observer.once('close', () => {
        const key = pipeKey(room, link.peer);
        void this.#out.get(key)?.then((p) => {
          if (p.transport === transport) this.#out.delete(key);
        });
      });
      return { transport, media: new Map(), data: new Map() };
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  async #closeOut(room: string, peer: string): Promise<void> {
    const key = pipeKey(room, peer);
    const pending = this.#out.get(key);
    if (!pending) return;
    this.#out.delete(key);
    const pipe = await pending.catch(() => null);
    if (!pipe) return;
    pipe.transport.close();
    for (const link of this.#links) if (link.peer === peer) link.note('closePipe', { room });
  }

  #released(peer: string, { room, producerId }: LinkNoteData<'releaseProducer'>): void {
    void this.#out.get(pipeKey(room, peer))?.then((pipe) => pipe.media.get(producerId)?.close());
  }

  // --- the importing half

  async #openIn(peer: string, { room, endpoint }: LinkRequestData<'openPipe'>): Promise<LinkRequestResult<'openPipe'>> {
    // A second open for the same room replaces the first: the other node lost its end (it restarted the pipe).
    this.#closeIn(room, peer);
    const transport = await this.#createTransport(room);
    try {
      await transport.connect(endpoint);
    } catch (error) {
      transport.close();
      throw error;
    }
    const key = pipeKey(room, peer);
    this.#in.set(key, { transport, media: new Map(), data: new Map() });
    transport.observer.once('close', () => {
      if (this.#in.get(key)?.transport === transport) this.#in.delete(key);
    });
    return { endpoint: this.#endpoint(transport) };
  }

  async #importProducer(
    peer: string,
    data: LinkRequestData<'importProducer'>,
  ): Promise<LinkRequestResult<'importProducer'>> {
    const pipe = this.#in.get(pipeKey(data.room, peer));
    if (!pipe) throw notFound('pipe for room', data.room);
    const producer = await pipe.transport.produce({
      id: data.producerId,
      kind: data.kind,
      rtpParameters: data.rtpParameters,
      paused: data.paused,
      appData: { identity: data.identity, source: data.source, fromNode: peer },
    });
    pipe.media.set(producer.id, producer);
    producer.observer.once('close', () => {
      if (pipe.media.get(producer.id) === producer) pipe.media.delete(producer.id);
    });
    this.emit('producerImported', data.room, producer, peer);
    return {};
  }

  #importedPaused(peer: string, data: LinkNoteData<'producerPaused'>): void {
    const producer = this.#inMedia(peer, data);
    if (!producer) return;
    void (data.paused ? producer.pause() : producer.resume()).catch((error: Error) =>
      this.#logger.warn('imported producer pause failed', { error }),
    );
  }

  #inMedia(peer: string, { room, producerId }: { room: string; producerId: string }): types.Producer | undefined {
    return this.#in.get(pipeKey(room, peer))?.media.get(producerId) as types.Producer | undefined;
  }

  #closeIn(room: string, peer: string): void {
    const key = pipeKey(room, peer);
    const pipe = this.#in.get(key);
    if (!pipe) return;
    this.#in.delete(key);
    pipe.transport.close(); // closes the imported producers, and with them local consumers of them
  }

  // --- shared

  async #createTransport(room: string): Promise<types.PipeTransport> {
    const router = this.#options.routerFor(room);
    if (!router) throw notFound('room with media on this node', room);
    return router.createPipeTransport({
      listenInfo: {
        protocol: 'udp',
        ip: this.#options.listenIp,
        ...(this.#options.announcedAddress ? { announcedAddress: this.#options.announcedAddress } : {}),
      },
      enableSrtp: true,
      enableRtx: true,
      ...(this.#options.sctp
        ? {
            enableSctp: true,
            numSctpStreams: { OS: PIPE_SCTP_STREAMS, MIS: PIPE_SCTP_STREAMS },
            maxSctpMessageSize: this.#options.sctp.maxMessageSize,
          }
        : {}),
      appData: { room },
    });
  }

  #endpoint(transport: types.PipeTransport): PipeEndpoint {
    const { tuple, srtpParameters } = transport;
    if (!srtpParameters) throw new Error('pipe transport without SRTP parameters');
    return {
      ip: tuple.localAddress,
      port: tuple.localPort,
      srtpParameters: { cryptoSuite: srtpParameters.cryptoSuite, keyBase64: srtpParameters.keyBase64 },
    };
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}
