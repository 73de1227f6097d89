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

/** Ordered: the first rule whose pattern matches "file:function [object]" names the group. */
const RULES: [Group, RegExp][] = [
  [
    'srtp/crypto',
    /srtp_|libsrtp|libcrypto|libssl|libnss|libsoftokn|libfreebl|libnspr|libnssutil|libplds|libplc|PK11_|NSC_|\baes|gcm_|sha1|SHA1|hmac|EVP_|CRYPTO_|ossl_|DepLibSRTP|SrtpSession/,
  ],
  [
    'allocation + locks',
    /malloc|free|calloc|realloc|operator new|operator delete|_int_|tcache|arena|sbrk|mmap|munmap|brk\b|pthread_mutex|pthread_self|pthread_equal|__lll_lock/,
  ],
  ['libc memset/memcpy', /memset|memcpy|memmove|memcmp/],
  [
    'socket i/o + event loop',
    /libuv|uv_|uv__|sendmsg|recvmsg|sendto|recvfrom|sendmmsg|recvmmsg|epoll|syscall|UdpSocketHandle|SocketHandle|DepLibUV|__libc_send|__libc_recv/,
  ],
  ['rtp/rtcp logic', /RTC::|Channel::|Utils::|absl|flatbuffers|FBS::|webrtc::|Settings::|Logger|mediasoup-worker/],
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
    const totals = /^\s*([\d,]+)\s+(\([\d.]+%\)\s+)?PROGRAM TOTALS/.exec(line);
    if (totals) {
      total = Number(totals[1]!.replace(/,/g, ''));
      continue;
    }
    const m = /^\s*([\d,]+)\s+(?:\([\d.]+%\)\s+)?(\S.*)$/.exec(line);
    if (!m || !m[2]!.includes(':')) continue;
    const ir = Number(m[1]!.replace(/,/g, ''));
    const name = m[2]!.trim();
    const group = groupOf(name);
    byGroup[group] += ir;
    fns.push({ name, ir, group });
  }
  fns.sort((a, b) => b.ir - a.ir);
  return { total, byGroup, top: fns.slice(0, 15) };
}

export interface RunOnce {
  load: FixedLoadResult;
  profile: CallgrindProfile;
  outFile: string;
}

/** One fixed-count run in a child process whose worker runs under callgrind. */
export async function runUnderCallgrind(o: {
  cliPath: string;
  workerBin: string;
  packets: number;
  pps: number;
  subscribers: number;
  suite: SrtpSuite;
  dir: string;
  tag: string;
}): Promise<RunOnce> {
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
  suite: SrtpSuite;
  packets: [number, number];
  /** Egress packets the extra N packets produced (worker's consumer stats). */
  egress: number;
  ingress: number;
  /** Instructions per forwarded (egress) packet, total and per group. */
  perPacket: number;
  perPacketByGroup: Record<Group, number>;
  top: { name: string; ir: number; group: Group }[];
  runs: FixedLoadResult[];
}

/** N and 2N packets through `workerBin`; the difference per forwarded packet. */
export async function measureInstructions(o: {
  cliPath: string;
  workerBin: string;
  label: string;
  packets: number;
  pps: number;
  subscribers: number;
  suite: SrtpSuite;
  dir: string;
  log: (s: string) => void;
}): Promise<InstructionsResult> {
  const runs: RunOnce[] = [];
  for (const n of [o.packets, 2 * o.packets]) {
    o.log(`  ${o.label}: ${n} packets → ${o.subscribers} subscribers under callgrind`);
    runs.push(await runUnderCallgrind({ ...o, packets: n, tag: `${o.label}.${n}` }));
  }
  const [a, b] = runs as [RunOnce, RunOnce];
  for (const r of runs) {
    if (r.load.srtpFailures > 0 || r.load.delivered < r.load.egress * 0.99)
      o.log(
        `  warning: ${o.label} run of ${r.load.sent} packets delivered ${r.load.delivered} of ${r.load.egress} (srtp failures ${r.load.srtpFailures})`,
      );
  }
  const egress = b.load.egress - a.load.egress;
  const ingress = b.load.ingress - a.load.ingress;
  if (egress <= 0) throw new LoadTestError('INTERNAL', `${o.label}: the longer run forwarded no more packets`);
  const perPacketByGroup = Object.fromEntries(
    GROUPS.map((g) => [g, (b.profile.byGroup[g] - a.profile.byGroup[g]) / egress]),
  ) as Record<Group, number>;
  return {
    workerBin: o.workerBin,
    label: o.label,
    suite: o.suite,
    packets: [o.packets, 2 * o.packets],
    egress,
    ingress,
    perPacket: (b.profile.total - a.profile.total) / egress,
    perPacketByGroup,
    top: b.profile.top,
    runs: runs.map((r) => r.load),
  };
}

/** A plain-text table: instructions per forwarded packet per binary and group, and each binary ÷ the first. */
export function instructionsTable(results: InstructionsResult[]): string {
  const f0 = (v: number) => Math.round(v).toLocaleString('en-US');
  const head = ['group', ...results.map((r) => r.label)];
  const rows = [
    ...GROUPS.map((g) => [g, ...results.map((r) => f0(r.perPacketByGroup[g]))]),
    ['total', ...results.map((r) => f0(r.perPacket))],
    ['egress packets counted', ...results.map((r) => String(r.egress))],
  ];
  const base = results[0];
  if (base && results.length > 1)
    rows.push([`${base.label} ÷ this (total)`, ...results.map((r) => (base.perPacket / r.perPacket).toFixed(2))]);
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
