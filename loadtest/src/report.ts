/**
 * Turns runs into the three outputs: report.json (everything), a
 * self-contained report.html (inline SVG, no external assets) and the summary
 * table printed at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import {
  type CRITERIA,
  joinSummary,
  type Quantiles,
  type RunResult,
  type StepResult,
  type WebRtcSummary,
} from './engine.js';
import type { JanusComparison } from './janus/bench.js';
import type { LimitResult } from './limit.js';
import { memoryTable, type MemoryResult } from './memory.js';
import type { MediaMode } from './paths.js';
import type { Pinning } from './probes.js';

export interface Comparison {
  /** Egress packets per second per fully used worker core, at the step where the worker was busiest. */
  huizhenPpsPerCore?: number;
  barePpsPerCore?: number;
  huizhenKneeParticipants?: number;
  bareKneeParticipants?: number;
  /** Huizhen ÷ bare mediasoup. */
  efficiencyVsBare?: number;
  kneeVsBare?: number;
  /** Huizhen egress pps per core ÷ SRTP-protect+send pps on one core. */
  efficiencyVsLimit?: number;
  notes: string[];
}

export interface Report {
  version: 1;
  createdAt: string;
  command: string;
  /** The mode of `run`; bench is rtp with a short webrtc run beside it (each run records its own). */
  mode: MediaMode;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string };
  pinning: Pinning;
  criteria: typeof CRITERIA;
  runs: RunResult[];
  limit?: { srtp: LimitResult; plain: LimitResult };
  /** Memory per idle and per publishing participant (bench's memory step, `memory`). */
  memory?: MemoryResult;
  comparison: Comparison;
  /** Janus side by side (bench, when janus is installed). */
  janus?: JanusComparison;
  notes: string[];
}

/** Efficiency is read where the worker was busiest: low CPU shares are too coarse to divide by. */
function busiestStep(run: RunResult | undefined): StepResult | undefined {
  return run?.steps.reduce<StepResult | undefined>(
    (best, s) => (!best || s.server.workerCpuTotal > best.server.workerCpuTotal ? s : best),
    undefined,
  );
}

function ppsPerCore(step: StepResult | undefined): number | undefined {
  if (!step || step.server.workerCpuTotal < 0.02) return undefined;
  return step.receivedPps / step.server.workerCpuTotal;
}

export function compare(
  huizhen: RunResult | undefined,
  bare: RunResult | undefined,
  limit: LimitResult | undefined,
): Comparison {
  const notes: string[] = [];
  const h = busiestStep(huizhen);
  const b = busiestStep(bare);
  const c: Comparison = { notes };
  const hp = ppsPerCore(h);
  const bp = ppsPerCore(b);
  if (hp !== undefined) c.huizhenPpsPerCore = hp;
  if (bp !== undefined) c.barePpsPerCore = bp;
  if (huizhen?.knee) c.huizhenKneeParticipants = huizhen.knee.participants;
  if (bare?.knee) c.bareKneeParticipants = bare.knee.participants;
  if (hp !== undefined && bp !== undefined) c.efficiencyVsBare = hp / bp;
  if (c.huizhenKneeParticipants && c.bareKneeParticipants)
    c.kneeVsBare = c.huizhenKneeParticipants / c.bareKneeParticipants;
  if (hp !== undefined && limit) c.efficiencyVsLimit = hp / limit.pps;
  const failing = (r: RunResult | undefined) => r?.steps.find((s) => !s.pass);
  for (const r of [huizhen, bare]) {
    const f = failing(r);
    if (!r) continue;
    // Generator CPU is summed over its processes: what says it ran out is the share per process.
    const genCpu = f ? f.generator.cpu / (f.generator.procs ?? 1) : 0;
    // (Processes may share a core when there are fewer free cores than processes.)
    const genWhat =
      f && (f.generator.procs ?? 1) > 1 ? `a core per process (${f.generator.procs} processes)` : 'its core';
    if (!f)
      notes.push(
        `${r.target}: no step failed, so the knee is above the largest load tried (${r.steps.at(-1)?.participants ?? 0} participants).`,
      );
    else if (f.framesLate > 0 && genCpu < 0.85) {
      notes.push(
        `${r.target}: at the first failing step ${f.framesLate} frames went out late while the generator used only ${(genCpu * 100).toFixed(0)} % of ${genWhat}: other processes on this machine took the CPU, so this knee is a lower bound.`,
      );
    } else if (genCpu > 0.85) {
      notes.push(
        `${r.target}: at the first failing step the load generator used ${(genCpu * 100).toFixed(0)} % of ${genWhat}` +
          (f.framesLate ? ` and ${f.framesLate} frames went out late` : '') +
          ` while the media worker used ${(f.server.workerCpuTotal * 100).toFixed(0)} %: the generator, not the server, is the limit there.`,
      );
    } else notes.push(`${r.target}: first failing step at ${f.participants} participants: ${f.failures.join('; ')}.`);
    if (f?.ranOut)
      notes.push(
        `${r.target}: the knee belongs to the ${f.ranOut === 'server' ? 'server' : 'generator, not the server'} — at ${f.participants} participants the ${f.ranOut} ran out (${f.ranOutWhy ?? ''}).`,
      );
  }
  return c;
}

// --- summary table ------------------------------------------------------------

const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(1));
const f0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(0));
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(0)}%`);
const pct2 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${(v * 100).toFixed(2)}%`);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function summaryTable(report: Report): string {
  const lines: string[] = [];
  const header = [
    'target',
    'scenario',
    'rooms',
    'ppl',
    'egress pps',
    'Mbps',
    'recv',
    'loss',
    'delay p50/95/99 ms',
    'worker',
    'node',
    'gen',
    'procs',
    'NACK/s',
    'PLI/s',
    'stall',
    'ok',
  ];
  const rows = [header];
  for (const run of report.runs) {
    for (const s of run.steps) {
      rows.push([
        label(run),
        run.scenario,
        String(s.rooms),
        String(s.participants),
        f0(s.receivedPps),
        f1(s.receivedMbps),
        pct(s.receivedRatio),
        pct2(s.loss),
        `${f1(s.delayMs.p50)}/${f1(s.delayMs.p95)}/${f1(s.delayMs.p99)}`,
        pct(s.server.workerCpuTotal),
        pct(s.server.nodeCpu),
        pct(s.generator.cpu),
        String(s.generator.procs ?? 1),
        f1(s.nackRate),
        f1(s.pliRate),
        String(s.stalledTracks),
        s.pass ? 'yes' : s.ranOut === 'generator' ? 'NO gen' : 'NO srv',
      ]);
    }
  }
  lines.push(table(rows));
  lines.push('');
  for (const run of report.runs) {
    const k = run.knee;
    lines.push(
      `knee ${label(run)}/${run.scenario}: ${k ? `${k.rooms} rooms, ${k.participants} participants, ${f0(k.receivedPps)} pkt/s and ${f1(k.receivedMbps)} Mbps egress, worker CPU ${pct(k.server.workerCpuTotal)}` : 'none (the first step already failed)'} — ${run.stopReason}`,
    );
  }
  for (const run of report.runs.filter((r) => r.target === 'huizhen' && !r.webrtc)) {
    const j = joinSummary(run.joins);
    lines.push(
      `join ${run.scenario} (ms, p50/p95/p99, n=${j.ready.n}): ws open ${f1(j.wsOpen.p50)}/${f1(j.wsOpen.p95)}/${f1(j.wsOpen.p99)}, joined ${f1(j.joined.p50)}/${f1(j.joined.p95)}/${f1(j.joined.p99)}, media set up ${f1(j.ready.p50)}/${f1(j.ready.p95)}/${f1(j.ready.p99)}, first RTP ${f1(j.firstRtp.p50)}/${f1(j.firstRtp.p95)}/${f1(j.firstRtp.p99)}${run.joinFailures ? `, ${run.joinFailures} failed` : ''}`,
    );
  }
  for (const run of report.runs) if (run.webrtc) lines.push(...webrtcLines(run, run.webrtc));
  const c = report.comparison;
  if (report.limit) {
    lines.push(
      `limit (one core, Node): SRTP ${report.limit.srtp.suite ?? ''} protect + UDP send ${f0(report.limit.srtp.pps)} pkt/s (${f0(report.limit.srtp.mbps)} Mbps); plain UDP send ${f0(report.limit.plain.pps)} pkt/s`,
    );
  }
  lines.push(
    `egress pkt/s per worker core: Huizhen ${f0(c.huizhenPpsPerCore)}, bare mediasoup ${f0(c.barePpsPerCore)}; ratios Huizhen ÷ bare ${c.efficiencyVsBare?.toFixed(2) ?? '-'} (knee ${c.kneeVsBare?.toFixed(2) ?? '-'}), Huizhen ÷ limit ${c.efficiencyVsLimit?.toFixed(2) ?? '-'}`,
  );
  if (report.janus) lines.push(...janusLines(report.janus));
  const mem = report.runs.find((r) => r.target === 'huizhen')?.knee?.server.memoryPerParticipantBytes;
  if (mem !== undefined)
    lines.push(
      `server memory per participant at the knee: ${(mem / 1024 / 1024).toFixed(2)} MiB (Node RSS + worker RSS growth ÷ participants)`,
    );
  if (report.memory) lines.push(memoryTable(report.memory));
  lines.push(report.pinning.note);
  for (const n of [...c.notes, ...report.notes]) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** Janus beside Huizhen: egress pkt/s per server core, the knees, the ratio, and what janus links for SRTP. */
function janusLines(j: JanusComparison): string[] {
  return [
    `egress pkt/s per server core: Janus ${f0(j.janusPpsPerCore)} (janus process, webrtc consults), Huizhen ${f0(j.huizhenPpsPerCore)} (worker) / ${f0(j.huizhenPpsPerServerCore)} (worker + Node) / ${f0(j.huizhenWebrtcPpsPerCore)} (worker, webrtc step); ratio Huizhen ÷ Janus ${j.ratio?.toFixed(2) ?? '-'} (worker + Node: ${j.ratioServer?.toFixed(2) ?? '-'}, webrtc step: ${j.ratioWebrtc?.toFixed(2) ?? '-'})`,
    `knee consults: Huizhen ${j.huizhenKneeParticipants ?? '-'} participants (rtp), Janus ${j.janusKneeParticipants ?? '-'} participants (webrtc)`,
    `note: ${j.srtpLinkage}`,
    ...j.notes.map((n) => `note: ${n}`),
  ];
}

/** The run's name in tables: webrtc runs are marked, since bench puts them beside rtp ones. */
const label = (r: RunResult) => (r.mode === 'webrtc' ? `${r.target} webrtc` : r.target);
const q3 = (q: Quantiles) => `${f1(q.p50)}/${f1(q.p95)}/${f1(q.p99)}`;
/** Per-participant lines in the printed summary; the rest are in report.json and report.html. */
const MAX_PARTICIPANT_LINES = 16;

function webrtcLines(run: RunResult, w: WebRtcSummary): string[] {
  const lines = [
    `webrtc ${run.target}/${run.scenario} (ICE + DTLS-SRTP): ${w.connected} of ${w.participants} participants connected${w.failed ? `, ${w.failed} failed` : ''}${w.iceLost ? `, ICE lost ${w.iceLost}×` : ''}`,
    `  join (ms from start, p50/p95/p99, n=${w.join.connected.n}): ws open ${q3(w.join.wsOpen)}, joined ${q3(w.join.joined)}, DTLS connected ${q3(w.join.connected)}, media set up ${q3(w.join.ready)}, first RTP ${q3(w.join.firstRtp)}`,
    `  per transport (ms, p50/p95/p99): ICE ${q3(w.iceMs)} (n=${w.iceMs.n}), DTLS ${q3(w.dtlsMs)} (n=${w.dtlsMs.n})`,
    `  over the run: ${w.packetsReceived} RTP packets received, loss ${pct2(w.loss)}, delay p50/95/99 ${f1(w.delayMs.p50)}/${f1(w.delayMs.p95)}/${f1(w.delayMs.p99)} ms`,
  ];
  const rows = [
    [
      '  participant',
      'role',
      'joined',
      'ICE s/r',
      'DTLS s/r',
      'connected',
      '1st RTP',
      'pkts',
      'loss',
      'delay p50/95/99',
    ],
  ];
  for (const p of w.perParticipant.slice(0, MAX_PARTICIPANT_LINES)) {
    const by = (d: 'send' | 'recv', k: 'iceMs' | 'dtlsMs') => f1(p.transports.find((t) => t.direction === d)?.[k]);
    rows.push([
      `  ${p.identity}`,
      p.role,
      f1(p.joinedMs),
      `${by('send', 'iceMs')}/${by('recv', 'iceMs')}`,
      `${by('send', 'dtlsMs')}/${by('recv', 'dtlsMs')}`,
      f1(p.connectedMs),
      f1(p.firstRtpMs),
      String(p.packetsReceived),
      pct2(p.loss),
      p.error ? `failed: ${p.error.slice(0, 60)}` : `${f1(p.delayMs.p50)}/${f1(p.delayMs.p95)}/${f1(p.delayMs.p99)}`,
    ]);
  }
  lines.push(table(rows));
  if (w.perParticipant.length > MAX_PARTICIPANT_LINES)
    lines.push(`  … ${w.perParticipant.length - MAX_PARTICIPANT_LINES} more participants in report.json`);
  return lines;
}

// --- HTML -----------------------------------------------------------------------

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#57606a'];

interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], yMaxHint?: number): string {
  const W = 560;
  const H = 300;
  const L = 56;
  const R = 150;
  const T = 30;
  const B = 44;
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return `<figure><figcaption>${esc(title)}: no data</figcaption></figure>`;
  const xMax = niceMax(Math.max(...all.map((p) => p[0])));
  const yMax = niceMax(Math.max(yMaxHint ?? 0, ...all.map((p) => p[1])));
  const sx = (x: number) => L + (x / xMax) * (W - L - R);
  const sy = (y: number) => H - B - (y / yMax) * (H - T - B);
  let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`;
  svg += `<text x="${L}" y="18" class="t">${esc(title)}</text>`;
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    svg += `<line x1="${L}" x2="${W - R}" y1="${sy(y)}" y2="${sy(y)}" class="g"/><text x="${L - 6}" y="${sy(y) + 4}" class="a" text-anchor="end">${+y.toPrecision(3)}</text>`;
    const x = (xMax * i) / 4;
    svg += `<text x="${sx(x)}" y="${H - B + 16}" class="a" text-anchor="middle">${+x.toPrecision(3)}</text>`;
  }
  svg += `<text x="${(L + W - R) / 2}" y="${H - 8}" class="a" text-anchor="middle">${esc(xLabel)}</text>`;
  svg += `<text x="14" y="${(T + H - B) / 2}" class="a" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(yLabel)}</text>`;
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const color = COLORS[i % COLORS.length]!;
    if (pts.length) {
      svg += `<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`;
      for (const [x, y] of pts)
        svg += `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`;
    }
    svg += `<line x1="${W - R + 12}" x2="${W - R + 32}" y1="${T + 10 + i * 18}" y2="${T + 10 + i * 18}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${W - R + 38}" y="${T + 14 + i * 18}" class="a">${esc(s.name)}</text>`;
  });
  return `<figure>${svg}</svg></figure>`;
}

function histogramChart(title: string, xLabel: string, values: number[]): string {
  const W = 560;
  const H = 260;
  const L = 48;
  const B = 44;
  const T = 30;
  if (values.length === 0) return `<figure><figcaption>${esc(title)}: no data</figcaption></figure>`;
  const max = niceMax(Math.max(...values));
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]!++;
  const cMax = Math.max(...counts);
  const bw = (W - L - 20) / bins;
  let svg = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><text x="${L}" y="18" class="t">${esc(title)}</text>`;
  counts.forEach((c, i) => {
    const h = (c / cMax) * (H - T - B);
    svg += `<rect x="${(L + i * bw + 1).toFixed(1)}" y="${(H - B - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[0]}"><title>${((i * max) / bins).toFixed(0)}–${(((i + 1) * max) / bins).toFixed(0)} ms: ${c}</title></rect>`;
  });
  for (let i = 0; i <= 4; i++)
    svg += `<text x="${L + (i / 4) * bins * bw}" y="${H - B + 16}" class="a" text-anchor="middle">${+((max * i) / 4).toPrecision(3)}</text>`;
  svg += `<text x="${L - 6}" y="${T + 4}" class="a" text-anchor="end">${cMax}</text><text x="${L - 6}" y="${H - B}" class="a" text-anchor="end">0</text>`;
  svg += `<text x="${(L + W) / 2}" y="${H - 8}" class="a" text-anchor="middle">${esc(xLabel)}</text>`;
  return `<figure>${svg}</svg></figure>`;
}

export function renderHtml(report: Report): string {
  const huizhen = report.runs.filter((r) => r.target === 'huizhen');
  const bare = report.runs.filter((r) => r.target !== 'huizhen');
  const cpuSeries: Series[] = [
    ...huizhen.map((r) => ({
      name: `Huizhen worker, ${r.scenario}${r.mode === 'webrtc' ? ' (webrtc)' : ''}`,
      points: r.steps.map((s) => [s.participants, s.server.workerCpuTotal * 100] as [number, number]),
    })),
    ...bare.map((r) => ({
      name: r.target === 'janus' ? `Janus process, ${r.scenario} (webrtc)` : `bare worker, ${r.scenario}`,
      points: r.steps.map((s) => [s.participants, s.server.workerCpuTotal * 100] as [number, number]),
    })),
    ...huizhen.slice(0, 1).map((r) => ({
      name: 'Huizhen Node',
      dashed: true,
      points: r.steps.map((s) => [s.participants, (s.server.nodeCpu ?? NaN) * 100] as [number, number]),
    })),
    ...huizhen.slice(0, 1).map((r) => ({
      name: 'generator',
      dashed: true,
      points: r.steps.map((s) => [s.participants, s.generator.cpu * 100] as [number, number]),
    })),
  ];
  const main = huizhen[0];
  const delaySeries: Series[] = main
    ? (['p50', 'p95', 'p99'] as const).map((q) => ({
        name: `${q} (${main.scenario})`,
        points: main.steps.map((s) => [s.participants, s.delayMs[q]] as [number, number]),
      }))
    : [];
  const rtpRuns = huizhen.filter((r) => !r.webrtc);
  const joinValues = rtpRuns.flatMap((r) =>
    r.joins.map((j) => j.firstRtpMs).filter((v): v is number => v !== undefined),
  );
  const joined = rtpRuns.flatMap((r) => r.joins.map((j) => j.joinedMs));
  const webrtcRuns = report.runs.filter((r): r is RunResult & { webrtc: WebRtcSummary } => r.webrtc !== undefined);
  const modes = [...new Set(report.runs.map((r) => r.mode))];
  const modeText = modes
    .map((m) =>
      m === 'webrtc'
        ? `webrtc (ICE + DTLS transports as browsers get; SRTP ${report.runs.find((r) => r.mode === 'webrtc')?.srtpSuite ?? ''} keyed by DTLS)`
        : `rtp (plain transports${rtpSrtpText(report.runs.find((r) => r.mode === 'rtp'))})`,
    )
    .join('; ');
  const summary = esc(summaryTable(report));
  const rows = report.runs
    .flatMap((r) =>
      r.steps.map(
        (s) =>
          `<tr class="${s.pass ? '' : 'fail'}"><td>${esc(label(r))}</td><td>${esc(r.scenario)}</td><td>${s.rooms}</td><td>${s.participants}</td><td>${s.consumers}/${s.expectedConsumers}</td><td>${f0(s.sentPps)}</td><td>${f0(s.receivedPps)}</td><td>${f1(s.receivedMbps)}</td><td>${pct(s.receivedRatio)}</td><td>${pct2(s.loss)}</td><td>${f1(s.delayMs.p50)}</td><td>${f1(s.delayMs.p95)}</td><td>${f1(s.delayMs.p99)}</td><td>${pct(s.server.workerCpuTotal)}</td><td>${pct(s.server.nodeCpu)}</td><td>${f1(s.server.eventLoopLagP99Ms)}</td><td>${pct(s.generator.cpu)}</td><td>${s.generator.procs ?? 1}${s.generator.perProc ? ` (${s.generator.perProc.map((p) => pct(p.cpu)).join(' + ')})` : ''}</td><td>${f1(s.generator.eventLoopLagP99Ms)}</td><td>${f1(s.nackRate)}</td><td>${f1(s.pliRate)}</td><td>${s.stalledTracks}</td><td>${s.server.memoryPerParticipantBytes !== undefined ? (s.server.memoryPerParticipantBytes / 1048576).toFixed(2) : '-'}</td><td>${esc(s.failures.join('; ') || 'pass')}${s.ranOut ? ` — ran out: ${esc(s.ranOut)} (${esc(s.ranOutWhy ?? '')})` : ''}${s.generator.queueMs ? ` [generator queueing p95 ${f1(s.generator.queueMs.p95)} ms, send late p95 ${f1(s.generator.sendLateMs?.p95)} ms]` : ''}${s.retried ? ` (second window; first: ${esc(s.retried)})` : ''}</td></tr>`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Huizhen load test ${esc(report.createdAt)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
pre{background:#f6f8fa;padding:12px;overflow:auto;font-size:12px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #d0d7de;padding:3px 6px;text-align:right}
td:nth-child(-n+2),th:nth-child(-n+2),td:last-child{text-align:left}tr.fail td{background:#ffebe9}
figure{display:inline-block;margin:8px 16px 8px 0}.t{font-weight:600;font-size:13px}.a{font-size:11px;fill:#57606a}.g{stroke:#eaeef2}
</style></head><body>
<h1>Huizhen load test</h1>
<p>${esc(report.createdAt)} · <code>${esc(report.command)}</code> · ${report.machine.cpus} × ${esc(report.machine.cpuModel)} · Node ${esc(report.machine.node)} · Linux ${esc(report.machine.kernel)}</p>
<p>${esc(report.pinning.note)}. Media mode: ${esc(modeText)}. Knee criteria per step: loss &lt; 1 %, received ≥ 90 % of sent, no stalled track, added delay p95 &lt; 20 ms.</p>
<h2>Summary</h2><pre>${summary}</pre>
<h2>Charts</h2>
${lineChart('CPU vs load', 'participants', 'CPU % of one core', cpuSeries, 100)}
${lineChart('One-way added delay', 'participants', 'ms', delaySeries)}
${histogramChart('Join time: start → first RTP received', 'ms', joinValues)}
${histogramChart('Join time: start → joined (admitted)', 'ms', joined)}
${webrtcRuns.map((r) => webrtcHtml(r, r.webrtc)).join('\n')}
${report.memory ? memoryHtml(report.memory) : ''}
<h2>Steps</h2>
<table><tr><th>target</th><th>scenario</th><th>rooms</th><th>participants</th><th>consumers</th><th>sent pps</th><th>egress pps</th><th>egress Mbps</th><th>recv/sent</th><th>loss</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>worker CPU</th><th>node CPU</th><th>server loop p99 ms</th><th>gen CPU</th><th>gen procs</th><th>gen loop p99 ms</th><th>NACK/s</th><th>PLI/s</th><th>stalled</th><th>MiB/participant</th><th>verdict</th></tr>
${rows}</table>
<h2>What the figures mean</h2>
<ul>
<li><b>egress pps / Mbps</b>: RTP the server forwarded, counted by the synthetic subscribers (per worker: divided evenly when there is more than one).</li>
<li><b>recv</b>: bytes received ÷ bytes the subscribed sources (audio, top simulcast layer) sent in the same window.</li>
<li><b>loss</b>: sequence numbers never received (after NACK retransmissions) ÷ expected.</li>
<li><b>delay</b>: one-way added delay from the publisher's send call to the subscriber's receive event, same clock, includes both sides' event loops.</li>
<li><b>worker / node / gen CPU</b>: share of one core used by the media worker(s), the Huizhen Node process, and the load generator during the window (summed over its processes; <b>gen procs</b> lists each process's share when there are several).</li>
<li><b>NACK/s, PLI/s</b>: retransmission requests (packets) and key-frame requests the server sent to publishers.</li>
<li><b>limit</b>: SRTP protect + UDP send in a tight loop on one core in Node; ratios compare egress packets per worker core second.</li>
<li><b>webrtc</b> runs: participants connect like browsers (createTransport → connectTransport → ICE checks against the server's ICE-lite candidate → DTLS handshake as the client → SRTP keyed by DTLS). Join times count from the participant's start; "DTLS connected" is when all its transports can carry media.</li>
</ul>
<h2>Raw data</h2><p>All numbers are in report.json next to this file.</p>
</body></html>
`;
}

function memoryHtml(m: MemoryResult): string {
  const kb = (b: number) => (b / 1024).toFixed(1);
  const rows = [m.idle, m.afterLeaving, ...(m.publishing ? [m.publishing] : [])]
    .map(
      (p) =>
        `<tr><td>${esc(p.what)}</td><td>${p.participants}</td><td>${p.rooms}</td><td>${kb(p.perParticipant.heapUsed)}</td><td>${kb(p.perParticipant.external)}</td><td>${kb(p.perParticipant.nodeRss)}</td><td>${kb(p.perParticipant.workerRss)}</td></tr>`,
    )
    .join('\n');
  const diff = (m.idleHeapDiff ?? [])
    .map((g) => `<tr><td>${esc(g.name)}</td><td>${g.count.toFixed(1)}</td><td>${kb(g.selfBytes)}</td></tr>`)
    .join('\n');
  return `<h2>Memory per participant</h2>
<p>${esc(m.method)}.</p>
<table><tr><th>phase</th><th>participants</th><th>rooms</th><th>Node heap used KB</th><th>Node external KB</th><th>Node RSS KB</th><th>worker RSS KB</th></tr>
${rows}</table>
${diff ? `<p>Idle heap growth by constructor (heap snapshots, self size per participant):</p><table><tr><th>constructor</th><th>count</th><th>KB</th></tr>\n${diff}</table>` : ''}`;
}

function webrtcHtml(run: RunResult, w: WebRtcSummary): string {
  const td = (v: string) => `<td>${esc(v)}</td>`;
  const rows = w.perParticipant
    .map((p) => {
      const t = (d: 'send' | 'recv', k: 'iceMs' | 'dtlsMs' | 'createMs') =>
        f1(p.transports.find((x) => x.direction === d)?.[k]);
      return `<tr class="${p.error ? 'fail' : ''}">${[
        p.identity,
        p.role,
        f1(p.wsOpenMs),
        f1(p.joinedMs),
        t('recv', 'createMs'),
        t('recv', 'iceMs'),
        t('recv', 'dtlsMs'),
        t('send', 'createMs'),
        t('send', 'iceMs'),
        t('send', 'dtlsMs'),
        f1(p.connectedMs),
        f1(p.readyMs),
        f1(p.firstRtpMs),
        String(p.consumers),
        String(p.packetsReceived),
        pct2(p.loss),
        `${f1(p.delayMs.p50)}/${f1(p.delayMs.p95)}/${f1(p.delayMs.p99)}`,
        p.error ?? 'ok',
      ]
        .map(td)
        .join('')}</tr>`;
    })
    .join('\n');
  const connected = w.perParticipant.map((p) => p.connectedMs).filter((v): v is number => v !== undefined);
  const firstRtp = w.perParticipant.map((p) => p.firstRtpMs).filter((v): v is number => v !== undefined);
  return `<h2>WebRTC: ${esc(run.scenario)} through ICE + DTLS</h2>
<pre>${esc(webrtcLines(run, w).slice(0, 4).join('\n'))}</pre>
${histogramChart('WebRTC join: start → DTLS connected (all transports)', 'ms', connected)}
${histogramChart('WebRTC join: start → first RTP received', 'ms', firstRtp)}
<table><tr><th>participant</th><th>role</th><th>ws open</th><th>joined</th><th>recv create</th><th>recv ICE</th><th>recv DTLS</th><th>send create</th><th>send ICE</th><th>send DTLS</th><th>connected</th><th>media set up</th><th>first RTP</th><th>consumers</th><th>packets</th><th>loss</th><th>delay p50/95/99</th><th>status</th></tr>
${rows}</table>
<p>Times in ms from the participant's start; ICE and DTLS per transport (create: the createTransport request; ICE: checks → nominated pair; DTLS: ClientHello → handshake done, server certificate checked against the signaled fingerprint). Packets, loss and delay cover the whole run.</p>`;
}

export function machineInfo(): Report['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.versions.node,
    kernel: release(),
  };
}

export function writeReport(dir: string, report: Report): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  writeFileSync(
    json,
    JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n',
  );
  writeFileSync(html, renderHtml(report));
  return { json, html };
}

function rtpSrtpText(run: RunResult | undefined): string {
  return run?.srtp ? `, SRTP ${run.srtpSuite ?? 'AES_CM_128_HMAC_SHA1_80'}` : ', no SRTP';
}
