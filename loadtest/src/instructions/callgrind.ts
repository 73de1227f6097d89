/**
 * Instructions per forwarded packet in the mediasoup worker, counted by
 * valgrind's callgrind (the hardware counters perf would use are not
 * available on these VMs, and instruction counts do not move with a
 * neighbour's load the way wall-clock figures do).
 *
 * Each measurement runs the fixed-count load (fixedLoad.ts) twice, with N and
 * 2N packets, each time in a fresh worker under callgrind, and takes the
 * difference: worker start, router and transport setup and shutdown cancel
 * out, and what is left is the cost of N more packets. Self cost per function
 * is split into groups by function and library name.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadTestError } from '../errors.js';
import type { SrtpSuite } from '../rtp/srtp.js';
import type { FixedLoadResult } from './fixedLoad.js';

export const GROUPS = [
  'srtp/crypto',
  'rtp/rtcp logic',
  'socket i/o + event loop',
  'allocation + locks',
  'libc memset/memcpy',
  'other',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * Ordered: the first rule whose pattern matches "file:function [object]" names the group.
 * The worker links libsrtp statically, so its internal helpers (the replay window's bitvector_*,
 * v128_*) are named here, not by object.
 * Janus' names sit beside mediasoup's: its SRTP goes through the same Debian libsrtp2 and NSS
 * (and DTLS through libssl), glib's locks and slices count as allocation + locks as pthread's
 * and malloc's do, libnice, glib's main loop and poll(2) as socket i/o + event loop, and
 * janus' own code (core, VideoRoom plugin) as RTP/RTCP logic.
 */
const RULES: [Group, RegExp][] = [
  [
    'srtp/crypto',
    /srtp_|libsrtp|bitvector_|v128_|octet_string_|libcrypto|libssl|libnss|libsoftokn|libfreebl|libnspr|libnssutil|libplds|libplc|PK11_|NSC_|\baes|gcm_|sha1|SHA1|hmac|EVP_|CRYPTO_|ossl_|DepLibSRTP|SrtpSession/,
  ],
  [
    'allocation + locks',
    /malloc|free|calloc|realloc|operator new|operator delete|_int_|tcache|arena|sbrk|mmap|munmap|brk\b|pthread_mutex|pthread_self|pthread_equal|__lll_lock|g_mutex_|g_rec_mutex_|g_rw_lock_|g_cond_|g_slice_|g_malloc|g_free|g_atomic_|futex/,
  ],
  ['libc memset/memcpy', /memset|memcpy|memmove|memcmp/],
  [
    'socket i/o + event loop',
    /libuv|uv_|uv__|sendmsg|recvmsg|sendto|recvfrom|sendmmsg|recvmmsg|epoll|syscall|UdpSocketHandle|SocketHandle|TimerHandle|DepLibUV|__libc_send|__libc_recv|libnice|nice_|stun_|g_main_|g_poll|\bpoll\b|__poll|g_source_|g_wakeup_|g_socket_|libgio|libmicrohttpd|MHD_/,
  ],
  [
    'rtp/rtcp logic',
    /RTC::|Channel::|Utils::|absl|flatbuffers|FBS::|webrtc::|Settings::|Logger|mediasoup-worker|janus_|libjanus_videoroom|\/usr\/bin\/janus\]/,
  ],
];

export function groupOf(name: string): Group {
  for (const [group, re] of RULES) if (re.test(name)) return group;
  return 'other';
}

export interface CallgrindProfile {
  total: number;
  byGroup: Record<Group, number>;
  /** The costliest functions (self cost), for the report. */
  top: { name: string; ir: number; group: Group }[];
  /** Self cost of every function, by name (for the per-packet difference of two runs). */
  functions: Map<string, number>;
}

/** Self cost per function from callgrind_annotate, summed per group. */
export function readProfile(outFile: string): CallgrindProfile {
  const r = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', outFile], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new LoadTestError('SETUP_FAILED', `callgrind_annotate failed: ${r.stderr}`);
  return parseAnnotate(r.stdout);
}

export function parseAnnotate(text: string): CallgrindProfile {
  const byGroup = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<Group, number>;
  let total = 0;
  const fns: { name: string; ir: number; group: Group }[] = [];
  for (const line of text.split('\n')) {
    const totals = /^\s*([\d,]+)\s+(\(\s*[\d.]+%\)\s+)?PROGRAM TOTALS/.exec(line);
    if (totals) {
      total = Number(totals[1]!.replace(/,/g, ''));
      continue;
    }
    // The share may be padded inside its parentheses: "( 8.90%)".
    const m = /^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*)$/.exec(line);
    if (!m || !m[2]!.includes(':')) continue;
    const ir = Number(m[1]!.replace(/,/g, ''));
    const name = m[2]!.trim();
    const group = groupOf(name);
    byGroup[group] += ir;
    fns.push({ name, ir, group });
  }
  const functions = new Map<string, number>();
  for (const f of fns) functions.set(f.name, (functions.get(f.name) ?? 0) + f.ir);
  fns.sort((a, b) => b.ir - a.ir);
  return { total, byGroup, top: fns.slice(0, 15), functions };
}

/** The fixed-count load an instruction count runs (N packets at `pps` to `subscribers`), its files in `dir`. */
export interface InstructionsLoad {
  packets: number;
  pps: number;
  subscribers: number;
  suite: SrtpSuite;
  dir: string;
}

export interface RunOnce {
  load: FixedLoadResult;
  profile: CallgrindProfile;
  outFile: string;
}

/** One fixed-count run in a child process whose worker runs under callgrind. */
export async function runUnderCallgrind(
  o: InstructionsLoad & { cliPath: string; workerBin: string; tag: string },
): Promise<RunOnce> {
  if (!existsSync(o.workerBin)) throw new LoadTestError('SETUP_FAILED', `no worker binary at ${o.workerBin}`);
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new LoadTestError('SETUP_FAILED', 'valgrind is not installed (apt-get install valgrind)');
  mkdirSync(o.dir, { recursive: true });
  const outFile = join(o.dir, `callgrind.${o.tag}.out`);
  const wrapper = join(o.dir, `worker-${o.tag}.sh`);
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `exec valgrind --tool=callgrind --callgrind-out-file=${outFile} --log-file=${join(o.dir, `valgrind.${o.tag}.log`)} ${o.workerBin} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  const args = [
    o.cliPath,
    '__fixed-load',
    '--packets',
    String(o.packets),
    '--pps',
    String(o.pps),
    '--subscribers',
    String(o.subscribers),
    '--srtp-suite',
    o.suite,
  ];
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, MEDIASOUP_WORKER_BIN: wrapper },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new LoadTestError('INTERNAL', `the fixed-count load exited with code ${code}`));
    });
  });
  const load = JSON.parse(text.trim().split('\n').pop()!) as FixedLoadResult;
  // callgrind writes its file when the worker has exited, which can be after the driver has.
  const deadline = Date.now() + 60_000;
  while (!(existsSync(outFile) && /^totals:/m.test(readFileSync(outFile, 'utf8')))) {
    if (Date.now() > deadline) throw new LoadTestError('INTERNAL', `callgrind wrote no totals to ${outFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { load, profile: readProfile(outFile), outFile };
}

export interface InstructionsResult {
  workerBin: string;
  label: string;
  /** What was counted: a mediasoup worker alone, or the whole janus process (signaling, ICE, DTLS, media). */
  server: 'mediasoup-worker' | 'janus';
  /** The suite asked for, and the one the SRTP actually ran with (Janus: what DTLS negotiated). */
  suite: SrtpSuite;
  negotiatedSuite: SrtpSuite;
  packets: [number, number];
  /** Egress packets the extra N packets produced (worker's consumer stats). */
  egress: number;
  ingress: number;
  /** Extra RTP packets the subscribers received and decrypted. */
  delivered: number;
  /** Instructions per forwarded (egress) packet, total and per group; `top`: the costliest functions, per packet. */
  perPacket: number;
  perPacketByGroup: Record<Group, number>;
  top: { name: string; ir: number; group: Group }[];
  runs: FixedLoadResult[];
}

/** N and 2N packets through `workerBin`; the difference per forwarded packet. */
export async function measureInstructions(
  o: InstructionsLoad & { cliPath: string; workerBin: string; label: string; log: (s: string) => void },
): Promise<InstructionsResult> {
  const runs: RunOnce[] = [];
  for (const n of [o.packets, 2 * o.packets]) {
    o.log(`  ${o.label}: ${n} packets → ${o.subscribers} subscribers under callgrind`);
    runs.push(await runUnderCallgrind({ ...o, packets: n, tag: `${o.label}.${n}` }));
  }
  return perPacketDifference({ ...o, server: 'mediasoup-worker', negotiatedSuite: o.suite }, runs);
}

/** The functions whose self cost grew most from run a to run b, per extra forwarded packet. */
function topDifference(
  a: CallgrindProfile,
  b: CallgrindProfile,
  egress: number,
): { name: string; ir: number; group: Group }[] {
  return [...b.functions]
    .map(([name, ir]) => ({ name, ir: (ir - (a.functions.get(name) ?? 0)) / egress, group: groupOf(name) }))
    .sort((x, y) => y.ir - x.ir)
    .slice(0, 15);
}

/** Runs with N and 2N packets → the cost of the extra N, per extra forwarded (egress) packet. */
export function perPacketDifference(
  o: {
    label: string;
    workerBin: string;
    suite: SrtpSuite;
    packets: number;
    server: InstructionsResult['server'];
    negotiatedSuite: SrtpSuite;
  },
  runs: RunOnce[],
): InstructionsResult {
  const [a, b] = runs as [RunOnce, RunOnce];
  const egress = b.load.egress - a.load.egress;
  const ingress = b.load.ingress - a.load.ingress;
  if (egress <= 0) throw new LoadTestError('INTERNAL', `${o.label}: the longer run forwarded no more packets`);
  const perPacketByGroup = Object.fromEntries(
    GROUPS.map((g) => [g, (b.profile.byGroup[g] - a.profile.byGroup[g]) / egress]),
  ) as Record<Group, number>;
  return {
    workerBin: o.workerBin,
    label: o.label,
    server: o.server,
    suite: o.suite,
    negotiatedSuite: o.negotiatedSuite,
    packets: [o.packets, 2 * o.packets],
    egress,
    ingress,
    delivered: b.load.delivered - a.load.delivered,
    perPacket: (b.profile.total - a.profile.total) / egress,
    perPacketByGroup,
    top: topDifference(a.profile, b.profile, egress),
    runs: runs.map((r) => r.load),
  };
}

/**
 * Each worker binary's instructions per forwarded packet ÷ Janus' (Huizhen ÷ Janus: below 1 means the
 * worker needs fewer), by label; undefined when Janus was not measured.
 */
export function ratiosToJanus(results: InstructionsResult[]): Record<string, number> | undefined {
  const janus = results.find((r) => r.server === 'janus');
  if (!janus) return undefined;
  return Object.fromEntries(
    results.filter((r) => r !== janus).map((r) => [r.label, r.perPacket / janus.perPacket] as const),
  );
}

/**
 * A plain-text table: instructions per forwarded packet per binary and group, each worker binary ÷ the
 * first, each binary ÷ Janus when Janus was measured, and the SRTP suite each ran with.
 */
export function instructionsTable(results: InstructionsResult[]): string {
  const f0 = (v: number) => Math.round(v).toLocaleString('en-US');
  const head = ['group', ...results.map((r) => r.label)];
  const rows = [
    ...GROUPS.map((g) => [g, ...results.map((r) => f0(r.perPacketByGroup[g]))]),
    ['total', ...results.map((r) => f0(r.perPacket))],
    ['egress packets counted', ...results.map((r) => String(r.egress))],
  ];
  const base = results.find((r) => r.server === 'mediasoup-worker');
  const workers = results.filter((r) => r.server === 'mediasoup-worker').length;
  if (base && workers > 1)
    rows.push([
      `${base.label} ÷ this (total)`,
      ...results.map((r) => (r.server === 'janus' ? '' : (base.perPacket / r.perPacket).toFixed(2))),
    ]);
  const janus = results.find((r) => r.server === 'janus');
  const toJanus = ratiosToJanus(results);
  if (janus && toJanus && results.length > 1)
    rows.push([
      `this ÷ ${janus.label} (total)`,
      ...results.map((r) => (r === janus ? '' : toJanus[r.label]!.toFixed(2))),
    ]);
  rows.push(['SRTP suite', ...results.map((r) => r.negotiatedSuite)]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
