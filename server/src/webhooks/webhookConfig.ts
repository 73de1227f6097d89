/**
 * The `webhooks` section of the server configuration: where events go, the
 * secret each endpoint's signatures use, which types it wants, and how hard
 * delivery tries. Checked by configSchema.ts; rules that span keys (one secret
 * source, https, unique ids) are checked in checkWebhooksConfig below.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { arr, num, oneOf, str } from '@huizhen/protocol';
import * as z from 'zod/mini';
import { WEBHOOK_TYPES, type WebhookType } from './webhookTypes.js';

const ENDPOINT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const webhookEndpointSchema = z.strictObject({
  /** Names the endpoint in logs, metrics and the queue's folder; default: derived from the URL. */
  id: z.optional(str({ min: 1, max: 64, pattern: ENDPOINT_ID })),
  /** https://… (http:// only to a loopback address, or with allowInsecure). */
  url: str({ min: 8, max: 2048, pattern: /^https?:\/\// }),
  /** The HMAC secret (at least 16 bytes), from a file or an environment variable; never inline. */
  secretFile: z.optional(str({ min: 1, max: 1024 })),
  secretEnv: z.optional(str({ min: 1, max: 128, pattern: /^[A-Z_][A-Z0-9_]*$/ })),
  /** Types this endpoint receives; absent: all of them. */
  events: z.optional(arr(oneOf(WEBHOOK_TYPES), { min: 1, max: WEBHOOK_TYPES.length })),
  /** Allows http:// to a non-loopback host (e.g. a hospital LAN behind its own encryption). */
  allowInsecure: z.optional(z.boolean()),
  /** Give an event up (failed) this long after it was queued. */
  retryForSec: z.optional(num({ integer: true, min: 1, max: 30 * 86400 })),
  /** First retry waits up to this long; each next one doubles it (full jitter) ... */
  initialBackoffMs: z.optional(num({ integer: true, min: 10, max: 3_600_000 })),
  /** ... up to this cap. */
  maxBackoffMs: z.optional(num({ integer: true, min: 10, max: 24 * 3_600_000 })),
  /** One request's time limit. */
  timeoutMs: z.optional(num({ integer: true, min: 100, max: 120_000 })),
  /** Rooms delivered to this endpoint at once (each room's events go one at a time, in order). */
  maxConcurrent: z.optional(num({ integer: true, min: 1, max: 64 })),
});

export const webhooksConfigSchema = arr(webhookEndpointSchema, { max: 32 });

export type WebhookEndpointConfig = z.infer<typeof webhookEndpointSchema>;

/** An endpoint with every default filled in and its paths resolved. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  secretFile?: string;
  secretEnv?: string;
  /** null: every type. */
  events: ReadonlySet<WebhookType> | null;
  retryForSec: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  maxConcurrent: number;
}

export const WEBHOOK_DEFAULTS = {
  retryForSec: 86_400,
  initialBackoffMs: 1_000,
  maxBackoffMs: 600_000,
  timeoutMs: 10_000,
  maxConcurrent: 4,
} as const;

/**
 * Checks what the schema cannot and resolves secretFile against baseDir (in
 * place, as config.ts does for other files). Returns a sentence for the first
 * problem (the caller wraps it in its ConfigError), never naming a secret.
 */
export function checkWebhooksConfig(entries: WebhookEndpointConfig[], baseDir: string): string | undefined {
  const ids = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const where = `webhooks[${i}]${e.id ? ` (${e.id})` : ''}`;
    let url: URL;
    try {
      url = new URL(e.url);
    } catch {
      return `${where}.url is not a URL`;
    }
    if (url.username || url.password) return `${where}.url must not carry credentials; the signature authenticates`;
    // Bodies name who saw whom: the signature proves who sent them, only TLS keeps them private.
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !e.allowInsecure)
      return `${where}.url must be https:// (http:// only to a loopback address, or set allowInsecure)`;
    if ((e.secretFile === undefined) === (e.secretEnv === undefined))
      return `${where} needs exactly one of secretFile, secretEnv`;
    if ((e.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs) < (e.initialBackoffMs ?? WEBHOOK_DEFAULTS.initialBackoffMs))
      return `${where}.maxBackoffMs must be >= initialBackoffMs`;
    const id = e.id ?? defaultEndpointId(e.url);
    if (ids.has(id)) return `${where}: two webhooks have the id '${id}'`;
    ids.add(id);
    if (e.secretFile !== undefined && !isAbsolute(e.secretFile)) e.secretFile = resolve(baseDir, e.secretFile);
  }
  return undefined;
}

/** The endpoint with every default filled in. */
export function resolveEndpoint(e: WebhookEndpointConfig): WebhookEndpoint {
  return {
    id: e.id ?? defaultEndpointId(e.url),
    url: e.url,
    ...(e.secretFile !== undefined ? { secretFile: e.secretFile } : {}),
    ...(e.secretEnv !== undefined ? { secretEnv: e.secretEnv } : {}),
    events: e.events ? new Set(e.events) : null,
    retryForSec: e.retryForSec ?? WEBHOOK_DEFAULTS.retryForSec,
    initialBackoffMs: e.initialBackoffMs ?? WEBHOOK_DEFAULTS.initialBackoffMs,
    maxBackoffMs: e.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs,
    timeoutMs: e.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs,
    maxConcurrent: e.maxConcurrent ?? WEBHOOK_DEFAULTS.maxConcurrent,
  };
}

/** Stable across restarts (it names the queue folder) and safe for metric labels (a URL's query may hold a key). */
export function defaultEndpointId(url: string): string {
  return `wh-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
