/**
 * The bench's Janus part: Debian's janus started from a generated config,
 * pinned where the server under test runs, loaded with the same synthetic
 * participants over WebRTC (consults, then clinic) and compared with Huizhen
 * on egress packets per second per fully used server core. Janus' CPU is its
 * whole process (signaling and media), from /proc; egress is what the
 * receivers counted.
 */
import { execFileSync } from 'node:child_process';
import { runScenario, type RunResult, type StepResult } from '../engine.js';
import { pinProcess, type Pinning } from '../probes.js';
import type { SrtpSuite } from '../rtp/srtp.js';
import { JanusConnector } from './connector.js';
import { JanusProbe } from './probe.js';
import { JANUS_BINARY, janusInstalled, startJanus } from './process.js';

/** Rooms per step: webrtc participants cost the generator more than rtp ones (werift), so the ramp is short. */
export const JANUS_STEPS = { consults: [2, 4, 6, 8, 10, 12, 16], clinic: [1, 2, 3] } as const;
/** The whole Janus part of the bench stays within this. */
export const JANUS_BUDGET_MS = 90_000;

export interface JanusComparison {
  /** Egress pkt/s per fully used core of the janus process, at its busiest consults step. */
  janusPpsPerCore?: number;
  /** Huizhen's media worker alone, and worker + Node, at Huizhen's busiest consults step (rtp mode). */
  huizhenPpsPerCore?: number;
  huizhenPpsPerServerCore?: number;
  /** The same for Huizhen's webrtc consults step (the same transport as Janus gets). */
  huizhenWebrtcPpsPerCore?: number;
  /** Huizhen ÷ Janus, egress pkt/s per server core (worker only; worker + Node; webrtc step). */
  ratio?: number;
  ratioServer?: number;
  ratioWebrtc?: number;
  janusKneeParticipants?: number;
  huizhenKneeParticipants?: number;
  /** What Debian's janus links for SRTP, from ldd. */
  srtpLinkage: string;
  notes: string[];
}

function busiest(run: RunResult | undefined): StepResult | undefined {
  return run?.steps.reduce<StepResult | undefined>(
    (best, s) => (!best || s.server.workerCpuTotal > best.server.workerCpuTotal ? s : best),
    undefined,
  );
}

function perCore(step: StepResult | undefined, withNode = false): number | undefined {
  const cpu = step ? step.server.workerCpuTotal + (withNode ? (step.server.nodeCpu ?? 0) : 0) : 0;
  if (!step || cpu < 0.02) return undefined;
  return step.receivedPps / cpu;
}

function ldd(path: string): string {
  try {
    return execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Which libsrtp Debian's janus loads and what that library does its crypto with (ldd on both). */
export function janusSrtpLinkage(): string {
  const lib = /libsrtp2?\.so[^\s]*\s+=>\s+(\S+)/.exec(ldd(JANUS_BINARY));
  if (!lib) return `${JANUS_BINARY}: ldd shows no shared libsrtp`;
  const deps = ldd(lib[1]!);
  const crypto = /libnss3/.test(deps)
    ? 'NSS (libnss3)'
    : /libcrypto/.test(deps)
      ? 'OpenSSL (libcrypto)'
      : 'its built-in ciphers';
  return `Debian's janus links Debian's ${lib[1]} (ldd), which does its SRTP crypto with ${crypto}; Huizhen's worker links libsrtp 2.5.0 statically, built against OpenSSL`;
}

export interface JanusBenchOptions {
  pinning: Pinning;
  srtpSuite: SrtpSuite;
  warmupSec: number;
  windowSec: number;
  runId: string;
  /** Wall-clock bound (performance.now() ms); the part also keeps to JANUS_BUDGET_MS. */
  deadlineMs: number;
  onProgress?: Parameters<typeof runScenario>[0]['onProgress'];
  stage?: (name: string) => void;
}

export async function runJanusBench(opts: JanusBenchOptions): Promise<{ runs: RunResult[]; notes: string[] }> {
  const notes: string[] = [];
  if (!janusInstalled()) {
    notes.push(
      `the Janus comparison was skipped: ${JANUS_BINARY} is not installed (node scripts/setup.mjs --for bench)`,
    );
    return { runs: [], notes };
  }
  const deadline = Math.min(opts.deadlineMs, performance.now() + JANUS_BUDGET_MS);
  const janus = await startJanus();
  const runs: RunResult[] = [];
  try {
    if (opts.pinning.enabled && !pinProcess(janus.pid, opts.pinning.serverCpu!))
      notes.push('the janus process could not be pinned');
    const connector = new JanusConnector(janus.url, janus.iceIp);
    const probe = new JanusProbe(janus.pid);
    // werift's DTLS has no AES-256-GCM profile (as in Huizhen's webrtc step).
    const srtpSuite = opts.srtpSuite === 'AEAD_AES_256_GCM' ? 'AEAD_AES_128_GCM' : opts.srtpSuite;
    try {
      const plan: ['consults' | 'clinic', number][] = [
        ['consults', 0.65],
        ['clinic', 1],
      ];
      for (const [scenario, part] of plan) {
        const left = deadline - performance.now();
        if (left < 15_000) {
          notes.push(`janus ${scenario} was skipped: too little of its time budget was left`);
          continue;
        }
        opts.stage?.(`janus ${scenario} (webrtc)`);
        runs.push(
          await runScenario({
            connector,
            probe,
            scenario,
            steps: [...JANUS_STEPS[scenario]],
            mode: 'webrtc',
            srtp: true,
            srtpSuite,
            warmupSec: opts.warmupSec,
            windowSec: opts.windowSec,
            stopAtKnee: true,
            deadlineMs: performance.now() + left * part,
            runId: `${opts.runId}${scenario[0]}`,
            ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
          }),
        );
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await connector.close();
    }
  } finally {
    await janus.stop();
  }
  return { runs, notes };
}

/** Huizhen ÷ Janus on egress pkt/s per server core, and the knees, with notes on what limits each figure. */
export function compareWithJanus(
  huizhen: RunResult | undefined,
  huizhenWebrtc: RunResult | undefined,
  janus: RunResult | undefined,
): JanusComparison {
  const c: JanusComparison = { srtpLinkage: janusSrtpLinkage(), notes: [] };
  const h = busiest(huizhen);
  const hw = busiest(huizhenWebrtc);
  const j = busiest(janus);
  const set = <K extends keyof JanusComparison>(k: K, v: JanusComparison[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('janusPpsPerCore', perCore(j));
  set('huizhenPpsPerCore', perCore(h));
  set('huizhenPpsPerServerCore', perCore(h, true));
  set('huizhenWebrtcPpsPerCore', perCore(hw));
  if (c.huizhenPpsPerCore && c.janusPpsPerCore) c.ratio = c.huizhenPpsPerCore / c.janusPpsPerCore;
  if (c.huizhenPpsPerServerCore && c.janusPpsPerCore) c.ratioServer = c.huizhenPpsPerServerCore / c.janusPpsPerCore;
  if (c.huizhenWebrtcPpsPerCore && c.janusPpsPerCore) c.ratioWebrtc = c.huizhenWebrtcPpsPerCore / c.janusPpsPerCore;
  set('janusKneeParticipants', janus?.knee?.participants);
  set('huizhenKneeParticipants', huizhen?.knee?.participants);
  if (janus) {
    const f = janus.steps.find((s) => !s.pass);
    if (!f)
      c.notes.push(
        `janus: no consults step failed, so its knee is above the largest load tried (${janus.steps.at(-1)?.participants ?? 0} participants).`,
      );
    else if (f.generator.cpu > 0.85)
      c.notes.push(
        `janus: at the first failing step the load generator (webrtc mode, werift) used ${(f.generator.cpu * 100).toFixed(0)} % of its core while janus used ${(f.server.workerCpuTotal * 100).toFixed(0)} %: the generator, not janus, is the limit there, so that knee is a lower bound.`,
      );
    else c.notes.push(`janus: first failing step at ${f.participants} participants: ${f.failures.join('; ')}.`);
  }
  c.notes.push(
    "janus' CPU is its whole process (signaling, ICE, DTLS, SRTP, forwarding); Huizhen's is given for the media worker alone and for worker + Node.",
  );
  return c;
}
