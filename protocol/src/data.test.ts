/** The data envelope: what the server sends round-trips; anything malformed is refused with a path. */
import { describe, expect, it } from 'vitest';
import { decodeDataEnvelope, encodeDataEnvelope, type DataEnvelopeHeader } from './data.js';
import { ProtocolValidationError } from './schema.js';

const header: DataEnvelopeHeader = {
  v: 1,
  from: { identity: 'pt-li', name: 'Li Na', role: 'patient' },
  topic: 'vitals',
  at: 1764626000000,
  kind: 'text',
  reliable: false,
};
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('data envelope', () => {
  it('round-trips text and bytes', () => {
    expect(decodeDataEnvelope(encodeDataEnvelope(header, utf8('心率 72')))).toEqual({ header, payload: '心率 72' });
    const binary = { ...header, kind: 'binary' as const };
    expect(decodeDataEnvelope(encodeDataEnvelope(binary, new Uint8Array([0, 255])))).toEqual({
      header: binary,
      payload: new Uint8Array([0, 255]),
    });
    expect(decodeDataEnvelope(encodeDataEnvelope(header, new Uint8Array(0))).payload).toBe('');
  });

  it('refuses what is not an envelope', () => {
    const good = encodeDataEnvelope(header, utf8('x'));
    const bad = (bytes: Uint8Array, max?: number) => {
      try {
        decodeDataEnvelope(bytes, max);
        return 'accepted';
      } catch (e) {
        return e instanceof ProtocolValidationError ? e.message : `other: ${String(e)}`;
      }
    };
    expect(bad(new Uint8Array([1, 2]))).toBe('envelope: is not a data envelope');
    expect(bad(Uint8Array.from([...good].map((b, i) => (i === 1 ? 2 : b))))).toBe(
      'envelope: has unsupported version 2',
    );
    expect(bad(good.subarray(0, 10))).toBe('header: has a bad length');
    expect(bad(Uint8Array.from([0x48, 1, 0, 3, ...utf8('{x}')]))).toBe('header: is not JSON');
    const withHeader = (h: unknown) => {
      const head = utf8(JSON.stringify(h));
      return Uint8Array.from([0x48, 1, head.length >> 8, head.length & 0xff, ...head]);
    };
    expect(bad(withHeader({ ...header, role: undefined, from: { ...header.from, role: 'admin' } }))).toMatch(
      /^header\.from\.role/,
    );
    expect(bad(withHeader({ ...header, extra: 1 }))).toMatch(/^header/);
    expect(bad(withHeader({ ...header, topic: 'Vitals' }))).toMatch(/^header\.topic/);
    expect(bad(encodeDataEnvelope(header, new Uint8Array([0xff])))).toBe('payload: is not UTF-8 text');
    expect(bad(encodeDataEnvelope(header, utf8('12345')), 4)).toBe('payload: is larger than 4 bytes');
  });
});
