/**
 * A real Huizhen node as its own process (the built server/dist/main.js) in
 * cluster mode, on a free port, for tests that kill -9 a node. `npm run
 * build` first. Its data and audit directories are its own (a node's local
 * disk dies with it); tokens come from its dev endpoint (the default
 * issuer's secret file is shared by every process of the checkout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Role } from '@huizhen/protocol';
import { PROJECT_ROOT } from '../config.js';
import { freePort } from './redisServer.js';

const MAIN = join(PROJECT_ROOT, 'server/dist/main.js');

export interface NodeProcess {
  id: string;
  /** http://127.0.0.1:<port>, as the node publishes itself in the registry. */
  url: string;
  wsUrl: string;
  logs: string[];
  token(identity: string, role: Role, room: string): Promise<string>;
  /** SIGKILL: no release of homes, no goodbye; the leases lapse. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNodeProcess(o: {
  id: string;
  redisUrl: string;
  env?: Record<string, string>;
  /** A records folder shared with other nodes (as an operator's NFS mount); the rest of the data stays local. */
  sharedRecordsDir?: string;
}): Promise<NodeProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const scratch = mkdtempSync(join(tmpdir(), `huizhen-node-${o.id}-`));
  if (o.sharedRecordsDir) {
    mkdirSync(join(scratch, 'data'), { recursive: true });
    symlinkSync(o.sharedRecordsDir, join(scratch, 'data', 'records'));
  }
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      HUIZHEN_CONFIG: '',
      HOST: '127.0.0.1',
      PORT: String(port),
      HUIZHEN_RTC_PORT: '0',
      HUIZHEN_WORKERS: '1',
      HUIZHEN_DATA_DIR: join(scratch, 'data'),
      HUIZHEN_AUDIT_DIR: join(scratch, 'audit'),
      REDIS_URL: o.redisUrl,
      HUIZHEN_NODE_ID: o.id,
      HUIZHEN_PUBLIC_URL: url,
      HUIZHEN_LOG_LEVEL: 'debug',
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const registered = new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => {
        logs.push(line);
        if (line.includes('node registered in the cluster')) resolve();
      });
    void exited.then(() => reject(new Error(`node ${o.id} exited before registering:\n${logs.slice(-20).join('\n')}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    await registered;
  } finally {
    clearTimeout(timer);
  }
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return {
    id: o.id,
    url,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    logs,
    token: async (identity, role, room) => {
      const res = await fetch(`${url}/api/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity, name: identity, role, room }),
      });
      if (res.status !== 200) throw new Error(`dev token: HTTP ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    kill: () => signal('SIGKILL'),
    stop: async () => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await signal('SIGTERM');
      clearTimeout(killer);
    },
  };
}
