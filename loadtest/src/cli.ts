#!/usr/bin/env node
/**
 * huizhen-loadtest: the load tester and benchmark.
 *
 *   huizhen-loadtest bench [--out DIR] [--no-srtp] [--budget SECONDS] [--generator-procs N]
 *   huizhen-loadtest instructions --worker-bin LABEL=PATH [--worker-bin LABEL=PATH ...] [--janus]
        [--packets N] [--pps N] [--subscribers N] [--srtp-suite SUITE] [--out DIR]
      Counts the mediasoup worker's instructions per forwarded packet with valgrind's callgrind:
      N and 2N packets (default 3000) of the consult subscriber mix, SRTP both ways, paced at
      --pps (default 150) to --subscribers (default 2); the difference per egress packet, split
      into SRTP/crypto, RTP/RTCP logic, socket I/O + event loop, allocation + locks, libc memset/memcpy, per binary.
      --janus: the same load through one VideoRoom of Debian's janus (WebRTC, the whole janus
      process counted), with each binary ÷ Janus.

  huizhen-loadtest cluster [--consults N] [--clinics N] [--window S] [--out DIR]
      Cross-node cost on two cluster nodes of its own (see cluster/command.ts).

  huizhen-loadtest run --url URL --scenario consults|clinic|rounds --rooms N [options]
 *
 * Exit codes: 0 ok, 1 failed, 2 bad arguments, 3 server unreachable,
 * 4 credentials refused, 5 criteria not met (run --fail-on-knee).
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BareMediasoupConnector } from './bare.js';
import { CLUSTER_USAGE, clusterCommand } from './cluster/command.js';
import { compareWithJanus, runJanusBench } from './janus/bench.js';
import { SCENARIOS, runScenario, type RunResult, type ScenarioName, type StepResult } from './engine.js';
import { ExitCode, LoadTestError, UnreachableError, UsageError } from './errors.js';
import {
  instructionsTable,
  measureInstructions,
  ratiosToJanus,
  type InstructionsResult,
} from './instructions/callgrind.js';
import { runFixedLoad } from './instructions/fixedLoad.js';
import { measureJanusInstructions } from './instructions/janusInstructions.js';
import { runLimit, type LimitResult } from './limit.js';
import { InspectorClient, freePort } from './inspector.js';
import { measureMemory, memoryTable, type MemoryResult } from './memory.js';
import { MEDIA_MODES, type MediaMode } from './paths.js';
import {
  MetricsProbe,
  WorkerProbe,
  defaultGeneratorProcs,
  generatorCpus,
  parsePrometheus,
  pinProcess,
  planPinning,
  type Pinning,
} from './probes.js';
import { compare, machineInfo, summaryTable, writeReport, type Report } from './report.js';
import { DEFAULT_SRTP_SUITE, SRTP_SUITES, isSrtpSuite, type SrtpSuite } from './rtp/srtp.js';
import { HuizhenConnector, parseTargetUrl, type HuizhenTarget } from './sfu.js';
import { HmacTokenSource } from './tokens.js';
import { connectorFromSpec, tokenSourceFromSpec, type ConnectorSpec, type TokenSpec } from './connectorSpec.js';
import { spawnServer, spawnedServerTokens } from './spawnedServer.js';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const USAGE = `usage:
  huizhen-loadtest bench [--out DIR] [--no-srtp] [--srtp-suite SUITE] [--budget SECONDS] [--generator-procs N]
      Starts its own Huizhen server on loopback (embedded default config), ramps the
      consults, clinic and rounds scenarios (rtp mode), joins 4 consults through real
      ICE + DTLS (webrtc mode) for join times, runs the bare-mediasoup baseline and the
      one-core limit, and writes DIR/<timestamp>/report.json + report.html.
      --generator-procs N: Huizhen's rtp ramps on N generator processes (as for run), pinned to
      CPU 0 and every core but the server's CPU 1; the webrtc step and bare mediasoup use one.

  huizhen-loadtest memory [--idle N] [--publishing N] [--heap-snapshots DIR] [--out DIR]
      Starts its own Huizhen server (inspector on loopback) and measures memory per participant
      after full GCs: Node heap used, Node RSS and worker RSS growth per idle participant
      (joined and admitted, no transports; default 200) and per publishing consult participant
      (SRTP audio + simulcast video, subscribed; default 20); writes DIR/<timestamp>/report.json + .html.

${CLUSTER_USAGE}

  huizhen-loadtest run --url URL --scenario consults|clinic|rounds --rooms N [options]
      Loads a running Huizhen server on this machine (load traffic only goes to loopback).
      --steps A,B,C            ramp through these room counts (default: N only)
      --find-knee              stop at the first step that fails the criteria
      --srtp / --no-srtp       encrypt media (default: on)
      --srtp-suite SUITE       AEAD_AES_128_GCM (default), AEAD_AES_256_GCM (what Chromium negotiates with
                               Huizhen; rtp mode only) or AES_CM_128_HMAC_SHA1_80; webrtc mode offers
                               only this DTLS-SRTP profile
      --warmup S --window S    seconds to settle and to measure per step (default 2, 5)
      --listeners N            listeners per rounds room (default 15)
      --generator-procs N      rtp mode: spread the synthetic participants over N processes, whole rooms
                               each, one per free core (default: cores − 1 for the server, at least 1;
                               1 = all in this process); counts are added and histograms merged per step
      --mode rtp|webrtc        media mode (default rtp): rtp = plain (S)RTP transports offered to
                               load-test tokens, for capacity; webrtc = real ICE + DTLS-SRTP
                               transports as browsers get, for join time at modest scale
      credentials (tokens carry the loadtest claim; the server must have loadTest.enabled):
      --token-secret-file F    HMAC secret of an issuer the server trusts (or env HUIZHEN_LOADTEST_SECRET)
        --issuer ISS --audience AUD   (default huizhen-local / huizhen)
      --token-command CMD      prints a token; {identity} {room} {role} {kind} are substituted
      --dev-token              use the server's POST /api/dev/token (dev setups)
      --out DIR                report directory (default loadtest/reports)
      --fail-on-knee           exit 5 when a step fails the criteria`;

type Flags = Record<string, string | boolean | undefined>;

function parse(argv: string[]): { command: string | undefined; flags: Flags } {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        scenario: { type: 'string' },
        rooms: { type: 'string' },
        steps: { type: 'string' },
        'find-knee': { type: 'boolean' },
        srtp: { type: 'boolean' },
        'no-srtp': { type: 'boolean' },
        'srtp-suite': { type: 'string' },
        'worker-bin': { type: 'string', multiple: true },
        janus: { type: 'boolean' },
        packets: { type: 'string' },
        pps: { type: 'string' },
        subscribers: { type: 'string' },
        warmup: { type: 'string' },
        window: { type: 'string' },
        listeners: { type: 'string' },
        mode: { type: 'string' },
        'token-secret-file': { type: 'string' },
        issuer: { type: 'string' },
        audience: { type: 'string' },
        'token-command': { type: 'string' },
        'dev-token': { type: 'boolean' },
        out: { type: 'string' },
        budget: { type: 'string' },
        'fail-on-knee': { type: 'boolean' },
        port: { type: 'string' },
        seconds: { type: 'string' },
        idle: { type: 'string' },
        publishing: { type: 'string' },
        'heap-snapshots': { type: 'string' },
        'generator-procs': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    return { command, flags: values as Flags };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

function num(flags: Flags, name: string, fallback: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(v) || v < min || v > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got '${String(raw)}')`);
  return v;
}

function int(flags: Flags, name: string, fallback: number, min: number, max: number): number {
  const v = num(flags, name, fallback, min, max);
  if (!Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number (got '${String(flags[name])}')`);
  return v;
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

// --- progress -------------------------------------------------------------------

class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #label = '';

  stage(label: string): void {
    this.#label = label;
    if (!this.#tty) process.stderr.write(`${label}\n`);
  }

  update(p: { phase: string; step: number; steps: number; detail: string; result?: StepResult }): void {
    const width = 24;
    const done =
      p.step + (p.phase === 'done' ? 1 : p.phase === 'measuring' ? 0.6 : p.phase === 'warming up' ? 0.3 : 0.1);
    const filled = Math.round((done / Math.max(1, p.steps)) * width);
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
    const r = p.result;
    const tail = r
      ? ` ${r.participants} ppl, ${r.receivedPps.toFixed(0)} pkt/s, worker ${(r.server.workerCpuTotal * 100).toFixed(0)}%, p95 ${Number.isFinite(r.delayMs.p95) ? r.delayMs.p95.toFixed(1) : '-'} ms ${r.pass ? 'ok' : `FAIL (${r.failures.join('; ')}; ran out: ${r.ranOut ?? '-'}: ${r.ranOutWhy ?? ''})`}${r.generator.queueMs ? `, gen queueing p95 ${r.generator.queueMs.p95.toFixed(1)} ms` : ''}${(r.generator.procs ?? 1) > 1 ? `, ${r.generator.procs} gen procs` : ''}`
      : '';
    const line = `${bar} ${this.#label} step ${p.step + 1}/${p.steps} ${p.phase} ${p.detail}${tail}`;
    if (this.#tty)
      process.stderr.write(
        `\r\x1b[2K${line.slice(0, (process.stderr.columns || 120) - 1)}${p.phase === 'done' ? '\n' : ''}`,
      );
    else if (p.phase === 'done') process.stderr.write(`${line}\n`);
  }
}

// --- targets ----------------------------------------------------------------------

/** Fails fast with a clear message when nothing answers at the URL. */
export async function checkReachable(target: HuizhenTarget): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${target.httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UnreachableError(
      `cannot reach a Huizhen server at ${target.httpUrl} (${cause}); is it running, and is the URL right?`,
    );
  }
  if (res.status === 404)
    throw new UnreachableError(`${target.httpUrl} answers, but it has no /healthz: is this a Huizhen server?`);
}

/** Credentials as plain data, so generator child processes can sign or fetch their own tokens. */
function tokenSpec(flags: Flags, target: HuizhenTarget): TokenSpec {
  const chosen = ['token-secret-file', 'token-command', 'dev-token'].filter((k) => flags[k] !== undefined);
  if (chosen.length > 1) throw new UsageError(`choose one of --${chosen.join(', --')}`);
  const issuer = typeof flags.issuer === 'string' ? flags.issuer : 'huizhen-local';
  const audience = typeof flags.audience === 'string' ? flags.audience : 'huizhen';
  if (typeof flags['token-secret-file'] === 'string') {
    const file = flags['token-secret-file'];
    if (!existsSync(file)) throw new UsageError(`--token-secret-file '${file}' does not exist`);
    return { kind: 'hmac', secret: readFileSync(file, 'utf8').trim(), issuer, audience };
  }
  if (typeof flags['token-command'] === 'string') return { kind: 'command', template: flags['token-command'] };
  if (flags['dev-token']) return { kind: 'dev', httpUrl: target.httpUrl };
  const env = process.env.HUIZHEN_LOADTEST_SECRET;
  if (env) return { kind: 'hmac', secret: env, issuer, audience };
  throw new UsageError(
    'no credentials: pass --token-secret-file, --token-command or --dev-token (or set HUIZHEN_LOADTEST_SECRET)',
  );
}

function parseSteps(flags: Flags): number[] {
  if (typeof flags.steps === 'string') {
    const steps = flags.steps.split(',').map((s) => Number(s.trim()));
    if (!steps.length || steps.some((s) => !Number.isInteger(s) || s < 1 || s > 1000))
      throw new UsageError(`--steps must be whole room counts from 1 to 1000, e.g. 2,4,8 (got '${flags.steps}')`);
    if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!)) throw new UsageError('--steps must increase');
    return steps;
  }
  if (flags.rooms === undefined) throw new UsageError(`--rooms is required (or --steps)\n${USAGE}`);
  return [int(flags, 'rooms', 1, 1, 1000)];
}

function scenarioOf(flags: Flags): ScenarioName {
  const s = flags.scenario;
  if (typeof s !== 'string') throw new UsageError(`--scenario is required: one of ${SCENARIOS.join(', ')}`);
  if (!(SCENARIOS as readonly string[]).includes(s))
    throw new UsageError(`unknown scenario '${s}' (one of ${SCENARIOS.join(', ')})`);
  return s as ScenarioName;
}

function modeOf(flags: Flags): MediaMode {
  const mode = flags.mode ?? 'rtp';
  if (!(MEDIA_MODES as readonly unknown[]).includes(mode))
    throw new UsageError(`unknown --mode '${String(mode)}' (rtp or webrtc)`);
  if (mode === 'webrtc' && flags['no-srtp'])
    throw new UsageError('--no-srtp applies to --mode rtp only: WebRTC media is always SRTP keyed by DTLS');
  return mode as MediaMode;
}

/** --generator-procs: default one per core the server does not get (rtp mode; webrtc runs are one process). */
function generatorProcsOf(flags: Flags, mode: MediaMode): number {
  if (mode === 'webrtc') {
    if (flags['generator-procs'] !== undefined && flags['generator-procs'] !== '1')
      throw new UsageError(
        '--generator-procs applies to --mode rtp only (webrtc runs are for join time, in one process)',
      );
    return 1;
  }
  return int(flags, 'generator-procs', defaultGeneratorProcs(), 1, 64);
}

function srtpSuiteOf(flags: Flags): SrtpSuite {
  const s = flags['srtp-suite'] ?? DEFAULT_SRTP_SUITE;
  if (!isSrtpSuite(s)) throw new UsageError(`unknown --srtp-suite '${String(s)}' (one of ${SRTP_SUITES.join(', ')})`);
  return s;
}

const timestamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');

function baseReport(command: string, pinning: Pinning, mode: MediaMode = 'rtp'): Report {
  return {
    version: 1,
    createdAt: new Date().toISOString(),
    command,
    mode,
    machine: machineInfo(),
    pinning,
    criteria: { maxLoss: 0.01, minReceivedRatio: 0.9, maxStalledTracks: 0, maxDelayP95Ms: 20 },
    runs: [],
    comparison: { notes: [] },
    notes: [],
  };
}

export interface RunCommandResult {
  report: Report;
  files: { json: string; html: string };
}

export async function runCommand(
  argv: string[],
  log: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<RunCommandResult> {
  const { flags } = parse(['run', ...argv]);
  if (typeof flags.url !== 'string') throw new UsageError(`--url is required\n${USAGE}`);
  const mode = modeOf(flags);
  const scenario = scenarioOf(flags);
  const steps = parseSteps(flags);
  const target = parseTargetUrl(flags.url);
  const host = new URL(target.httpUrl).hostname;
  if (!isLoopbackHost(host)) {
    throw new LoadTestError(
      'UNSAFE_TARGET',
      `--url ${flags.url}: this load generator only sends to servers on this machine (loopback); run it on the server's host`,
      ExitCode.USAGE,
    );
  }
  const tokens = tokenSpec(flags, target);
  // Builds the sources here first, so a bad secret or command is a usage error before anything starts.
  tokenSourceFromSpec(tokens);
  const spec: ConnectorSpec = { kind: 'huizhen', target, tokens };
  const generatorProcs = generatorProcsOf(flags, mode);
  const warmupSec = num(flags, 'warmup', 2, 0, 60);
  const windowSec = num(flags, 'window', 5, 1, 600);
  const listeners = int(flags, 'listeners', 15, 1, 999);
  const srtp = !flags['no-srtp'];
  const srtpSuite = srtpSuiteOf(flags);
  if (mode === 'webrtc' && srtpSuite === 'AEAD_AES_256_GCM')
    throw new UsageError(
      "--srtp-suite AEAD_AES_256_GCM applies to --mode rtp only (werift's DTLS does not negotiate it)",
    );
  await checkReachable(target);
  const progress = new Progress();
  progress.stage(`${scenario} (${mode}) → ${target.httpUrl}`);
  const result = await runScenario({
    connector: connectorFromSpec(spec),
    connectorSpec: spec,
    generatorProcs,
    probe: new MetricsProbe(target.httpUrl),
    scenario,
    steps,
    mode,
    srtp,
    srtpSuite,
    warmupSec,
    windowSec,
    stopAtKnee: flags['find-knee'] === true,
    deadlineMs: performance.now() + steps.length * (warmupSec + windowSec + 60) * 1000,
    roundsListeners: listeners,
    runId: `lt${Date.now().toString(36)}`,
    onProgress: (p) => progress.update(p),
  });
  const report = baseReport(
    `huizhen-loadtest run ${argv.join(' ')}`,
    { enabled: false, note: 'not pinned (run against an existing server)' },
    mode,
  );
  report.runs.push(result);
  report.comparison = compare(result, undefined, undefined);
  if (result.joinFailures)
    report.notes.push(`${result.joinFailures} participant(s) failed to join: ${result.errors.slice(0, 3).join(' | ')}`);
  const out = typeof flags.out === 'string' ? flags.out : join(PROJECT_ROOT, 'loadtest/reports');
  const files = writeReport(join(out, timestamp()), report);
  log(summaryTable(report));
  log(`report: ${files.html}`);
  return { report, files };
}

// --- bench -------------------------------------------------------------------------

/**
 * Pins this generator process as planned (the server gets the other core) and starts the report
 * with the command and the load average: other work on the machine skews every figure.
 */
function pinnedReport(command: string, argv: readonly string[]) {
  const pinning = planPinning();
  if (pinning.enabled && !pinProcess(process.pid, pinning.generatorCpu!)) {
    pinning.enabled = false;
    pinning.note = 'not pinned: taskset could not set this process affinity';
  }
  const report = baseReport(`huizhen-loadtest ${command} ${argv.join(' ')}`.trim(), pinning);
  report.notes.push(
    `load average at start: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  return { pinning, report };
}

/** The limit microbenchmark runs in its own process, pinned where the server ran. */
async function limitInChild(pinning: Pinning, srtp: boolean, suite: SrtpSuite, seconds: number): Promise<LimitResult> {
  const sink = createSocket('udp4');
  let received = 0;
  sink.on('message', () => received++);
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const port = sink.address().port;
  const self = fileURLToPath(import.meta.url);
  const args = [
    self,
    '__limit',
    '--port',
    String(port),
    '--seconds',
    String(seconds),
    ...(srtp ? ['--srtp'] : ['--no-srtp']),
    '--srtp-suite',
    suite,
  ];
  const [cmd, argv] = pinning.enabled
    ? ['taskset', ['-c', String(pinning.serverCpu), process.execPath, ...args]]
    : [process.execPath, args];
  try {
    const out = await new Promise<string>((done, reject) => {
      const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) done(text);
        else reject(new LoadTestError('INTERNAL', `the limit benchmark exited with code ${code}`));
      });
    });
    return JSON.parse(out) as LimitResult;
  } finally {
    sink.close();
  }
}

/** Room counts per step for the quick bench on a small machine. */
const BENCH_STEPS: Record<ScenarioName, number[]> = {
  consults: [2, 5, 10, 15, 20, 25, 30, 40, 50, 60, 80],
  clinic: [1, 2, 3, 4, 6, 8],
  rounds: [1, 2, 4, 6, 8, 12],
};

/** Participants of bench's memory step (its own server; ~25 s). */
const BENCH_MEMORY = { idle: 200, publishing: 20 };

/** Consult rooms in bench's webrtc step, and the budget it needs left to run (half for itself, half kept for the bare baseline). */
const BENCH_WEBRTC_ROOMS = 4;
const BENCH_WEBRTC_RESERVE_MS = 50_000;

export async function benchCommand(
  argv: string[],
  log: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<RunCommandResult> {
  const { flags } = parse(['bench', ...argv]);
  const srtp = !flags['no-srtp'];
  const srtpSuite = srtpSuiteOf(flags);
  const budgetSec = num(flags, 'budget', 230, 30, 3600);
  const warmupSec = num(flags, 'warmup', 2, 0, 60);
  const windowSec = num(flags, 'window', 4, 1, 600);
  const t0 = performance.now();
  const deadline = t0 + budgetSec * 1000;
  // Time shares of the budget: Huizhen consults, clinic, rounds, then the bare baseline.
  const share = (f: number) => performance.now() + (deadline - performance.now()) * f;
  const generatorProcs = generatorProcsOf(flags, 'rtp');
  const { pinning, report } = pinnedReport('bench', argv);
  const shardCpus = generatorCpus(pinning);
  const procsNote = `generator: ${generatorProcs} process${generatorProcs > 1 ? 'es' : ''} for Huizhen's rtp ramps${
    generatorProcs > 1 && shardCpus.length
      ? ` on CPU ${Array.from({ length: generatorProcs }, (_, i) => shardCpus[i % shardCpus.length]).join(', ')}`
      : ''
  } (the webrtc step and bare mediasoup: 1)`;
  report.notes.push(procsNote);
  const progress = new Progress();
  const runId = `b${Date.now().toString(36)}`;
  log(
    `Huizhen bench: ${pinning.note}; ${procsNote}; media ${srtp ? `SRTP ${srtpSuite}` : 'plain RTP'}; budget ${budgetSec} s`,
  );

  progress.stage('starting Huizhen server');
  const server = await spawnServer(pinning);
  let huizhenConsults: RunResult | undefined;
  try {
    const target = parseTargetUrl(`http://127.0.0.1:${server.port}`);
    const spec: ConnectorSpec = { kind: 'huizhen', target, tokens: spawnedServerTokens() };
    const connector = connectorFromSpec(spec);
    const probe = new MetricsProbe(target.httpUrl, server.child.pid);
    const plan: [ScenarioName, number][] = [
      ['consults', 0.45],
      ['clinic', 0.2],
      ['rounds', 0.25],
    ];
    for (const [scenario, part] of plan) {
      progress.stage(`huizhen ${scenario}`);
      const result = await runScenario({
        connector,
        connectorSpec: spec,
        generatorProcs,
        shardCpus,
        probe,
        scenario,
        steps: BENCH_STEPS[scenario],
        srtp,
        srtpSuite,
        warmupSec,
        windowSec,
        stopAtKnee: true,
        deadlineMs: share(part),
        runId: `${runId}${scenario[0]}`,
        onProgress: (p) => progress.update(p),
      });
      report.runs.push(result);
      if (scenario === 'consults') huizhenConsults = result;
      // Let the server close the rooms before the next scenario.
      await new Promise((r) => setTimeout(r, 1500));
    }
    // Join time as browsers see it: a few consults through real ICE + DTLS (one short step, ~10 s).
    if (deadline - performance.now() > BENCH_WEBRTC_RESERVE_MS) {
      progress.stage('huizhen consults (webrtc)');
      report.runs.push(
        await runScenario({
          connector,
          probe,
          scenario: 'consults',
          steps: [BENCH_WEBRTC_ROOMS],
          mode: 'webrtc',
          srtp: true,
          // werift's DTLS has no AES-256-GCM profile: the webrtc step then uses AES-128-GCM.
          srtpSuite: srtpSuite === 'AEAD_AES_256_GCM' ? 'AEAD_AES_128_GCM' : srtpSuite,
          warmupSec,
          windowSec,
          stopAtKnee: false,
          confirmFailures: false,
          deadlineMs: performance.now() + BENCH_WEBRTC_RESERVE_MS / 2,
          runId: `${runId}w`,
          onProgress: (p) => progress.update(p),
        }),
      );
    } else report.notes.push('the webrtc consults step was skipped: too little of the time budget was left');
  } finally {
    await server.stop();
  }

  progress.stage('bare mediasoup consults');
  const bare = await BareMediasoupConnector.create();
  let bareRun: RunResult | undefined;
  try {
    if (pinning.enabled && !pinProcess(bare.worker.pid, pinning.serverCpu!))
      report.notes.push('the bare mediasoup worker could not be pinned');
    // The same steps as Huizhen's consults reached, one further, so the two knees compare.
    const reached = huizhenConsults?.steps.length ?? 1;
    const steps = BENCH_STEPS.consults.slice(0, Math.min(BENCH_STEPS.consults.length, reached + 1));
    // Bare mediasoup stays one generator process: its connector drives a worker inside this process,
    // which a child process cannot reach (and its knee is compared with Huizhen's, not the server's limit).
    bareRun = await runScenario({
      connector: bare,
      probe: new WorkerProbe(bare.worker),
      scenario: 'consults',
      steps,
      srtp,
      srtpSuite,
      warmupSec,
      windowSec,
      stopAtKnee: true,
      deadlineMs: deadline,
      runId: `${runId}x`,
      onProgress: (p) => progress.update(p),
    });
    report.runs.push(bareRun);
  } finally {
    await bare.close();
  }

  // Janus side by side: the same participants over WebRTC (≤ 90 s; skipped with a note when janus is absent).
  const janus = await runJanusBench({
    pinning,
    srtpSuite,
    warmupSec,
    windowSec,
    runId: `${runId}j`,
    deadlineMs: performance.now() + 90_000,
    stage: (name) => progress.stage(name),
    onProgress: (p) => progress.update(p),
  });
  report.runs.push(...janus.runs);
  report.notes.push(...janus.notes);
  const janusConsults = janus.runs.find((r) => r.scenario === 'consults');
  if (janusConsults)
    report.janus = compareWithJanus(
      huizhenConsults,
      report.runs.find((r) => r.target === 'huizhen' && r.mode === 'webrtc'),
      janusConsults,
    );

  progress.stage('one-core limit: SRTP protect + UDP send');
  const limitSrtp = await limitInChild(pinning, true, srtpSuite, 3);
  const limitPlain = await limitInChild(pinning, false, srtpSuite, 2);
  report.limit = { srtp: limitSrtp, plain: limitPlain };
  report.comparison = compare(huizhenConsults, bareRun, limitSrtp);
  progress.stage(`memory per participant: ${BENCH_MEMORY.idle} idle, ${BENCH_MEMORY.publishing} publishing`);
  try {
    report.memory = await runMemory(pinning, { ...BENCH_MEMORY, suite: srtpSuite, log: (s) => progress.stage(s) });
  } catch (err) {
    report.notes.push(`the memory step failed: ${(err as Error).message}`);
  }
  report.notes.push(
    `bench took ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at end: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
  const out = typeof flags.out === 'string' ? flags.out : join(PROJECT_ROOT, 'loadtest/reports');
  const files = writeReport(join(out, timestamp()), report);
  log('');
  log(summaryTable(report));
  log(`report: ${files.html}`);
  return { report, files };
}

/** Memory per participant on a fresh server of its own, its inspector on a loopback port for GC and samples. */
async function runMemory(
  pinning: Pinning,
  o: { idle: number; publishing: number; suite: SrtpSuite; snapshotDir?: string; log: (s: string) => void },
): Promise<MemoryResult> {
  const inspectPort = await freePort();
  const server = await spawnServer(pinning, { nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] });
  let inspector: InspectorClient | undefined;
  try {
    inspector = await InspectorClient.connect(inspectPort);
    const target = parseTargetUrl(`http://127.0.0.1:${server.port}`);
    const tokens = new HmacTokenSource(spawnedServerTokens());
    const metrics = `${target.httpUrl}/metrics`;
    return await measureMemory({
      connector: new HuizhenConnector(target, tokens),
      inspector,
      serverPid: server.child.pid!,
      connections: async () => {
        const res = await fetch(metrics, { signal: AbortSignal.timeout(5000) });
        return parsePrometheus(await res.text()).get('huizhen_signaling_connections') ?? 0;
      },
      idle: o.idle,
      publishing: o.publishing,
      srtpSuite: o.suite,
      runId: `m${Date.now().toString(36)}`,
      ...(o.snapshotDir ? { snapshotDir: o.snapshotDir } : {}),
      log: o.log,
    });
  } finally {
    inspector?.close();
    await server.stop();
  }
}

export async function memoryCommand(
  argv: string[],
  log: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<RunCommandResult> {
  const { flags } = parse(['memory', ...argv]);
  const idle = int(flags, 'idle', 200, 2, 5000);
  const publishing = int(flags, 'publishing', 20, 0, 400);
  const suite = srtpSuiteOf(flags);
  const { pinning, report } = pinnedReport('memory', argv);
  const out = typeof flags.out === 'string' ? flags.out : join(PROJECT_ROOT, 'loadtest/reports');
  const dir = join(out, `memory-${timestamp()}`);
  report.memory = await runMemory(pinning, {
    idle,
    publishing,
    suite,
    ...(typeof flags['heap-snapshots'] === 'string' ? { snapshotDir: resolve(flags['heap-snapshots']) } : {}),
    log: (s) => process.stderr.write(`${s}\n`),
  });
  const files = writeReport(dir, report);
  log(memoryTable(report.memory));
  log(`report: ${files.html}`);
  return { report, files };
}

export async function instructionsCommand(
  argv: string[],
  log: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
): Promise<{ results: InstructionsResult[]; file: string }> {
  const { flags } = parse(['instructions', ...argv]);
  const bins = (flags['worker-bin'] as unknown as string[] | undefined) ?? [];
  const withJanus = flags.janus === true;
  if (bins.length === 0 && !withJanus)
    throw new UsageError(`--worker-bin LABEL=PATH (once per binary) or --janus is required\n${USAGE}`);
  const workers = bins.map((b) => {
    const at = b.indexOf('=');
    if (at <= 0) throw new UsageError(`--worker-bin '${b}': expected LABEL=PATH`);
    const label = b.slice(0, at);
    // The label names the profile's folder: plain characters only, and one binary per label
    // (a second run under the same label would read the first one's profile).
    if (!/^[A-Za-z0-9._-]+$/.test(label) || label.startsWith('.')) {
      throw new UsageError(`--worker-bin '${b}': the label may hold only letters, digits, '.', '_' and '-'`);
    }
    return { label, path: resolve(b.slice(at + 1)) };
  });
  const labels = new Set(workers.map((w) => w.label));
  if (labels.size !== workers.length) throw new UsageError('--worker-bin: each label may be given once');
  if (withJanus && labels.has('janus')) throw new UsageError("--worker-bin: the label 'janus' is --janus' own");
  const packets = int(flags, 'packets', 3000, 100, 1_000_000);
  const pps = num(flags, 'pps', 150, 1, 100_000);
  const subscribers = int(flags, 'subscribers', 2, 1, 100);
  const suite = srtpSuiteOf(flags);
  const out = join(
    typeof flags.out === 'string' ? flags.out : join(PROJECT_ROOT, 'loadtest/reports'),
    `instructions-${timestamp()}`,
  );
  log(
    `instructions per forwarded packet (callgrind), ${suite}, ${packets} and ${2 * packets} packets at ${pps} pkt/s → ${subscribers} subscribers`,
  );
  const results: InstructionsResult[] = [];
  for (const w of workers) {
    results.push(
      await measureInstructions({
        cliPath: fileURLToPath(import.meta.url),
        workerBin: w.path,
        label: w.label,
        packets,
        pps,
        subscribers,
        suite,
        dir: out,
        log,
      }),
    );
  }
  if (withJanus) {
    const janus = await measureJanusInstructions({ packets, pps, subscribers, suite, dir: out, log });
    results.push(janus);
    log(`  janus: SRTP ${janus.negotiatedSuite} (negotiated over DTLS); ${janus.srtpLinkage}`);
  }
  log('');
  log(instructionsTable(results));
  const file = join(out, 'instructions.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        createdAt: new Date().toISOString(),
        command: `huizhen-loadtest instructions ${argv.join(' ')}`,
        loadavg: loadavg(),
        results,
        // Instructions per forwarded packet, each worker binary ÷ Janus (below 1: the worker needs fewer).
        ...(withJanus ? { perPacketOverJanus: ratiosToJanus(results) } : {}),
      },
      null,
      2,
    ),
  );
  log(`report: ${file}`);
  return { results, file };
}

// --- entry ---------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? ExitCode.USAGE : ExitCode.OK;
    }
    if (command === 'run') {
      const { report } = await runCommand(argv.slice(1));
      const failOnKnee = argv.includes('--fail-on-knee');
      return failOnKnee && report.runs.some((r) => r.steps.some((s) => !s.pass)) ? ExitCode.CRITERIA : ExitCode.OK;
    }
    if (command === 'bench') {
      await benchCommand(argv.slice(1));
      return ExitCode.OK;
    }
    if (command === 'cluster') {
      await clusterCommand(argv.slice(1));
      return ExitCode.OK;
    }
    if (command === 'memory') {
      await memoryCommand(argv.slice(1));
      return ExitCode.OK;
    }
    if (command === 'instructions') {
      await instructionsCommand(argv.slice(1));
      return ExitCode.OK;
    }
    if (command === '__fixed-load') {
      const { flags } = parse(argv);
      const result = await runFixedLoad({
        packets: int(flags, 'packets', 3000, 1, 1_000_000),
        pps: num(flags, 'pps', 150, 1, 100_000),
        subscribers: int(flags, 'subscribers', 2, 1, 100),
        suite: srtpSuiteOf(flags),
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return ExitCode.OK;
    }
    if (command === '__limit') {
      const { flags } = parse(argv);
      const result = await runLimit({
        port: int(flags, 'port', 0, 1, 65535),
        seconds: num(flags, 'seconds', 3, 0.5, 60),
        srtp: !flags['no-srtp'],
        suite: srtpSuiteOf(flags),
      });
      process.stdout.write(JSON.stringify(result));
      return ExitCode.OK;
    }
    throw new UsageError(`unknown command '${command}'\n${USAGE}`);
  } catch (err) {
    if (err instanceof LoadTestError) {
      process.stderr.write(`huizhen-loadtest: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`huizhen-loadtest: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return ExitCode.FAILED;
  }
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(ExitCode.FAILED),
  );
}
