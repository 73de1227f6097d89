/**
 * `room.data`: app data over the room's WebRTC transports (SCTP data
 * channels). `publish(topic, payload, { reliable })` sends on a DataProducer
 * of this client's send transport (one per topic and reliability, opened on
 * first use). The server checks every message (the `data` permission, size,
 * rate, the topic's policy) and re-sends it to the others in an envelope that
 * names the sender; this client receives everything on the server's two
 * channels and checks each envelope before the app sees it (`dataReceived`).
 *
 * After a reconnect that resumes the session nothing changes (the transports
 * stay). After a fresh session (new transports) the channels are set up again
 * and the topics this client had open are reopened on the new send transport.
 *
 * Modules that own a topic (e.g. `room.vitals` on `vitals`) take its messages
 * with `handleTopic`, so they do not also arrive as `dataReceived`.
 */
import type { DataConsumer, DataProducer } from 'mediasoup-client/types';
import {
  DATA_TOPIC_PATTERN,
  decodeDataEnvelope,
  type DataChannelInfo,
  type Method,
  type NotificationData,
  type PersonRef,
  type RequestData,
  type ResponseData,
} from '@huizhen/protocol';
import { ErrorCode, HuizhenError, isErrorCode } from '../errors.js';
import { errorFields, type Logger } from '../logger.js';
import type { MediaSession } from '../MediaSession.js';
import type { RemoteParticipant } from '../RemoteParticipant.js';
import type { SignalClient } from '../SignalClient.js';

/** What `publish` takes: text, bytes, or a JSON-able object or array (sent as JSON text). */
export type DataPayload = string | Uint8Array | Record<string, unknown> | unknown[];

/** Options of `room.data.publish`. */
export interface PublishDataOptions {
  /**
   * true (default): ordered, retransmitted until delivered (chat-like state, commands).
   * false: unordered and never retransmitted (cursors, live readings: late is useless).
   */
  reliable?: boolean;
}

/** One message another participant published, as the server vouches for it. */
export interface DataMessage {
  /** The topic it was published on (see `DATA_TOPIC_PATTERN`). */
  topic: string;
  /** Text (sent as a string or JSON object) or bytes; `json()` parses text. */
  payload: string | Uint8Array;
  /** The sender as the server authenticated them. */
  from: PersonRef;
  /** The sender's participant object, when this client knows them (it normally does). */
  participant: RemoteParticipant | undefined;
  /** Whether it came over the reliable (ordered, retransmitted) channel. */
  reliable: boolean;
  /** When the server received it (ms since the epoch, server clock). */
  receivedAt: number;
  /** The payload parsed as JSON; throws INVALID_REQUEST if it is bytes or not JSON. */
  json<T = unknown>(): T;
}

/** Handles the messages of one topic (see `room.data.handleTopic`). */
export type DataTopicHandler = (message: DataMessage) => void;

export interface RoomDataOptions {
  /** The live session's media; throws the room's typed errors when not connected or not admitted. */
  session(): { media: MediaSession };
  request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData[M]>;
  can(permission: 'data'): boolean;
  localIdentity(): string;
  participant(identity: string): RemoteParticipant | undefined;
  emitReceived(message: DataMessage): void;
  emitRefused(topic: string, error: HuizhenError): void;
  logger(): Logger;
}

/** How long a new data channel may take to open (the send transport may connect first). */
const OPEN_TIMEOUT_MS = 15_000;
/** Above this many bytes waiting in a channel, publishing refuses instead of queueing more. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** When the server has not said its limit yet (it does on the first channel). */
const DEFAULT_MAX_INBOUND_BYTES = 256 * 1024;

const encoder = new TextEncoder();

function channelKey(topic: string, reliable: boolean): string {
  return `${reliable ? 'r' : 'u'}:${topic}`;
}

function waitOpen(producer: DataProducer): Promise<void> {
  if (producer.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: HuizhenError) => {
      clearTimeout(timer);
      producer.off('open', onOpen);
      producer.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onOpen = () => done();
    const onClose = () =>
      done(new HuizhenError(ErrorCode.CONNECTION_FAILED, 'The data channel closed before it opened'));
    const timer = setTimeout(
      () => done(new HuizhenError(ErrorCode.TIMEOUT, 'The data channel did not open in time')),
      OPEN_TIMEOUT_MS,
    );
    producer.on('open', onOpen);
    producer.on('close', onClose);
  });
}

/** App data over the room's data channels (`room.data`): `publish(topic, payload)` and the `dataReceived` event. */
export class RoomData {
  readonly #options: RoomDataOptions;
  /** Open (or opening) DataProducers of the current media session. */
  readonly #producers = new Map<string, Promise<DataProducer>>();
  /** Topics this client published on, reopened after a fresh session. */
  readonly #topics = new Map<string, { topic: string; reliable: boolean }>();
  readonly #handlers = new Map<string, DataTopicHandler>();
  #media: MediaSession | undefined;
  #consumers: DataConsumer[] = [];
  #maxMessageBytes: number | undefined;
  #dropped = 0;

  constructor(options: RoomDataOptions) {
    this.#options = options;
  }

  /** The largest payload the server accepts, in bytes (known once connected with data channels). */
  get maxMessageBytes(): number | undefined {
    return this.#maxMessageBytes;
  }

  /** Whether this session receives data (the server has data channels on and they are set up). */
  get receiving(): boolean {
    return this.#consumers.length > 0;
  }

  /** Inbound messages dropped because they did not match the protocol. */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /**
   * Sends `payload` on `topic` to the others in the room (those the topic's
   * policy lets receive it). Resolves once handed to the data channel; the
   * server may still refuse it (`dataRefused`), e.g. when over the rate limit.
   *
   * @throws HuizhenError INVALID_REQUEST (bad topic name or payload), PERMISSION_DENIED (no
   *   `data` permission, or a topic this role may not publish on), MESSAGE_TOO_LARGE,
   *   RATE_LIMITED (the channel is backed up), NOT_JOINED / NOT_ADMITTED, or ConnectionError
   *   while reconnecting.
   */
  async publish(topic: string, payload: DataPayload, options: PublishDataOptions = {}): Promise<void> {
    if (typeof topic !== 'string' || !DATA_TOPIC_PATTERN.test(topic)) {
      throw new HuizhenError(
        ErrorCode.INVALID_REQUEST,
        `'${String(topic).slice(0, 64)}' is not a topic name (lower case letters, digits, '.', '_', '-'; up to 64)`,
      );
    }
    const wire = this.#encode(payload);
    const size = typeof wire === 'string' ? encoder.encode(wire).length : wire.length;
    if (!this.#options.can('data'))
      throw new HuizhenError(ErrorCode.PERMISSION_DENIED, 'Your role does not allow you to publish data');
    const max = this.#maxMessageBytes;
    if (max !== undefined && size > max)
      throw new HuizhenError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `A data message may carry at most ${max} bytes (${size} given)`,
      );
    const { media } = this.#options.session();
    const reliable = options.reliable ?? true;
    const producer = await this.#producer(media, topic, reliable);
    await waitOpen(producer);
    if (producer.bufferedAmount > MAX_BUFFERED_BYTES)
      throw new HuizhenError(ErrorCode.RATE_LIMITED, 'The data channel is backed up; publish less often');
    producer.send(wire);
  }

  /**
   * Takes every message of `topic` (instead of `dataReceived`); one handler
   * per topic. Returns a function that gives the topic back.
   */
  handleTopic(topic: string, handler: DataTopicHandler): () => void {
    if (this.#handlers.has(topic)) throw new HuizhenError(ErrorCode.INVALID_STATE, `'${topic}' already has a handler`);
    this.#handlers.set(topic, handler);
    return () => {
      if (this.#handlers.get(topic) === handler) this.#handlers.delete(topic);
    };
  }

  /** Closes this client's channel(s) for `topic`; the next publish opens them again. */
  async close(topic: string): Promise<void> {
    for (const reliable of [true, false]) {
      const key = channelKey(topic, reliable);
      const pending = this.#producers.get(key);
      this.#producers.delete(key);
      this.#topics.delete(key);
      const producer = await pending?.catch(() => undefined);
      if (!producer || producer.closed) continue;
      producer.close();
      await this.#options.request('closeDataProducer', { dataProducerId: producer.id }).catch(() => undefined);
    }
  }

  #encode(payload: DataPayload): string | Uint8Array {
    if (typeof payload === 'string' || payload instanceof Uint8Array) return payload;
    if (payload !== null && typeof payload === 'object') {
      try {
        return JSON.stringify(payload);
      } catch (error) {
        throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'The payload cannot be sent as JSON', { cause: error });
      }
    }
    throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'A data payload is a string, a Uint8Array or a JSON object');
  }

  #producer(media: MediaSession, topic: string, reliable: boolean): Promise<DataProducer> {
    const key = channelKey(topic, reliable);
    let pending = this.#producers.get(key);
    if (pending && this.#media === media) return pending;
    pending = media.produceData({ label: topic, reliable }).then((producer) => {
      producer.on('transportclose', () => this.#forget(key, pending));
      producer.on('close', () => this.#forget(key, pending));
      return producer;
    });
    this.#media = media;
    this.#producers.set(key, pending);
    this.#topics.set(key, { topic, reliable });
    // A refused topic (PERMISSION_DENIED) or a failure is not kept: the next publish asks again.
    pending.catch(() => {
      this.#forget(key, pending);
      this.#topics.delete(key);
    });
    return pending;
  }

  #forget(key: string, pending: Promise<DataProducer> | undefined): void {
    if (this.#producers.get(key) === pending) this.#producers.delete(key);
  }

  // --- what the Room tells this part ------------------------------------------------

  /**
   * A media session started (join, admission, fresh rejoin): open the
   * receiving channels, reopen topics. `signal` is the session's connection,
   * usable while the room still says connecting or reconnecting.
   */
  async _attach(media: MediaSession, signal: SignalClient): Promise<void> {
    this.#media = media;
    this.#producers.clear();
    if (!media.receivesData) return;
    const log = this.#options.logger();
    try {
      const { channels, maxMessageBytes } = await signal.request('subscribeData', {});
      this.#maxMessageBytes = maxMessageBytes;
      for (const info of channels) await this.#consume(media, info);
    } catch (error) {
      log.warn('data channels could not be set up; room.data receives nothing', errorFields(error));
    }
    // Topics published before a fresh session: open them again on the new send transport.
    for (const [key, { topic, reliable }] of this.#topics) {
      if (this.#producers.has(key)) continue;
      this.#producer(media, topic, reliable).catch((error: unknown) =>
        log.warn('could not reopen a data topic', { topic, ...errorFields(error) }),
      );
    }
  }

  async #consume(media: MediaSession, info: DataChannelInfo): Promise<void> {
    const consumer = await media.consumeData(info);
    consumer.binaryType = 'arraybuffer';
    consumer.on('message', (data: unknown) => this.#onMessage(data, info.reliable));
    this.#consumers.push(consumer);
  }

  /** The session's transports are gone (before a fresh session). */
  _detach(): void {
    for (const c of this.#consumers) if (!c.closed) c.close();
    this.#consumers = [];
    this.#producers.clear();
    this.#media = undefined;
  }

  /** The room is over: forget everything, topics included. */
  _reset(): void {
    this._detach();
    this.#topics.clear();
  }

  /** @internal */
  _consumerClosed(dataConsumerId: string): void {
    const c = this.#consumers.find((x) => x.id === dataConsumerId);
    if (!c) return;
    c.close();
    this.#consumers = this.#consumers.filter((x) => x !== c);
  }

  /** @internal */
  _refused(data: NotificationData['dataRefused']): void {
    const code = isErrorCode(data.code) ? data.code : ErrorCode.PROTOCOL_ERROR;
    this.#options.emitRefused(data.topic, new HuizhenError(code, data.reason));
  }

  /** One inbound envelope: never trusted until it matches the protocol. */
  #onMessage(data: unknown, reliable: boolean): void {
    let message: DataMessage;
    try {
      message = this.#parse(data, reliable);
    } catch (error) {
      this.#dropped += 1;
      this.#options.logger().warn('dropped a data message that does not match the protocol', {
        code: ErrorCode.PROTOCOL_ERROR,
        ...errorFields(error),
      });
      return;
    }
    const handler = this.#handlers.get(message.topic);
    if (!handler) {
      this.#options.emitReceived(message);
      return;
    }
    try {
      handler(message);
    } catch (error) {
      this.#options.logger().error('data topic handler failed', { topic: message.topic, ...errorFields(error) });
    }
  }

  #parse(data: unknown, reliable: boolean): DataMessage {
    if (!(data instanceof ArrayBuffer)) throw new Error('not a binary envelope');
    const max = this.#maxMessageBytes ?? DEFAULT_MAX_INBOUND_BYTES;
    const { header, payload } = decodeDataEnvelope(new Uint8Array(data), max);
    if (header.reliable !== reliable) throw new Error('arrived on the wrong channel');
    if (header.from.identity === this.#options.localIdentity()) throw new Error('claims to be from this client');
    return {
      topic: header.topic,
      payload,
      from: header.from,
      participant: this.#options.participant(header.from.identity),
      reliable: header.reliable,
      receivedAt: header.at,
      json<T>(): T {
        if (typeof payload !== 'string')
          throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'This data message carries bytes, not JSON');
        try {
          return JSON.parse(payload) as T;
        } catch (error) {
          throw new HuizhenError(ErrorCode.INVALID_REQUEST, 'This data message is not JSON', { cause: error });
        }
      },
    };
  }
}
