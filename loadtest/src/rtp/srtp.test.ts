import { createCipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpContext, derive, randomSrtpParameters } from './srtp.js';
import { writeRtpHeader } from './rtp.js';

describe('SRTP (AES_CM_128_HMAC_SHA1_80)', () => {
  it('derives session keys as in RFC 3711 appendix B.3', () => {
    const key = Buffer.from('E1F97A0D3E018BE0D64FA32C06DE4139', 'hex');
    const salt = Buffer.from('0EC675AD498AFEEBB6960B3AABE6', 'hex');
    expect(derive(key, salt, 0, 16).toString('hex')).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(derive(key, salt, 2, 14).toString('hex')).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(derive(key, salt, 1, 20).toString('hex')).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });

  it('matches a straightforward AES-CTR + HMAC-SHA1 construction and round-trips', () => {
    const params = randomSrtpParameters('AES_CM_128_HMAC_SHA1_80');
    const master = Buffer.from(params.keyBase64, 'base64');
    const mk = master.subarray(0, 16);
    const ms = master.subarray(16);
    const ke = derive(mk, ms, 0, 16);
    const ka = derive(mk, ms, 1, 20);
    const ks = derive(mk, ms, 2, 14);
    const packet = Buffer.alloc(12 + 1000);
    writeRtpHeader(packet, 96, true, 65535, 1234, 0xdeadbeef);
    for (let i = 12; i < packet.length; i++) packet[i] = i & 0xff;
    const ctx = new SrtpContext(params);
    const out = ctx.protectRtp(packet);
    // Reference: IV = salt·2^16 ⊕ SSRC·2^64 ⊕ index·2^16 with index = 65535, ROC 0.
    const iv = Buffer.alloc(16);
    ks.copy(iv);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ 0xdeadbeef) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(10) ^ 65535) >>> 0, 10);
    const body = createCipheriv('aes-128-ctr', ke, iv).update(packet.subarray(12));
    expect(out.subarray(12, 12 + body.length).equals(body)).toBe(true);
    const tag = createHmac('sha1', ka)
      .update(out.subarray(0, packet.length))
      .update(Buffer.alloc(4))
      .digest()
      .subarray(0, 10);
    expect(out.subarray(packet.length).equals(tag)).toBe(true);
    expect(new SrtpContext(params).unprotectRtp(out).equals(packet)).toBe(true);
  });

  it('rejects a tampered packet and round-trips SRTCP', () => {
    const params = randomSrtpParameters('AES_CM_128_HMAC_SHA1_80');
    const packet = Buffer.alloc(100, 7);
    writeRtpHeader(packet, 96, false, 1, 1, 42);
    const out = new SrtpContext(params).protectRtp(packet);
    out[50]! ^= 1;
    expect(() => new SrtpContext(params).unprotectRtp(out)).toThrow(/authentication/);
    const rtcp = Buffer.alloc(28, 3);
    rtcp[0] = 0x80;
    rtcp[1] = 200;
    const sent = new SrtpContext(params).protectRtcp(rtcp);
    expect(new SrtpContext(params).unprotectRtcp(sent).equals(rtcp)).toBe(true);
  });
});
