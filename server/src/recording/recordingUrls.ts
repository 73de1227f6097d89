/**
 * Download URLs for recordings: bound to one caller, one recording and a
 * short lifetime, signed under a key of their own (a records URL can never be
 * turned into a recording URL). The download must also come with the
 * caller's own token, so a forwarded URL is useless.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';

export interface RecordingUrlClaims {
  room: string;
  recordingId: string;
  /** Who may use it: a person's identity, or `service:<issuer>/<service>`. */
  caller: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export class RecordingUrlSigner {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    this.#key = key;
  }

  sign(claims: RecordingUrlClaims): string {
    const q = new URLSearchParams({ p: claims.caller, exp: String(claims.expiresAt), sig: this.#mac(claims) });
    return `/api/rooms/${encodeURIComponent(claims.room)}/recordings/${encodeURIComponent(claims.recordingId)}/content?${q.toString()}`;
  }

  /** Throws URL_INVALID unless the URL is intact, unexpired and for this caller. */
  verify(
    room: string,
    recordingId: string,
    query: Record<string, unknown>,
    caller: string,
    nowSec = Math.floor(Date.now() / 1000),
  ): void {
    const invalid = (why: string) =>
      new HuizhenError(ErrorCode.URL_INVALID, `This recording link is not valid: ${why}.`);
    const { p, exp, sig } = query;
    if (typeof p !== 'string' || typeof exp !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(exp))
      throw invalid('it is incomplete');
    const claims = { room, recordingId, caller: p, expiresAt: Number(exp) };
    const expected = Buffer.from(this.#mac(claims));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid('it has been altered');
    if (claims.expiresAt < nowSec) throw invalid('it has expired; ask for a new one');
    if (claims.caller !== caller) throw invalid('it was issued to someone else');
  }

  #mac(c: RecordingUrlClaims): string {
    return createHmac('sha256', this.#key)
      .update(`recording\n${c.room}\n${c.recordingId}\n${c.caller}\n${c.expiresAt}`)
      .digest('base64url');
  }
}
