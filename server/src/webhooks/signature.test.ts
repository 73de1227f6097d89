import { describe, expect, it } from 'vitest';
import { verifyWebhook as exported } from '@huizhen/server/webhooks';
import { signWebhook, verifyWebhook, WebhookVerificationError, type WebhookVerificationCode } from './signature.js';

const secret = 'whsec-0123456789abcdef';
const body = JSON.stringify({ id: 'e1', type: 'room.started', room: 'r1' });
const now = 1_800_000_000;

function codeOf(fn: () => unknown): WebhookVerificationCode | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).code;
  }
  return undefined;
}

describe('webhook signatures', () => {
  it('verifies what it signed and returns the signing time', () => {
    const header = signWebhook(secret, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook({ body, header, secret, now })).toBe(now);
    expect(
      verifyWebhook({ body: Buffer.from(body), header: [header], secret: Buffer.from(secret), now: now + 299 }),
    ).toBe(now);
    expect(exported).toBe(verifyWebhook);
  });

  it('matches an HMAC computed the documented way', async () => {
    const { createHmac } = await import('node:crypto');
    const v1 = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhook(secret, body, now)).toBe(`t=${now},v1=${v1}`);
  });

  it('refuses a missing header', () => {
    expect(codeOf(() => verifyWebhook({ body, header: undefined, secret, now }))).toBe('WEBHOOK_SIGNATURE_MISSING');
    expect(codeOf(() => verifyWebhook({ body, header: '', secret, now }))).toBe('WEBHOOK_SIGNATURE_MISSING');
  });

  it('refuses a header in the wrong format', () => {
    for (const header of ['v1=abc', `t=${now}`, `t=soon,v1=${'a'.repeat(64)}`, `t=${now},v1=${'g'.repeat(64)}`, 'junk'])
      expect(codeOf(() => verifyWebhook({ body, header, secret, now }))).toBe('WEBHOOK_SIGNATURE_MALFORMED');
  });

  it('refuses a timestamp outside the tolerance, either way', () => {
    const header = signWebhook(secret, body, now);
    expect(codeOf(() => verifyWebhook({ body, header, secret, now: now + 301 }))).toBe('WEBHOOK_TIMESTAMP_STALE');
    expect(codeOf(() => verifyWebhook({ body, header, secret, now: now - 301 }))).toBe('WEBHOOK_TIMESTAMP_STALE');
    expect(codeOf(() => verifyWebhook({ body, header, secret, now: now + 61, toleranceSec: 60 }))).toBe(
      'WEBHOOK_TIMESTAMP_STALE',
    );
  });

  it('refuses a changed body, another secret or a moved timestamp', () => {
    const header = signWebhook(secret, body, now);
    expect(codeOf(() => verifyWebhook({ body: body.replace('r1', 'r2'), header, secret, now }))).toBe(
      'WEBHOOK_SIGNATURE_MISMATCH',
    );
    expect(codeOf(() => verifyWebhook({ body, header, secret: 'another-secret-0123', now }))).toBe(
      'WEBHOOK_SIGNATURE_MISMATCH',
    );
    const moved = header.replace(`t=${now}`, `t=${now + 1}`);
    expect(codeOf(() => verifyWebhook({ body, header: moved, secret, now }))).toBe('WEBHOOK_SIGNATURE_MISMATCH');
  });

  it('accepts any one good v1 among several (secret rotation)', () => {
    const good = signWebhook(secret, body, now).split(',')[1]!;
    const header = `t=${now},v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhook({ body, header, secret, now })).toBe(now);
  });
});
