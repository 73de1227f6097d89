import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../../server/src/testing/testServer.js';
import { ChildShard } from './childShard.js';
import { runCommand } from './cli.js';
import { connectorFromSpec, type ConnectorSpec } from './connectorSpec.js';
import { runScenario } from './engine.js';
import { ShardError, UsageError, type LoadTestError } from './errors.js';
import { Histogram } from './histogram.js';
import { MetricsProbe, defaultGeneratorProcs, generatorCpus } from './probes.js';
import { parseTargetUrl } from './sfu.js';
import { consultRunArgs, quiet, scratchWithSecret, useTestServer } from './smokeRun.testing.js';

const scratch = scratchWithSecret('huizhen-shards-');
const { dir } = scratch;

describe('generator processes (--generator-procs)', () => {
  const server = useTestServer();
  let spec: ConnectorSpec;
  beforeAll(() => {
    spec = {
      kind: 'huizhen',
      target: parseTargetUrl(server().url),
      tokens: { kind: 'hmac', secret: TEST_SECRET, issuer: 'huizhen-test', audience: 'huizhen' },
    };
  });

  it('spreads consult rooms over 2 processes and adds up what both received', async () => {
    const { report, files } = await runCommand(
      consultRunArgs(
        server().url,
        scratch,
        { rooms: 2, window: 2, out: join(dir, 'procs2') },
        '--generator-procs',
        '2',
      ),
      quiet,
    );
    const run = report.runs[0]!;
    expect(run.joinFailures).toBe(0);
    // Join samples come back from the child too.
    expect(run.joins).toHaveLength(4);
    const step = run.steps[0]!;
    expect(step.generator.procs).toBe(2);
    // One room per process, each its own pid; both carried media.
    const per = step.generator.perProc!;
    expect(per).toHaveLength(2);
    expect(per.map((p) => p.participants)).toEqual([2, 2]);
    expect(new Set(per.map((p) => p.pid)).size).toBe(2);
    for (const p of per) expect(p.cpu).toBeGreaterThan(0);
    expect(step.participants).toBe(4);
    expect(step.consumers).toBe(8);
    expect(step.stalledTracks).toBe(0);
    expect(step.receivedRatio).toBeGreaterThanOrEqual(0.9);
    expect(step.srtpFailures).toBe(0);
    // Histograms merged from both processes: more delay samples than one room gives, finite percentiles.
    expect(step.delayMs.samples).toBeGreaterThan(200);
    expect(Number.isFinite(step.delayMs.p95)).toBe(true);
    expect(step.generator.delayClock).toBe('off-loop');
    expect(Number.isFinite(step.generator.queueMs?.p95)).toBe(true);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).runs[0].steps[0].generator.procs).toBe(2);
    expect(readFileSync(files.html, 'utf8')).toContain('<th>gen procs</th>');
  });

  it('keeps everything in this process with --generator-procs 1', async () => {
    const pids: number[] = [];
    const run = await runScenario({
      connector: connectorFromSpec(spec),
      connectorSpec: spec,
      generatorProcs: 1,
      scenario: 'consults',
      steps: [1],
      srtp: true,
      warmupSec: 0.5,
      windowSec: 1,
      stopAtKnee: false,
      confirmFailures: false,
      deadlineMs: performance.now() + 30_000,
      runId: `one${Date.now().toString(36)}`,
      onShards: (p) => pids.push(...p),
    });
    expect(pids).toEqual([process.pid]);
    expect(run.steps[0]!.generator.procs).toBe(1);
    expect(run.steps[0]!.generator.perProc).toBeUndefined();
    expect(run.steps[0]!.consumers).toBe(4);
  });

  it('fails the run with a typed error, at once, when a generator process dies mid-window', async () => {
    let child: number | undefined;
    let killedAt = 0;
    const started = performance.now();
    const run = runScenario({
      connector: connectorFromSpec(spec),
      connectorSpec: spec,
      generatorProcs: 2,
      probe: new MetricsProbe(server().url),
      scenario: 'consults',
      steps: [2],
      srtp: true,
      warmupSec: 0.5,
      // Long enough that an error arriving only at the window's end would show as a wait.
      windowSec: 20,
      stopAtKnee: false,
      deadlineMs: performance.now() + 60_000,
      runId: `crash${Date.now().toString(36)}`,
      onShards: (pids) => (child = pids[1]),
      onProgress: (p) => {
        if (p.phase === 'measuring' && child !== undefined && !killedAt) {
          killedAt = performance.now();
          process.kill(child, 'SIGKILL');
        }
      },
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ShardError);
    expect((err as LoadTestError).code).toBe('SHARD_FAILED');
    expect((err as Error).message).toMatch(
      /generator process 1 \(pid \d+\): exited on SIGKILL in the middle of the run/,
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(performance.now() - killedAt).toBeLessThan(10_000);
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('refuses a child that answers outside the shard protocol', async () => {
    const entry = join(dir, 'garbage-child.mjs');
    // A real process on the IPC channel that answers every request with a malformed window.
    writeFileSync(
      entry,
      "process.on('message', (m) => process.send({ type: 'window', id: m.id, window: { sec: 'soon' } }));\n",
    );
    const err = await ChildShard.start({
      index: 3,
      config: {
        scenario: 'consults',
        mode: 'rtp',
        srtp: true,
        srtpSuite: 'AEAD_AES_128_GCM',
        offLoopReceive: true,
        joinConcurrency: 4,
      },
      connector: spec,
      entry: pathToFileURL(entry),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ShardError);
    expect((err as Error).message).toMatch(
      /generator process 3 \(pid \d+\): answered a message outside the shard protocol/,
    );
  });
});

describe('generator process planning and merging', () => {
  it('refuses --generator-procs that cannot run', async () => {
    const base = ['--url', 'http://127.0.0.1:1', '--scenario', 'consults', '--rooms', '1'];
    const creds = scratch.credentials;
    await expect(runCommand([...base, ...creds, '--generator-procs', '0'], quiet)).rejects.toThrow(
      /--generator-procs must be a number from 1 to 64/,
    );
    await expect(
      runCommand([...base, ...creds, '--mode', 'webrtc', '--generator-procs', '2'], quiet),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it('defaults to the cores the server does not get, at least one', () => {
    expect(defaultGeneratorProcs(1)).toBe(1);
    expect(defaultGeneratorProcs(2)).toBe(1);
    expect(defaultGeneratorProcs(8)).toBe(7);
    const pinned = { enabled: true, generatorCpu: 0, serverCpu: 1, note: '' };
    expect(generatorCpus(pinned, 4)).toEqual([0, 2, 3]);
    expect(generatorCpus(pinned, 2)).toEqual([0]);
    expect(generatorCpus({ enabled: false, note: '' }, 4)).toEqual([]);
  });

  it('merges raw histogram buckets across processes, not percentiles', () => {
    const a = new Histogram();
    const b = new Histogram();
    const all = new Histogram();
    for (let i = 0; i < 990; i++) {
      a.record(1 + (i % 10) / 10);
      all.record(1 + (i % 10) / 10);
    }
    for (let i = 0; i < 10; i++) {
      b.record(50 + i);
      all.record(50 + i);
    }
    const merged = Histogram.fromSnapshots([
      JSON.parse(JSON.stringify(a.snapshot())),
      JSON.parse(JSON.stringify(b.snapshot())),
    ]);
    expect(merged.count).toBe(1000);
    for (const q of [0.5, 0.95, 0.99, 0.999]) expect(merged.quantile(q)).toBe(all.quantile(q));
    // The average of the two p99s would be far off the merged one.
    expect((a.quantile(0.99) + b.quantile(0.99)) / 2).toBeGreaterThan(merged.quantile(0.99) * 10);
  });
});
