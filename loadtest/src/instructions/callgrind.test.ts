import { describe, expect, it } from 'vitest';
import { groupOf, instructionsTable, parseAnnotate, ratiosToJanus, type InstructionsResult } from './callgrind.js';

// The shape callgrind_annotate 3.19 prints with --inclusive=no (lines trimmed from a real worker profile).
const ANNOTATE = `--------------------------------------------------------------------------------
Ir
--------------------------------------------------------------------------------
1,000,000 (100.0%)  PROGRAM TOTALS

--------------------------------------------------------------------------------
Ir                   file:function
--------------------------------------------------------------------------------
400,000 (40.00%)  ???:OSSL_PARAM_locate [/usr/lib/x86_64-linux-gnu/libcrypto.so.3]
200,000 (20.00%)  ???:srtp_protect_mki [/root/.cache/huizhen/mediasoup-worker/x/mediasoup-worker]
150,000 (15.00%)  ./malloc/./malloc/malloc.c:_int_free [/usr/lib/x86_64-linux-gnu/libc.so.6]
100,000 (10.00%)  ???:RTC::RtpPacket::Parse(unsigned char const*, unsigned long) [/w/mediasoup-worker]
 50,000 ( 5.00%)  ???:uv__io_poll [/usr/lib/x86_64-linux-gnu/libuv.so.1.0.0]
 30,000 ( 3.00%)  ./string/../sysdeps/x86_64/multiarch/memset-vec-unaligned-erms.S:__memset_avx2_unaligned_erms [/usr/lib/x86_64-linux-gnu/libc.so.6]
 20,000 ( 2.00%)  ???:PR_Lock [/usr/lib/x86_64-linux-gnu/libnspr4.so]
 10,000 ( 1.00%)  ./elf/./elf/dl-lookup.c:do_lookup_x [/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2]
`;

describe('callgrind profile grouping', () => {
  it('reads the program total and sums self cost per group', () => {
    const p = parseAnnotate(ANNOTATE);
    expect(p.total).toBe(1_000_000);
    expect(p.byGroup['srtp/crypto']).toBe(620_000);
    expect(p.byGroup['allocation + locks']).toBe(150_000);
    expect(p.byGroup['rtp/rtcp logic']).toBe(100_000);
    expect(p.byGroup['socket i/o + event loop']).toBe(50_000);
    expect(p.byGroup['libc memset/memcpy']).toBe(30_000);
    expect(p.byGroup.other).toBe(10_000);
    expect(p.top[0]!.name).toContain('OSSL_PARAM_locate');
  });

  it('puts NSS, the static libsrtp and mediasoup code where they belong', () => {
    expect(groupOf('???:0x0000000000004a00 [/usr/lib/x86_64-linux-gnu/libfreeblpriv3.so]')).toBe('srtp/crypto');
    expect(groupOf('???:PK11_DestroyContext [/usr/lib/x86_64-linux-gnu/libnss3.so]')).toBe('srtp/crypto');
    expect(groupOf('???:0x25f1e0 [/w/mediasoup-worker]')).toBe('rtp/rtcp logic');
    expect(groupOf('???:bitvector_left_shift [/w/mediasoup-worker]')).toBe('srtp/crypto');
    expect(groupOf('???:TimerHandle::Stop() [/w/mediasoup-worker]')).toBe('socket i/o + event loop');
    expect(groupOf('pthread_mutex_lock.c:pthread_mutex_lock@@GLIBC_2.2.5 [/usr/lib/libc.so.6]')).toBe(
      'allocation + locks',
    );
  });

  it('tabulates each binary against the first', () => {
    const r = (
      label: string,
      perPacket: number,
      server: InstructionsResult['server'] = 'mediasoup-worker',
    ): InstructionsResult => ({
      workerBin: label,
      label,
      server,
      suite: 'AEAD_AES_128_GCM',
      negotiatedSuite: 'AEAD_AES_128_GCM',
      packets: [10, 20],
      egress: 20,
      ingress: 10,
      delivered: 20,
      perPacket,
      perPacketByGroup: {
        'srtp/crypto': perPacket,
        'rtp/rtcp logic': 0,
        'socket i/o + event loop': 0,
        'allocation + locks': 0,
        'libc memset/memcpy': 0,
        other: 0,
      },
      top: [],
      runs: [],
    });
    const table = instructionsTable([r('nss', 30_000), r('openssl', 12_000)]);
    expect(table).toMatch(/total\s+30,000\s+12,000/);
    expect(table).toMatch(/nss ÷ this \(total\)\s+1\.00\s+2\.50/);
    // With Janus: each worker ÷ Janus, Janus left out of the worker ratio, the suites named.
    const results = [r('nss', 30_000), r('openssl', 12_000), r('janus', 40_000, 'janus')];
    const withJanus = instructionsTable(results);
    expect(withJanus).toMatch(/nss ÷ this \(total\)\s+1\.00\s+2\.50\s*$/m);
    expect(withJanus).toMatch(/this ÷ janus \(total\)\s+0\.75\s+0\.30\s*$/m);
    expect(withJanus).toMatch(/SRTP suite(\s+AEAD_AES_128_GCM){3}/);
    expect(ratiosToJanus(results)).toEqual({ nss: 0.75, openssl: 0.3 });
    expect(ratiosToJanus(results.slice(0, 2))).toBeUndefined();
  });
});
