import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpContext, derive, randomSrtpParameters } from './srtp.js';
import { GcmTransform, gcmRtcpIv, gcmRtpIv, gcmSessionKeys } from './srtpGcm.js';
import { writeRtpHeader } from './rtp.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7714 §16 (and §17): the vectors give the session key and salt directly.
const KEY = hex('000102030405060708090a0b0c0d0e0f');
const SALT = hex('517569642070726f2071756f'); // "Quid pro quo"
// SSRC 0x5501a0b2, sequence 0xf17b, ROC 0; payload "Gallia est omnis divisa in partes tres".
const RTP = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
                 20646976 69736120 696e2070 61727465 73207472 6573`);
const SRTP = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca
                  be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1
                  6a9152cf 765ee439 0cce`);
// Sender report from SSRC "Mars", SRTCP index 0x5d4, E = 1.
const RTCP = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
                  4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef`);
const SRTCP = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7
                   6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458
                   96cf4d2f c5abf872 45d9eade 800005d4`);

const vectorTransform = () => new GcmTransform({ rtp: { key: KEY, salt: SALT }, rtcp: { key: KEY, salt: SALT } });

describe('SRTP (AEAD_AES_128_GCM, RFC 7714)', () => {
  it('forms the RFC 7714 §16 and §17 IVs', () => {
    expect(gcmRtpIv(SALT, 0x5501a0b2, 0, 0xf17b).toString('hex')).toBe('51753c6580c2726f20718414');
    expect(gcmRtcpIv(SALT, 0x4d617273, 0x5d4).toString('hex')).toBe('517524055203726f207170bb');
  });

  it('encrypts and decrypts the RFC 7714 §16 RTP vector', () => {
    const t = vectorTransform();
    expect(t.protectRtp(RTP, 0).toString('hex')).toBe(SRTP.toString('hex'));
    expect(t.unprotectRtp(SRTP, 0).toString('hex')).toBe(RTP.toString('hex'));
  });

  it('encrypts and decrypts the RFC 7714 §17 SRTCP vector', () => {
    const t = vectorTransform();
    expect(t.protectRtcp(RTCP, 0x5d4).toString('hex')).toBe(SRTCP.toString('hex'));
    expect(t.unprotectRtcp(SRTCP).toString('hex')).toBe(RTCP.toString('hex'));
  });

  it('refuses a flipped bit in the payload, the header (associated data) or the tag', () => {
    const t = vectorTransform();
    for (const at of [20, 3, SRTP.length - 1]) {
      const bad = Buffer.from(SRTP);
      bad[at]! ^= 1;
      expect(() => t.unprotectRtp(bad, 0)).toThrow(/authentication/);
    }
    // The wrong ROC gives the wrong IV.
    expect(() => t.unprotectRtp(SRTP, 1)).toThrow(/authentication/);
    const badIndex = Buffer.from(SRTCP);
    badIndex[badIndex.length - 1]! ^= 1;
    expect(() => t.unprotectRtcp(badIndex)).toThrow(/authentication/);
  });

  it('keys a context from a 28-byte master key through the RFC 3711 KDF, and round-trips', () => {
    const params = randomSrtpParameters('AEAD_AES_128_GCM');
    const master = Buffer.from(params.keyBase64, 'base64');
    expect(master).toHaveLength(28);
    const packet = Buffer.alloc(12 + 900);
    writeRtpHeader(packet, 96, true, 65535, 1234, 0xdeadbeef);
    for (let i = 12; i < packet.length; i++) packet[i] = i & 0xff;
    const out = new SrtpContext(params).protectRtp(packet);
    expect(out).toHaveLength(packet.length + 16);
    // Reference: plain aes-128-gcm with the derived session key and salt, header as AAD.
    const keys = gcmSessionKeys(master.subarray(0, 16), master.subarray(16), false);
    const d = createDecipheriv('aes-128-gcm', keys.key, gcmRtpIv(keys.salt, 0xdeadbeef, 0, 65535));
    d.setAAD(out.subarray(0, 12));
    d.setAuthTag(out.subarray(out.length - 16));
    const clear = Buffer.concat([d.update(out.subarray(12, out.length - 16)), d.final()]);
    expect(clear.equals(packet.subarray(12))).toBe(true);
    expect(new SrtpContext(params).unprotectRtp(out).equals(packet)).toBe(true);
    const rtcp = Buffer.alloc(28, 3);
    rtcp[0] = 0x80;
    rtcp[1] = 200;
    expect(new SrtpContext(params).unprotectRtcp(new SrtpContext(params).protectRtcp(rtcp)).equals(rtcp)).toBe(true);
  });

  it('refuses a master key of the wrong length for the suite', () => {
    const cm = randomSrtpParameters('AES_CM_128_HMAC_SHA1_80');
    expect(() => new SrtpContext({ cryptoSuite: 'AEAD_AES_128_GCM', keyBase64: cm.keyBase64 })).toThrow(/28 bytes/);
    expect(() => new SrtpContext({ cryptoSuite: 'NULL_CIPHER', keyBase64: cm.keyBase64 })).toThrow(/unsupported/);
  });
});

describe('SRTP (AEAD_AES_256_GCM, RFC 7714)', () => {
  const KEY_256 = hex('000102030405060708090a0b0c0d0e0f 101112131415161718191a1b1c1d1e1f');
  const t = new GcmTransform({ rtp: { key: KEY_256, salt: SALT }, rtcp: { key: KEY_256, salt: SALT } });
  const SRTP_256 = hex(`8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa
                        b1801238 9a58e2f3 b50b2a02 76ffae0f 1ba63799 b87b7aa3 db36dfff
                        d6b0f9bb 7878d7a7 6c13`);
  const SRTCP_256 = hex(`81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d
                         bffe0a50 a2eaa5c1 110555be 8415f658 c61de047 6f1b6fad 1d1eb30c
                         4446839f 57ff6f6c b26ac3be 800005d4`);
  // E = 0: the packet is only authenticated.
  const SRTCP_256_CLEAR = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930
                               4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 91db4afb
                               feee5a97 8fab4393 ed2615fe 000005d4`);

  it('encrypts and decrypts the RFC 7714 AES-256 RTP vector', () => {
    expect(t.protectRtp(RTP, 0).toString('hex')).toBe(SRTP_256.toString('hex'));
    expect(t.unprotectRtp(SRTP_256, 0).toString('hex')).toBe(RTP.toString('hex'));
  });

  it('encrypts and decrypts the AES-256 SRTCP vector, and verifies the unencrypted (E = 0) one', () => {
    expect(t.protectRtcp(RTCP, 0x5d4).toString('hex')).toBe(SRTCP_256.toString('hex'));
    expect(t.unprotectRtcp(SRTCP_256).toString('hex')).toBe(RTCP.toString('hex'));
    expect(t.unprotectRtcp(SRTCP_256_CLEAR).toString('hex')).toBe(RTCP.toString('hex'));
    const bad = Buffer.from(SRTCP_256_CLEAR);
    bad[20]! ^= 1;
    expect(() => t.unprotectRtcp(bad)).toThrow(/authentication/);
  });

  it('derives AES-256 session keys with the AES-256 PRF (RFC 6188 §7.2)', () => {
    const key = hex('F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6');
    const salt = hex('3B04803DE51EE7C96423AB5B78D2');
    expect(derive(key, salt, 0, 32).toString('hex')).toBe(
      '5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4',
    );
    expect(derive(key, salt, 2, 14).toString('hex')).toBe('fa31791685ca444a9e07c6c64e93');
  });

  it('keys a context from a 44-byte master key and round-trips', () => {
    const params = randomSrtpParameters('AEAD_AES_256_GCM');
    expect(Buffer.from(params.keyBase64, 'base64')).toHaveLength(44);
    const packet = Buffer.alloc(12 + 300, 9);
    writeRtpHeader(packet, 96, false, 7, 7, 0x1234);
    const out = new SrtpContext(params).protectRtp(packet);
    expect(new SrtpContext(params).unprotectRtp(out).equals(packet)).toBe(true);
  });
});
