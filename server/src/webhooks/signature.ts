/**
 * Webhook signatures: `Huizhen-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`.
 * The server signs each attempt afresh (so a retry a day later is still inside
 * the receiver's tolerance window); receivers call verifyWebhook(). Exported
 * as `@huizhen/server/webhooks`, so this module imports nothing else of the server.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Huizhen-Signature';
export const EVENT_ID_HEADER = 'Huizhen-Event-Id';

export type WebhookVerificationCode =
  | 'WEBHOOK_SIGNATURE_MISSING'
  | 'WEBHOOK_SIGNATURE_MALFORMED'
  | 'WEBHOOK_TIMESTAMP_STALE'
  | 'WEBHOOK_SIGNATURE_MISMATCH';

/** Why a webhook request was not accepted; `code` is stable, the message is for people. */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationCode;
  constructor(code: WebhookVerificationCode, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.code = code;
  }
}

/** The header value for `body` signed at `t` (unix seconds). */
export function signWebhook(secret: string | Buffer, body: string | Buffer, t: number): string {
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Buffer;
  /** The Huizhen-Signature header (undefined or an array when a framework hands it over that way). */
  header: string | string[] | undefined | null;
  secret: string | Buffer;
  /** How far the signing time may be from now, either way. */
  toleranceSec?: number;
  /** Unix seconds (tests). */
  now?: number;
}

/** Returns the signing time when the signature is good; throws WebhookVerificationError otherwise. */
export function verifyWebhook(options: VerifyWebhookOptions): number {
  const { body, secret, toleranceSec = 300 } = options;
  const header = Array.isArray(options.header) ? options.header[0] : options.header;
  if (!header) throw new WebhookVerificationError('WEBHOOK_SIGNATURE_MISSING', `No ${SIGNATURE_HEADER} header.`);
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    // Several v1 values are allowed, for a receiver's view while a secret is being rotated.
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (t === undefined || signatures.length === 0)
    throw new WebhookVerificationError(
      'WEBHOOK_SIGNATURE_MALFORMED',
      `${SIGNATURE_HEADER} must be "t=<unix seconds>,v1=<64 hex digits>".`,
    );
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > toleranceSec)
    throw new WebhookVerificationError(
      'WEBHOOK_TIMESTAMP_STALE',
      `The signature was made ${now - t} s from now, outside the ${toleranceSec} s tolerance.`,
    );
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  if (!signatures.some((s) => timingSafeEqual(Buffer.from(s, 'hex'), expected)))
    throw new WebhookVerificationError('WEBHOOK_SIGNATURE_MISMATCH', 'The signature does not match the body.');
  return t;
}

function hmac(secret: string | Buffer, t: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
}
