/**
 * A Huizhen server process this tool starts on loopback (the built
 * server/dist/main.js, embedded default config, load tests enabled), pinned to
 * the server's core when pinning is planned, and tokens for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadTestError } from './errors.js';
import type { Pinning } from './probes.js';
import type { TokenSpec } from './connectorSpec.js';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface SpawnedServer {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** Tokens for a server this tool started: signed with the dev issuer's secret it wrote on start. */
export function spawnedServerTokens(): TokenSpec & { kind: 'hmac' } {
  const secretFile = join(PROJECT_ROOT, 'var/dev-issuer.secret');
  if (!existsSync(secretFile)) throw new LoadTestError('SETUP_FAILED', `${secretFile} is missing after server start`);
  // A spec, not a source: generator processes build their own source from it.
  return {
    kind: 'hmac',
    secret: readFileSync(secretFile, 'utf8').trim(),
    issuer: 'huizhen-local',
    audience: 'huizhen',
  };
}

export interface SpawnOptions {
  /** Node flags before the entry script (e.g. --inspect). */
  nodeArgs?: string[];
  /** Environment over the bench defaults (a cluster node's REDIS_URL, PORT, data dirs). */
  env?: Record<string, string>;
}

export async function spawnServer(pinning: Pinning, options: SpawnOptions = {}): Promise<SpawnedServer> {
  const nodeArgs = options.nodeArgs ?? [];
  const main = join(PROJECT_ROOT, 'server/dist/main.js');
  if (!existsSync(main)) throw new LoadTestError('SETUP_FAILED', `${main} is missing: run npm run build first`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    HUIZHEN_RTC_PORT: '0',
    HUIZHEN_WORKERS: '1',
    HUIZHEN_LOAD_TEST: 'true',
  };
  delete env.HUIZHEN_CONFIG;
  Object.assign(env, options.env);
  const [cmd, args] = pinning.enabled
    ? ['taskset', ['-c', String(pinning.serverCpu), process.execPath, ...nodeArgs, main]]
    : [process.execPath, [...nodeArgs, main]];
  const child = spawn(cmd, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 4000) stderr += d.toString();
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    let buf = '';
    let started = false;
    const timer = setTimeout(
      () => reject(new LoadTestError('SETUP_FAILED', `the Huizhen server did not start within 30 s: ${stderr.trim()}`)),
      30_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      // Keep draining the log so the server never blocks on a full pipe.
      if (started) return;
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (!line.includes('"msg":"listening"')) continue;
        try {
          const port = (JSON.parse(line) as { port?: number }).port;
          if (typeof port === 'number') {
            clearTimeout(timer);
            started = true;
            buf = '';
            resolvePort(port);
            return;
          }
        } catch {
          // a partial line; wait for the rest
        }
      }
      if (buf.length > 1e6) buf = buf.slice(-10_000);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new LoadTestError(
          'SETUP_FAILED',
          `the Huizhen server exited with code ${code}: ${stderr.trim().slice(0, 800)}`,
        ),
      );
    });
  });
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
