/**
 * Starts a real Huizhen server process (the built server/dist/main.js) on a
 * free port, for browser tests. Each test file gets its own process, so rooms
 * and state never leak between files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(REPO_ROOT, 'server/dist/main.js');

export interface HuizhenServer {
  /** e.g. http://localhost:43123 — "localhost" keeps the page a secure context for getUserMedia. */
  readonly url: string;
  readonly port: number;
  /** This server's own directory for records, audit log and config (removed on stop). */
  readonly scratch: string;
  /** Every stdout/stderr line so far (JSON log lines and anything else). */
  readonly logs: readonly string[];
  /** The last `n` log lines, for failure messages. */
  tail(n?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves true if it exited by itself. */
  stop(options?: { graceMs?: number }): Promise<boolean>;
  /** SIGKILL: the process gets no chance to flush or say goodbye (crash tests). Keeps a caller-given scratch. */
  kill(): Promise<void>;
}

export interface StartServerOptions {
  /** Extra environment, e.g. { HUIZHEN_DEV_TOKENS: 'false' }. */
  env?: Record<string, string>;
  /**
   * A config file (as JSON) merged over config/default.json via HUIZHEN_CONFIG.
   * Arrays replace whole: a config with `auth.issuers` must list every issuer.
   */
  config?: Record<string, unknown>;
  timeoutMs?: number;
  /** Listen on this port (default: a free one); a cluster node needs its public URL before it starts. */
  port?: number;
  /**
   * Use this directory for data, audit log and config and keep it on stop, so a
   * second process can start on what the first one left (restart tests).
   */
  scratch?: string;
}

/** The issuer the default config trusts and signs dev tokens with, as a config entry (for configs that add issuers). */
export const LOCAL_DEV_ISSUER = {
  iss: 'huizhen-local',
  audience: 'huizhen',
  algorithm: 'HS256',
  secretFile: path.join(REPO_ROOT, 'var/dev-issuer.secret'),
  generateSecretIfMissing: true,
  roles: ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'],
} as const;

/** Asks the OS for a free TCP port by binding to port 0 and releasing it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function startServer(options: StartServerOptions = {}): Promise<HuizhenServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const port = options.port ?? (await freePort());
  const logs: string[] = [];
  // Records and the audit log of a test server stay out of the repository's var/.
  const ownScratch = options.scratch === undefined;
  const scratch = options.scratch ?? (await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-server-')));
  const configEnv: Record<string, string> = {};
  if (options.config) {
    const file = path.join(scratch, 'config.json');
    await writeFile(file, JSON.stringify(options.config, null, 2));
    configEnv.HUIZHEN_CONFIG = file;
  }
  const child = spawn(process.execPath, [MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      // Random RTC ports so parallel runs and a developer's own server never collide.
      HUIZHEN_RTC_PORT: '0',
      // One media worker is plenty for a few browser pages on a 2-core machine.
      HUIZHEN_WORKERS: '1',
      HUIZHEN_DATA_DIR: path.join(scratch, 'data'),
      HUIZHEN_AUDIT_DIR: path.join(scratch, 'audit'),
      ...configEnv,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const tail = (n = 40) => logs.slice(-n).join('\n');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const listening = new Promise<number>((resolve, reject) => {
    const onLine = (line: string) => {
      logs.push(line);
      const entry = parseJson(line);
      if (entry && entry.msg === 'listening' && typeof entry.port === 'number') resolve(entry.port);
    };
    lines(child, 'stdout', onLine);
    lines(child, 'stderr', onLine);
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`server exited with code ${code} before listening:\n${tail()}`)));
  });

  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const actual = await Promise.race([
      listening,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`server did not log "listening" within ${timeoutMs} ms:\n${tail()}`)),
          timeoutMs,
        );
      }),
    ]);
    if (actual !== port) throw new Error(`server listens on ${actual}, expected PORT=${port}`);
  } catch (err) {
    await stopChild(child, exited);
    if (ownScratch) await rm(scratch, { recursive: true, force: true });
    throw err;
  } finally {
    clearTimeout(timer);
  }

  return {
    url: `http://localhost:${port}`,
    port,
    scratch,
    logs,
    tail,
    async stop({ graceMs = 5_000 } = {}) {
      const byItself = await stopChild(child, exited, graceMs);
      if (ownScratch) await rm(scratch, { recursive: true, force: true });
      return byItself;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      if (ownScratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}

export interface DevTokenRequest {
  identity: string;
  name: string;
  role: string;
  room: string;
  kind?: 'consult' | 'clinic' | 'rounds';
}

/** A join token from the server's dev endpoint (the single-node default issuer). */
export async function devToken(server: HuizhenServer, who: DevTokenRequest): Promise<string> {
  const response = await fetch(`${server.url}/api/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  if (response.status !== 200)
    throw new Error(`dev token for ${who.identity}: HTTP ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

/** SIGTERM for a graceful shutdown; SIGKILL if it hangs, so a broken server cannot hang the suite. */
async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs = 5_000): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  child.kill('SIGTERM');
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(killer);
  return !killed;
}

function lines(child: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let buffer = '';
  child[stream]?.setEncoding('utf8');
  child[stream]?.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
  });
  child[stream]?.on('end', () => buffer && onLine(buffer));
}

function parseJson(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
