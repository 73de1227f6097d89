import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterCommand, parseClusterArgs } from './command.js';
import type { LayoutRun } from './figures.js';
import { UsageError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'huizhen-cluster-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('huizhen-loadtest cluster arguments', () => {
  it('takes the load and windows, and refuses nonsense', () => {
    const o = parseClusterArgs(['--consults', '3', '--clinics', '0', '--window', '4']);
    expect(o).toMatchObject({ consults: 3, clinics: 0, windowSec: 4, srtp: true, lobby: true });
    expect(() => parseClusterArgs(['--consults', '0', '--clinics', '0'])).toThrow(UsageError);
    expect(() => parseClusterArgs(['--consults', '1.5'])).toThrow(/whole number/);
    expect(() => parseClusterArgs(['--nodes', '3'])).toThrow(UsageError);
  });
});

// Needs the built server (server/dist, `npm run build`) and Debian's redis-server: the command starts its own
// Redis and two real Huizhen nodes in cluster mode, with real mediasoup workers and pipe transports between them.
describe('huizhen-loadtest cluster (smoke: real redis-server, two real nodes)', () => {
  it('runs one consult and one clinic on node a alone, then split over a and b, and reports both', async () => {
    const lines: string[] = [];
    const { report, files } = await clusterCommand(
      ['--consults', '1', '--clinics', '1', '--warmup', '1', '--window', '2', '--idle', '1', '--out', dir],
      (s) => lines.push(s),
    );
    expect(report.scenarios.map((s) => s.scenario)).toEqual(['consults', 'clinic']);
    const all: LayoutRun[] = report.scenarios.flatMap((s) => [s.single, s.split]);
    for (const run of all) {
      // Media flowed and every participant joined: the run's figures count.
      expect(run.valid, `${run.scenario} ${run.layout}: ${run.voidReason}`).toBe(true);
      expect(run.receivedRatio).toBeGreaterThanOrEqual(0.9);
      expect(run.forwardedPps).toBeGreaterThan(100);
      expect(run.workerCpu.a).toBeGreaterThan(0);
      expect(run.workerUsPerPacket).toBeGreaterThan(0);
      expect(Number.isFinite(run.workerUsPerPacket)).toBe(true);
      // Each join and each room-minute costs Redis something (home leases, room state), and Redis did work.
      expect(run.redis.join.commands).toBeGreaterThan(0);
      expect(run.redis.join.perJoin).toBeGreaterThan(0);
      expect(run.redis.window.perRoomMinute).toBeGreaterThan(0);
      expect(run.redis.window.cpu).toBeGreaterThan(0);
      expect(run.redis.window.cpu).toBeLessThan(1);
      expect(run.layoutVerified).toBe(true);
    }
    const single = report.scenarios[0]!.single;
    // Single: node a alone, nothing relayed or piped.
    expect(single.gauges.b).toBeNull();
    expect(single.gauges.a).toMatchObject({ remoteParticipants: 0, edgeParticipants: 0, pipeTransports: 0 });
    expect(single.workerCpu.b).toBe(0);
    // Split: the consult's host opened the room on a, its patient came in through b; media crossed over pipes.
    const split = report.scenarios[0]!.split;
    expect(split.placed).toEqual({ a: 1, b: 1 });
    expect(split.gauges.b!.edgeParticipants).toBeGreaterThan(0);
    expect(split.gauges.a.remoteParticipants).toBe(split.gauges.b!.edgeParticipants);
    expect(split.gauges.a.pipeTransports).toBeGreaterThan(0);
    expect(split.gauges.b!.pipeTransports).toBeGreaterThan(0);
    expect(split.workerCpu.b).toBeGreaterThan(0);
    const clinicSplit = report.scenarios[1]!.split;
    expect(clinicSplit.placed).toEqual({ a: 1, b: 5 });
    for (const s of report.scenarios) {
      expect(s.ratio).not.toBeNull();
      expect(s.ratio!).toBeGreaterThan(0);
      expect(s.ratio).toBeCloseTo(s.split.workerUsPerPacket / s.single.workerUsPerPacket, 6);
    }
    expect(report.overallRatio).not.toBeNull();
    expect(report.redis.idle.single.commandsPerMin).toBeGreaterThan(0);
    // Two nodes renew their registry entries: more background than one.
    expect(report.redis.idle.split.commandsPerMin).toBeGreaterThan(report.redis.idle.single.commandsPerMin);
    const bench = report.redis.benchmark;
    if (!('skipped' in bench)) expect(bench.rps.SET).toBeGreaterThan(1000);
    expect(existsSync(files.json)).toBe(true);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).scenarios).toHaveLength(2);
    const text = readFileSync(files.text, 'utf8');
    expect(text).toContain('worker CPU per forwarded packet split ÷ single');
    expect(lines.join('\n')).toContain('clinic split');
  }, 240_000);
});
