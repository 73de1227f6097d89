/**
 * The Huizhen signaling protocol, version 1: the frames, and the parse
 * functions both sides use. The server parses every inbound request with
 * `parseRequest`; the SDK parses every response and notification with
 * `parseResponse` / `parseNotification` before anything touches its state.
 *
 * Framing (JSON text frames over WebSocket at `/ws`):
 *   client → server  request       { id, method, data }
 *   server → client  response      { id, ok: true, data } | { id, ok: false, error: { code, message } }
 *   server → client  notification  { notification, data }
 */
import type { WireError } from './errors.js';
import { notificationSchemas, type Notification, type NotificationData } from './notifications.js';
import { requestSchemas, type Method, type RequestData } from './requests.js';
import { responseSchemas, type ResponseData } from './responses.js';
import { ProtocolValidationError, json, num, parseWith, str } from './schema.js';
import * as z from 'zod/mini';

export * from './constants.js';
export * from './data.js';
export * from './notifications.js';
export * from './requests.js';
export * from './responses.js';
export * from './shapes.js';
// --- pre-call check
export * from './preflight.js';
export * from './quality.js';
// --- recording
export * from './recording.js';
// The field helpers, so server-side schemas (config, HTTP bodies) give the same error sentences.
// zod itself is not re-exported: a re-exported namespace defeats tree-shaking (+200 KiB in the SDK).
export {
  ProtocolValidationError,
  arr,
  formatPath,
  int,
  json,
  num,
  oneOf,
  parseWith,
  str,
  toValidationError,
  typed,
  type JsonBounds,
  type Schema,
} from './schema.js';

export interface RequestMessage<M extends Method = Method> {
  id: number;
  method: M;
  data: RequestData<M>;
}

/** `id` is null only for errors about a frame that had no readable id (e.g. not JSON). */
export type ResponseMessage<M extends Method = Method> =
  { id: number; ok: true; data: ResponseData[M] } | { id: number | null; ok: false; error: WireError };

export interface NotificationMessage<N extends Notification = Notification> {
  notification: N;
  data: NotificationData[N];
  /**
   * Per-session sequence number; absent on ephemeral notifications (pointer,
   * active speaker, layer changes). A reconnecting client sends the last one
   * it received as `resumeFromSeq`.
   */
  seq?: number;
}

export type ServerMessage = ResponseMessage | NotificationMessage;

/** The frame envelope (not the payload) of a client request. */
export const requestEnvelope = z.strictObject({
  id: num({ integer: true, min: 0, max: Number.MAX_SAFE_INTEGER }),
  method: str({ min: 1, max: 64 }),
  // Loose bounds for the envelope; each method's schema sets the real limits.
  data: z.optional(json({ maxDepth: 12, maxItems: 4096, maxString: 32768 })),
});
export type RequestEnvelope = z.infer<typeof requestEnvelope>;

const hasOwn = (table: object, key: string): boolean => Object.hasOwn(table, key);

export const isMethod = (name: string): name is Method => hasOwn(requestSchemas, name);
export const isNotification = (name: string): name is Notification => hasOwn(notificationSchemas, name);

/** Checks a request frame's envelope; throws ProtocolValidationError (`id: must be >= 0`). */
export function parseEnvelope(frame: unknown): RequestEnvelope {
  return parseWith(requestEnvelope, frame);
}

// The casts below: zod infers a union over all methods; the tables are keyed so `method` picks its own.

/** Checks a request's data against its method; errors read `data.<field>: <problem>`. */
export function parseRequest<M extends Method>(method: M, data: unknown): RequestData<M> {
  return parseWith<unknown>(requestSchemas[method], data, 'data') as RequestData<M>;
}

/** Checks a successful response's data against the method it answers. */
export function parseResponse<M extends Method>(method: M, data: unknown): ResponseData[M] {
  return parseWith<unknown>(responseSchemas[method], data, 'data') as ResponseData[M];
}

/** Checks a notification's data against its name. */
export function parseNotification<N extends Notification>(name: N, data: unknown): NotificationData[N] {
  return parseWith<unknown>(notificationSchemas[name], data, 'data') as NotificationData[N];
}

/** @deprecated Use `parseRequest`; the old validator table, kept for existing importers. */
export const requestValidators = /* @__PURE__ */ (() =>
  Object.fromEntries(
    Object.keys(requestSchemas).map((method) => [
      method,
      { parse: (value: unknown, path = '') => parseWith<unknown>(requestSchemas[method as Method], value, path) },
    ]),
  ))() as { [M in Method]: { parse(value: unknown, path?: string): RequestData<M> } };

/** @deprecated Use `ProtocolValidationError` (same class). */
export const ValidationError = ProtocolValidationError;
/** @deprecated Use `ProtocolValidationError`. */
export type ValidationError = ProtocolValidationError;
