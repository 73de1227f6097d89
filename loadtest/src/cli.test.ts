import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { instructionsCommand, main, runCommand } from './cli.js';
import { AuthError, UnreachableError, UsageError } from './errors.js';
import { consultRunArgs, quiet, scratchWithSecret, useTestServer } from './smokeRun.testing.js';
import { CommandTokenSource } from './tokens.js';

const scratch = scratchWithSecret('huizhen-loadtest-');
const { dir, secretFile } = scratch;

describe('huizhen-loadtest run (smoke)', () => {
  const server = useTestServer();

  it('loads one consult room over SRTP (AEAD_AES_128_GCM by default) through the real front door and writes a sane report', async () => {
    const out = join(dir, 'reports');
    const { report, files } = await runCommand(
      consultRunArgs(server().url, scratch, { rooms: 1, window: 2, out }),
      quiet,
    );
    const run = report.runs[0]!;
    // Every packet went through the real worker's libsrtp both ways: GCM tags it checked and made.
    expect(run.srtpSuite).toBe('AEAD_AES_128_GCM');
    expect(run.joinFailures).toBe(0);
    expect(run.joins).toHaveLength(2);
    const step = run.steps[0]!;
    expect(step.participants).toBe(2);
    expect(step.consumers).toBe(4);
    expect(step.receivedPps).toBeGreaterThan(100);
    expect(step.sentPps).toBeGreaterThan(step.receivedPps);
    expect(step.loss).toBeLessThan(0.05);
    expect(step.srtpFailures).toBe(0);
    for (const q of [step.delayMs.p50, step.delayMs.p95, step.delayMs.p99]) {
      expect(Number.isFinite(q)).toBe(true);
      expect(q).toBeGreaterThanOrEqual(0);
    }
    // The delay's arrival stamp came from the receive threads, and the generator's queueing is reported beside it.
    expect(step.generator.delayClock).toBe('off-loop');
    expect(step.delayMs.samples).toBeGreaterThan(100);
    expect(Number.isFinite(step.generator.queueMs?.p95)).toBe(true);
    expect(step.generator.queueMs!.p95).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(step.generator.sendLateMs?.p95)).toBe(true);
    expect(step.subscriberNackRate).toBeGreaterThanOrEqual(0);
    expect(step.server.workerCpu.length).toBeGreaterThan(0);
    expect(existsSync(files.json)).toBe(true);
    const html = readFileSync(files.html, 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).runs[0].steps[0].participants).toBe(2);
  });

  it.each(['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM'] as const)(
    'round-trips --srtp-suite %s through the worker',
    async (suite) => {
      const { report } = await runCommand(
        consultRunArgs(server().url, scratch, { rooms: 1, window: 1, out: join(dir, suite) }, '--srtp-suite', suite),
        quiet,
      );
      const run = report.runs[0]!;
      expect(run.srtpSuite).toBe(suite);
      const step = run.steps[0]!;
      expect(step.consumers).toBe(4);
      expect(step.receivedPps).toBeGreaterThan(100);
      expect(step.srtpFailures).toBe(0);
    },
  );

  it('gets load-test credentials from the dev token endpoint', async () => {
    const { report } = await runCommand(
      [
        '--url',
        server().url,
        '--scenario',
        'rounds',
        '--rooms',
        '1',
        '--listeners',
        '2',
        '--warmup',
        '1',
        '--window',
        '1',
        '--dev-token',
        '--no-srtp',
        '--out',
        join(dir, 'dev'),
      ],
      quiet,
    );
    const step = report.runs[0]!.steps[0]!;
    expect(report.runs[0]!.joinFailures).toBe(0);
    expect(step.consumers).toBe(4);
    expect(step.receivedPps).toBeGreaterThan(0);
  });
});

describe('token sources', () => {
  it('takes the last line of a token command and explains a failing one', async () => {
    const src = new CommandTokenSource('echo minting {identity} for {room} as {role}; echo aaa.bbb.ccc');
    expect(await src.token({ identity: 'x', room: 'r', role: 'doctor', kind: 'consult' })).toBe('aaa.bbb.ccc');
    await expect(
      new CommandTokenSource('echo no >&2; exit 3').token({
        identity: 'x',
        room: 'r',
        role: 'doctor',
        kind: 'consult',
      }),
    ).rejects.toBeInstanceOf(AuthError);
  });
});

describe('huizhen-loadtest errors', () => {
  const base = ['--scenario', 'consults', '--rooms', '1', ...scratch.credentials];

  it('refuses bad arguments with a usage error (exit 2)', async () => {
    await expect(runCommand(['--scenario', 'consults', '--rooms', '1'], quiet)).rejects.toThrow(/--url is required/);
    await expect(runCommand(['--url', 'http://127.0.0.1:1', ...base, '--scenario', 'ward'], quiet)).rejects.toThrow(
      /unknown scenario 'ward'/,
    );
    await expect(
      runCommand(
        ['--url', 'http://127.0.0.1:1', '--scenario', 'consults', '--rooms', '0', '--token-secret-file', secretFile],
        quiet,
      ),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(runCommand(['--url', 'http://127.0.0.1:1', ...base, '--bogus'], quiet)).rejects.toThrow(
      /Unknown option '--bogus'/,
    );
    await expect(runCommand(['--url', 'not a url', ...base], quiet)).rejects.toThrow(/is not a URL/);
    await expect(runCommand(['--url', 'http://127.0.0.1:1', ...base, '--mode', 'quic'], quiet)).rejects.toThrow(
      /unknown --mode 'quic'/,
    );
    await expect(
      runCommand(['--url', 'http://127.0.0.1:1', ...base, '--mode', 'webrtc', '--no-srtp'], quiet),
    ).rejects.toThrow(/--no-srtp applies to --mode rtp only/);
    await expect(
      runCommand(['--url', 'http://127.0.0.1:1', ...base, '--srtp-suite', 'NULL_CIPHER'], quiet),
    ).rejects.toThrow(/unknown --srtp-suite 'NULL_CIPHER'/);
    await expect(
      runCommand(['--url', 'http://127.0.0.1:1', '--scenario', 'consults', '--rooms', '1'], quiet),
    ).rejects.toThrow(/no credentials/);
    expect(await main(['run', '--url', 'http://127.0.0.1:1', ...base, '--steps', '4,2'])).toBe(2);
    expect(await main(['frobnicate'])).toBe(2);
    await expect(
      instructionsCommand(['--worker-bin', 'a=/bin/true', '--worker-bin', 'a=/bin/false'], quiet),
    ).rejects.toThrow(/each label may be given once/);
    await expect(instructionsCommand(['--worker-bin', '../up=/bin/true'], quiet)).rejects.toBeInstanceOf(UsageError);
  });

  it('never aims load at another machine', async () => {
    await expect(runCommand(['--url', 'http://192.0.2.10:3000', ...base], quiet)).rejects.toThrow(
      /only sends to servers on this machine/,
    );
    expect(await main(['run', '--url', 'https://example.org', ...base])).toBe(2);
  });

  it('reports an unreachable server clearly (exit 3)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    await expect(runCommand(['--url', `http://127.0.0.1:${port}`, ...base], quiet)).rejects.toSatisfy(
      (err: unknown) =>
        err instanceof UnreachableError &&
        /cannot reach a Huizhen server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/.test((err as Error).message),
    );
    expect(await main(['run', '--url', `http://127.0.0.1:${port}`, ...base])).toBe(3);
  });
});
