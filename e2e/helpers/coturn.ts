/**
 * A real coturn (Debian `coturn`, `turnserver`) on loopback for browser tests:
 * REST-secret authentication (`use-auth-secret`, as Huizhen's TURN config
 * expects), UDP and TCP on one free port, relays on 127.0.0.1. Start it once
 * per test file and stop it in afterAll.
 */
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.js';
import { waitFor } from './wait.js';

export const TURNSERVER = process.env.HUIZHEN_TURNSERVER ?? '/usr/bin/turnserver';

export interface Coturn {
  /** The secret shared with Huizhen (`static-auth-secret`). */
  readonly secret: string;
  readonly port: number;
  /** turn:127.0.0.1:<port>?transport=udp|tcp */
  url(transport: 'udp' | 'tcp'): string;
  /** Every line coturn logged so far. */
  readonly logs: readonly string[];
  /** Lines matching `pattern` (e.g. /ALLOCATE processed, success/). */
  lines(pattern: RegExp): string[];
  tail(n?: number): string;
  stop(): Promise<void>;
}

/** A REST credential as Huizhen makes it, for tests that talk to coturn directly. */
export function restCredential(secret: string, expiresAtSec: number, user: string) {
  const username = `${expiresAtSec}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

export async function startCoturn(): Promise<Coturn> {
  if (!existsSync(TURNSERVER))
    throw new Error(`${TURNSERVER} is missing: install coturn (node scripts/setup.mjs --for test)`);
  const secret = randomBytes(24).toString('base64url');
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'huizhen-e2e-coturn-'));
  // A relay port range of its own per run, so parallel runs rarely share one.
  const minPort = 50_000 + Math.floor(Math.random() * 140) * 100;
  const child = spawn(
    TURNSERVER,
    [
      '-n', // no /etc/turnserver.conf
      `--listening-port=${port}`,
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--min-port=${minPort}`,
      `--max-port=${minPort + 99}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=huizhen.test',
      '--allow-loopback-peers',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-software-attribute',
      '--log-file=stdout',
      '--verbose',
      `--pidfile=${path.join(dir, 'turnserver.pid')}`,
      `--userdb=${path.join(dir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: string[] = [];
  let buffer = '';
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      logs.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const tail = (n = 40) => logs.slice(-n).join('\n');

  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      'coturn to listen',
      async () => {
        if (gone) throw new Error(`turnserver exited:\n${tail()}`);
        return (await canConnect(port)) ? true : undefined;
      },
      { timeoutMs: 15_000, describe: async () => tail() },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    secret,
    port,
    url: (transport) => `turn:127.0.0.1:${port}?transport=${transport}`,
    logs,
    lines: (pattern) => logs.filter((l) => pattern.test(l)),
    tail,
    stop,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
