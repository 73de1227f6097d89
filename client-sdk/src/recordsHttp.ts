/**
 * Record upload and download over HTTP (records are too large for the
 * signaling socket). Every call carries the participant's current room token;
 * server errors come back as `{ error: { code, message } }` and become
 * HuizhenErrors with the same code.
 */
import { ConnectionError, ConnectionErrorReason, ErrorCode, HuizhenError, fromWireError } from './errors.js';
import type { RecordInfo, RecordVisibility } from '@huizhen/protocol';

/** What a record upload may be: a `File` from an `<input type=file>`, a `Blob`, or raw bytes. */
export type RecordBody = Blob | ArrayBuffer | ArrayBufferView;

/** Where and as whom to talk HTTP to the server. */
export interface HttpTarget {
  /** The server's http(s) base URL, without a trailing slash (may carry a path prefix). */
  baseUrl: string;
  room: string;
  token: string;
  fetch: typeof fetch;
}

/** Options of `room.records.upload`. */
export interface UploadRecordOptions {
  /** 'clinicians' hides the record from patients, family and interpreters. */
  visibility: RecordVisibility;
  /** File name shown to others; a `File`'s own name by default. The server sanitizes it. */
  name?: string;
  /** Cancels the upload. */
  signal?: AbortSignal;
}

/** The global `fetch`, or a clear error where there is none. */
export function defaultFetch(): typeof fetch {
  const f = (globalThis as { fetch?: typeof fetch }).fetch;
  if (typeof f !== 'function')
    throw new HuizhenError(ErrorCode.INVALID_STATE, 'No global fetch in this environment; pass the fetch option');
  return f.bind(globalThis);
}

/**
 * A server URL from the API (e.g. a signed download path `/api/...`) as an
 * absolute URL: paths are taken relative to the server's base URL.
 */
export function resolveServerUrl(baseUrl: string, url: string): string {
  const resolved = /^https?:\/\//i.test(url) ? url : `${baseUrl}${url.startsWith('/') ? '' : '/'}${url}`;
  // The participant's token goes with downloads: never to any origin but the server's.
  if (new URL(resolved).origin !== new URL(baseUrl).origin) {
    throw new HuizhenError(
      ErrorCode.URL_INVALID,
      'The server gave a download link to another site; it was not followed.',
    );
  }
  return resolved;
}

function fileName(body: RecordBody): string | undefined {
  const name = (body as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : undefined;
}

export async function uploadRecord(
  target: HttpTarget,
  body: RecordBody,
  options: UploadRecordOptions,
): Promise<RecordInfo> {
  const query = new URLSearchParams({ visibility: options.visibility });
  const name = options.name ?? fileName(body);
  if (name) query.set('name', name);
  const url = `${target.baseUrl}/api/rooms/${encodeURIComponent(target.room)}/records?${query.toString()}`;
  const response = await send(target, url, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/octet-stream' },
    body: body as BodyInit,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const payload = (await response.json().catch(() => undefined)) as { record?: RecordInfo } | undefined;
  if (!payload?.record) throw new HuizhenError(ErrorCode.INTERNAL, 'The server answered the upload without a record');
  return payload.record;
}

/** Downloads from a signed URL; the server also wants the same participant's token. */
export async function downloadRecord(target: HttpTarget, signedUrl: string, signal?: AbortSignal): Promise<Blob> {
  const response = await send(target, resolveServerUrl(target.baseUrl, signedUrl), {
    headers: { authorization: `Bearer ${target.token}` },
    ...(signal ? { signal } : {}),
  });
  return response.blob();
}

async function send(target: HttpTarget, url: string, init: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await target.fetch(url, { ...init, credentials: 'omit', cache: 'no-store' });
  } catch (cause) {
    // An abort is the caller's own doing: let it through as the standard AbortError.
    if ((cause as { name?: unknown })?.name === 'AbortError') throw cause;
    throw new ConnectionError(
      ConnectionErrorReason.ServerUnreachable,
      `Could not reach the server for records (${errorText(cause)})`,
      undefined,
      { cause },
    );
  }
  if (!response.ok) throw await httpError(response);
  return response;
}

export async function httpError(response: Response): Promise<HuizhenError> {
  const payload = (await response.json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (payload && typeof payload.error === 'object' && payload.error !== null) return fromWireError(payload.error);
  // Not the server's JSON (a proxy in between, say): judge by the status.
  const code =
    response.status === 413
      ? ErrorCode.MESSAGE_TOO_LARGE
      : response.status === 401
        ? ErrorCode.TOKEN_INVALID
        : response.status === 403
          ? ErrorCode.PERMISSION_DENIED
          : response.status === 404
            ? ErrorCode.NOT_FOUND
            : ErrorCode.INTERNAL;
  return new HuizhenError(
    code,
    `The server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
