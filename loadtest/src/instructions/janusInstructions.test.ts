import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GROUPS, groupOf, instructionsTable } from './callgrind.js';
import { janusCallgrindUnavailable, measureJanusInstructions } from './janusInstructions.js';

const unavailable = janusCallgrindUnavailable();
if (unavailable)
  console.warn(`janus callgrind test skipped: ${unavailable} (node scripts/setup.mjs --for test installs both)`);

describe('janus names in the callgrind groups', () => {
  it('puts janus, glib and libnice functions where the worker’s counterparts are', () => {
    expect(
      groupOf('???:janus_videoroom_incoming_rtp [/usr/lib/x86_64-linux-gnu/janus/plugins/libjanus_videoroom.so]'),
    ).toBe('rtp/rtcp logic');
    expect(groupOf('???:janus_rtcp_parse [/usr/bin/janus]')).toBe('rtp/rtcp logic');
    expect(groupOf('???:0x0000000000051a20 [/usr/bin/janus]')).toBe('rtp/rtcp logic');
    expect(groupOf('???:nice_agent_send [/usr/lib/x86_64-linux-gnu/libnice.so.10.11.0]')).toBe(
      'socket i/o + event loop',
    );
    expect(groupOf('???:g_main_context_iterate.isra.0 [/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0.7400.6]')).toBe(
      'socket i/o + event loop',
    );
    expect(groupOf('./io/../sysdeps/unix/sysv/linux/poll.c:poll [/usr/lib/x86_64-linux-gnu/libc.so.6]')).toBe(
      'socket i/o + event loop',
    );
    expect(groupOf('???:g_mutex_lock [/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0.7400.6]')).toBe('allocation + locks');
    expect(groupOf('???:srtp_protect [/usr/lib/x86_64-linux-gnu/libsrtp2.so.1]')).toBe('srtp/crypto');
  });
});

describe.skipIf(unavailable !== undefined)(
  'janus instructions per forwarded packet (real janus under callgrind)',
  () => {
    it('counts N and 2N packets through one VideoRoom and splits the difference into the groups', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'huizhen-janus-callgrind-'));
      try {
        const r = await measureJanusInstructions({
          packets: 150,
          pps: 150,
          subscribers: 1,
          suite: 'AEAD_AES_128_GCM',
          dir,
          log: () => undefined,
        });
        expect(r.server).toBe('janus');
        expect(r.negotiatedSuite).toBe('AEAD_AES_128_GCM');
        expect(r.srtpLinkage).toMatch(/libsrtp2/);
        // Each run: (nearly) every packet sent reached janus, janus forwarded all it received to the one subscriber,
        // and janus' own count of what it forwarded is what the subscriber decrypted (janus' count has run one
        // packet per ~1 000 ahead of the receivers', hence the small allowance).
        const close = (a: number, b: number) => Math.abs(a - b) <= Math.ceil(0.002 * Math.max(a, b));
        for (const run of r.runs) {
          expect(run.ingress).toBeGreaterThanOrEqual(0.99 * run.sent);
          expect(run.egress).toBe(run.ingress);
          expect(run.srtpFailures).toBe(0);
          expect(run.errors).toEqual([]);
          expect(close(run.egress, run.delivered), `forwarded ${run.egress}, received ${run.delivered}`).toBe(true);
        }
        expect(r.egress).toBeGreaterThanOrEqual(0.98 * 150);
        expect(close(r.egress, r.delivered), `forwarded ${r.egress}, received ${r.delivered}`).toBe(true);
        expect(r.perPacket).toBeGreaterThan(0);
        const sum = GROUPS.reduce((s, g) => s + r.perPacketByGroup[g], 0);
        expect(Math.abs(sum - r.perPacket)).toBeLessThan(0.001 * r.perPacket);
        // Most of the forwarding cost is SRTP and janus' own packet handling, not the catch-all.
        expect(r.perPacketByGroup['srtp/crypto']).toBeGreaterThan(0);
        expect(r.perPacketByGroup['rtp/rtcp logic']).toBeGreaterThan(0);
        expect(instructionsTable([r])).toMatch(/SRTP suite\s+AEAD_AES_128_GCM/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 300_000);
  },
);
