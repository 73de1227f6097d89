/**
 * Janus' instructions per forwarded packet, counted as the worker's are
 * (callgrind.ts): Debian's janus runs under `valgrind --tool=callgrind`
 * (all its threads in one profile), a fresh process for each of the N and 2N
 * packet runs of janusLoad.ts, and the difference of the two profiles is
 * divided by the extra packets Janus says it forwarded. Unlike the worker
 * figure this is the whole janus process: its HTTP transport, ICE (libnice,
 * consent answers) and DTLS run in it too, though only their per-second part
 * (keepalives, long polls, consent checks) survives the difference.
 *
 * Janus links Debian's shared libsrtp2, which does its crypto with NSS — the
 * same library as the "Debian NSS" worker build, not the OpenSSL-backed
 * libsrtp that Huizhen's worker links statically.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadTestError } from '../errors.js';
import { janusSrtpLinkage } from '../janus/bench.js';
import { JANUS_BINARY, janusInstalled, startJanus } from '../janus/process.js';
import type { SrtpSuite } from '../rtp/srtp.js';
import {
  perPacketDifference,
  readProfile,
  type InstructionsLoad,
  type InstructionsResult,
  type RunOnce,
} from './callgrind.js';
import { runJanusLoad, type JanusLoadResult } from './janusLoad.js';

/** ICE and DTLS against a janus under callgrind take seconds, not milliseconds. */
const STEP_TIMEOUT_MS = 120_000;

/** Why the Janus measurement cannot run here, or undefined when it can. */
export function janusCallgrindUnavailable(): string | undefined {
  if (spawnSync('valgrind', ['--version']).status !== 0) return 'valgrind is not installed (apt-get install valgrind)';
  if (!janusInstalled()) return `${JANUS_BINARY} (Debian package janus) is not installed`;
  return undefined;
}

/** werift's DTLS offers no AES-256-GCM profile, so Janus runs that request with AES-128-GCM. */
export function janusSuite(asked: SrtpSuite): SrtpSuite {
  return asked === 'AEAD_AES_256_GCM' ? 'AEAD_AES_128_GCM' : asked;
}

export interface JanusInstructionsResult extends InstructionsResult {
  /** Which libsrtp janus links and what it does its crypto with (ldd). */
  srtpLinkage: string;
  runs: JanusLoadResult[];
}

async function oneRun(o: InstructionsLoad & { tag: string }): Promise<RunOnce & { load: JanusLoadResult }> {
  mkdirSync(o.dir, { recursive: true });
  const outFile = join(o.dir, `callgrind.${o.tag}.out`);
  const adminSecret = randomBytes(12).toString('hex');
  const janus = await startJanus({
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      `--callgrind-out-file=${outFile}`,
      `--log-file=${join(o.dir, `valgrind.${o.tag}.log`)}`,
    ],
    slow: true,
    adminSecret,
  });
  let load: JanusLoadResult;
  try {
    load = await runJanusLoad({ ...o, janus, adminSecret, stepTimeoutMs: STEP_TIMEOUT_MS });
  } finally {
    // SIGTERM: janus shuts down and valgrind writes the profile (stop waits up to a minute for it).
    await janus.stop();
  }
  if (!(existsSync(outFile) && /^totals:/m.test(readFileSync(outFile, 'utf8'))))
    throw new LoadTestError('INTERNAL', `callgrind wrote no totals to ${outFile} (did janus exit cleanly?)`);
  return { load, profile: readProfile(outFile), outFile };
}

/** N and 2N packets through one VideoRoom of a janus under callgrind; the difference per forwarded packet. */
export async function measureJanusInstructions(
  o: InstructionsLoad & { label?: string; log: (s: string) => void },
): Promise<JanusInstructionsResult> {
  const why = janusCallgrindUnavailable();
  if (why) throw new LoadTestError('SETUP_FAILED', `the Janus instruction count cannot run: ${why}`);
  const label = o.label ?? 'janus';
  const suite = janusSuite(o.suite);
  const runs: (RunOnce & { load: JanusLoadResult })[] = [];
  for (const n of [o.packets, 2 * o.packets]) {
    o.log(`  ${label}: ${n} packets → ${o.subscribers} subscribers (VideoRoom, WebRTC, ${suite}) under callgrind`);
    runs.push(await oneRun({ ...o, suite, packets: n, tag: `${label}.${n}` }));
  }
  for (const r of runs) {
    if (r.load.srtpFailures > 0 || r.load.delivered !== r.load.egress || r.load.errors.length > 0)
      o.log(
        `  warning: ${label} run of ${r.load.sent} packets: janus forwarded ${r.load.egress}, the subscribers decrypted ${r.load.delivered} (srtp failures ${r.load.srtpFailures}${r.load.errors.length ? `; ${r.load.errors.join('; ')}` : ''})`,
      );
  }
  const result = perPacketDifference(
    { label, workerBin: JANUS_BINARY, suite: o.suite, packets: o.packets, server: 'janus', negotiatedSuite: suite },
    runs,
  );
  return { ...result, srtpLinkage: janusSrtpLinkage(), runs: runs.map((r) => r.load) };
}
