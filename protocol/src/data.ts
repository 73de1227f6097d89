/**
 * Data channels: the request/response shapes for publishing on SCTP data
 * channels, and the envelope in which the server re-sends an accepted message
 * to its receivers.
 *
 * A client never talks to another client over SCTP: it publishes on its send
 * transport (one DataProducer per topic and reliability, label = topic), the
 * server consumes that through a DirectTransport, checks it (permission, size,
 * rate, topic policy) and re-sends it in an envelope that names the sender as
 * the server knows them. Receivers get two data channels (reliable and
 * unreliable) from the server only, so a receiver can trust the envelope's
 * `from`; it still checks the envelope's shape, as every inbound message.
 *
 * Envelope bytes (always an SCTP binary message, PPID 53):
 *   [0] 0x48 ('H')   [1] version (1)   [2..3] header length, big-endian
 *   [4 .. 4+len)     header: UTF-8 JSON, see `dataEnvelopeHeader`
 *   [4+len ..)       the payload bytes (UTF-8 text when header.kind is 'text')
 * A binary header avoids base64 for binary payloads and lets a receiver check
 * the small header before touching the payload.
 */
import type { SctpCapabilities, SctpStreamParameters } from 'mediasoup-client/types';
import { ROLES } from './constants.js';
import { ProtocolValidationError, int, json, oneOf, parseWith, str, typed } from './schema.js';
import * as z from 'zod/mini';

/** Topic names: lower case, start with a letter, at most 64 characters. */
export const DATA_TOPIC_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;
export const dataTopic = str({ min: 1, max: 64, pattern: DATA_TOPIC_PATTERN });

/** Labels of the two channels the server opens to every receiver. */
export const DATA_CHANNEL_LABELS = { reliable: 'huizhen.reliable', unreliable: 'huizhen.unreliable' } as const;
/** The sub-protocol name of the server's channels (the envelope format). */
export const DATA_ENVELOPE_PROTOCOL = 'huizhen-envelope-1';
export const DATA_ENVELOPE_VERSION = 1;
const MAGIC = 0x48;
/** Largest envelope header, in bytes (identities, names and topics are bounded). */
export const MAX_DATA_HEADER_BYTES = 2048;

// --- wire schemas (used by requests.ts, responses.ts, notifications.ts)

const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
const streamCount = int(1, 65535);

export const sctpCapabilitiesInput = typed<SctpCapabilities>(
  z.strictObject({ numStreams: z.strictObject({ OS: streamCount, MIS: streamCount }) }),
);

/** How a client's DataProducer sends: mediasoup checks the stream id against the association. */
export const sctpStreamParametersInput = z.strictObject({
  streamId: int(0, 65534),
  ordered: z.optional(z.boolean()),
  maxPacketLifeTime: z.optional(int(0, 65535)),
  maxRetransmits: z.optional(int(0, 65535)),
});

export const dataRequestSchemas = {
  /** Publish on `label` (the topic) over the send transport's SCTP association. */
  produceData: z.strictObject({
    transportId: id,
    sctpStreamParameters: sctpStreamParametersInput,
    label: dataTopic,
    protocol: z.optional(str({ max: 64 })),
  }),
  closeDataProducer: z.strictObject({ dataProducerId: id }),
  /** Open the server's two data channels to this client on its receive transport. */
  subscribeData: z.strictObject({}),
};

const dataChannelInfo = z.object({
  dataConsumerId: z.string(),
  dataProducerId: z.string(),
  sctpStreamParameters: json<SctpStreamParameters>({ maxDepth: 4, maxItems: 16, maxString: 256 }),
  label: z.string(),
  protocol: z.string(),
  reliable: z.boolean(),
});
export type DataChannelInfo = z.infer<typeof dataChannelInfo>;

export const dataResponseSchemas = {
  produceData: z.object({
    dataProducerId: z.string(),
    /** The largest payload the server accepts on this topic, in bytes. */
    maxMessageBytes: z.number(),
  }),
  closeDataProducer: z.object({}),
  subscribeData: z.object({ channels: z.array(dataChannelInfo), maxMessageBytes: z.number() }),
};

export const dataNotificationSchemas = {
  /** The server closed one of this client's receiving data channels. */
  dataConsumerClosed: z.object({ dataConsumerId: z.string() }),
  /**
   * A message this client published was not forwarded (throttled: at most one
   * per topic and code per second). code: PERMISSION_DENIED, MESSAGE_TOO_LARGE,
   * RATE_LIMITED, INVALID_REQUEST, ...
   */
  dataRefused: z.object({ topic: z.string(), code: z.string(), reason: z.string() }),
};

// --- the envelope

export const dataEnvelopeHeader = z.strictObject({
  v: z.literal(DATA_ENVELOPE_VERSION),
  /** The sender, as the server authenticated them. */
  from: z.strictObject({
    identity: str({ min: 1, max: 128 }),
    name: str({ max: 256 }),
    role: oneOf(ROLES),
  }),
  topic: dataTopic,
  /** When the server received the message (ms since the epoch, server clock). */
  at: int(0, Number.MAX_SAFE_INTEGER),
  kind: oneOf(['text', 'binary'] as const),
  reliable: z.boolean(),
});
export type DataEnvelopeHeader = z.infer<typeof dataEnvelopeHeader>;

export interface DataEnvelope {
  header: DataEnvelopeHeader;
  /** The payload: text for kind 'text', bytes for 'binary'. */
  payload: string | Uint8Array;
}

const encoder = new TextEncoder();

/** Builds the bytes the server sends to receivers. `payload` is the sender's bytes as received. */
export function encodeDataEnvelope(header: DataEnvelopeHeader, payload: Uint8Array): Uint8Array {
  const head = encoder.encode(JSON.stringify(header));
  if (head.length > MAX_DATA_HEADER_BYTES) throw new ProtocolValidationError('header', 'is too large');
  const out = new Uint8Array(4 + head.length + payload.length);
  out[0] = MAGIC;
  out[1] = DATA_ENVELOPE_VERSION;
  out[2] = head.length >> 8;
  out[3] = head.length & 0xff;
  out.set(head, 4);
  out.set(payload, 4 + head.length);
  return out;
}

/**
 * Reads an envelope; throws ProtocolValidationError for anything malformed
 * (wrong magic or version, a header that is not the schema, text that is not
 * UTF-8, a payload larger than `maxPayloadBytes`).
 */
export function decodeDataEnvelope(bytes: Uint8Array, maxPayloadBytes = Number.MAX_SAFE_INTEGER): DataEnvelope {
  if (bytes.length < 4 || bytes[0] !== MAGIC) throw new ProtocolValidationError('envelope', 'is not a data envelope');
  if (bytes[1] !== DATA_ENVELOPE_VERSION)
    throw new ProtocolValidationError('envelope', `has unsupported version ${bytes[1]}`);
  const headLength = (bytes[2]! << 8) | bytes[3]!;
  if (headLength > MAX_DATA_HEADER_BYTES || 4 + headLength > bytes.length)
    throw new ProtocolValidationError('header', 'has a bad length');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(4, 4 + headLength)));
  } catch {
    throw new ProtocolValidationError('header', 'is not JSON');
  }
  const header = parseWith(dataEnvelopeHeader, raw, 'header');
  const body = bytes.subarray(4 + headLength);
  if (body.length > maxPayloadBytes)
    throw new ProtocolValidationError('payload', `is larger than ${maxPayloadBytes} bytes`);
  if (header.kind === 'binary') return { header, payload: body.slice() };
  try {
    return { header, payload: new TextDecoder('utf-8', { fatal: true }).decode(body) };
  } catch {
    throw new ProtocolValidationError('payload', 'is not UTF-8 text');
  }
}
