/**
 * Download URLs bound to one participant, one record and a short lifetime.
 * The signature covers all three; the download must also come with that
 * participant's own access token, so a forwarded URL is useless.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';

export interface UrlClaims {
  room: string;
  recordId: string;
  identity: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export class UrlSigner {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }

  sign(claims: UrlClaims): string {
    const sig = this.#mac(claims);
    const q = new URLSearchParams({ p: claims.identity, exp: String(claims.expiresAt), sig });
    return `/api/rooms/${encodeURIComponent(claims.room)}/records/${encodeURIComponent(claims.recordId)}/content?${q.toString()}`;
  }

  /** Throws URL_INVALID unless the URL is intact, unexpired and for this identity. */
  verify(
    room: string,
    recordId: string,
    query: Record<string, unknown>,
    requester: string,
    nowSec = Math.floor(Date.now() / 1000),
  ): void {
    const invalid = (why: string) =>
      new HuizhenError(ErrorCode.URL_INVALID, `This download link is not valid: ${why}.`);
    const { p, exp, sig } = query;
    if (typeof p !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp))
      throw invalid('it is incomplete');
    const claims = { room, recordId, identity: p, expiresAt: Number(exp) };
    const expected = Buffer.from(this.#mac(claims));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid('it has been altered');
    if (claims.expiresAt < nowSec) throw invalid('it has expired; ask for a new one');
    if (claims.identity !== requester) throw invalid('it was issued to someone else');
  }

  #mac(c: UrlClaims): string {
    return createHmac('sha256', this.#key)
      .update(`${c.room}\n${c.recordId}\n${c.identity}\n${c.expiresAt}`)
      .digest('base64url');
  }
}
