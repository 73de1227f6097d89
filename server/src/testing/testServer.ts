/**
 * Starts a real Huizhen node (real mediasoup worker) on free ports for tests,
 * with an in-memory log and helpers to mint tokens.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role, RoomKind } from '@huizhen/protocol';
import jwt from 'jsonwebtoken';
import { mintAccessToken } from '../auth/tokens.js';
import { deepMerge, loadConfig, type HuizhenConfig } from '../config.js';
import { HuizhenServer, type StartOptions } from '../HuizhenServer.js';
import { SignalingTestClient } from './SignalingTestClient.js';
import { createLogger } from '../observability/logger.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** A service token (no room, no role) from the test issuer, good for a minute. */
export function serviceToken(scope: string, subject: string): string {
  return jwt.sign({ scope }, TEST_SECRET, {
    algorithm: 'HS256',
    issuer: 'huizhen-test',
    audience: 'huizhen',
    subject,
    expiresIn: 60,
  });
}

export interface TestServer {
  server: HuizhenServer;
  url: string;
  wsUrl: string;
  logs: string[];
  /** The folder holding this server's data and audit log. */
  scratch: string;
  /** A signaling client on this server; closed with the server. */
  connect(): Promise<SignalingTestClient>;
  token(
    identity: string,
    role: Role,
    room: string,
    extra?: {
      name?: string;
      ttlSec?: number;
      grants?: string[];
      loadTest?: boolean;
      kind?: RoomKind;
      capacity?: number;
    },
  ): string;
  close(): Promise<void>;
}

/** `start`: what a test hands the server beyond config (e.g. a recording capture). */
export async function startTestServer(
  overrides: unknown = {},
  start: Pick<StartOptions, 'recording'> = {},
): Promise<TestServer> {
  const scratch = mkdtempSync(join(tmpdir(), 'huizhen-test-'));
  const base = {
    server: { host: '127.0.0.1', port: 0 },
    media: { workers: 1, rtcPort: 0, logLevel: 'warn' },
    auth: {
      issuers: [
        {
          iss: 'huizhen-test',
          audience: 'huizhen',
          algorithm: 'HS256',
          secret: TEST_SECRET,
          roles: ['doctor', 'specialist', 'nurse', 'patient', 'family', 'interpreter', 'observer'],
          scopes: ['rooms:write', 'rooms:read', 'vitals:read', 'recordings:read'],
        },
      ],
    },
    devTokens: { enabled: true, issuer: 'huizhen-test', ttlSec: 600 },
    rooms: { reconnectGraceMs: 1000 },
    storage: { dir: join(scratch, 'data') },
    audit: { dir: join(scratch, 'audit'), maxFileBytes: 10 * 1024 * 1024 },
    log: { level: 'debug' },
    // --- recording: off unless a test records (with `recording: { enabled: true }` or its own capture)
    recording: { enabled: false },
  };
  const config: HuizhenConfig = loadConfig({ env: {}, overrides: deepMerge(base, overrides) });
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(line) });
  const server = await HuizhenServer.start(config, { logger, env: {}, ...start });
  const issuer = server.issuers.get('huizhen-test');
  const clients: SignalingTestClient[] = [];
  const wsUrl = server.url.replace(/^http/, 'ws') + '/ws';
  return {
    server,
    url: server.url,
    wsUrl,
    connect: async () => {
      const c = await SignalingTestClient.connect(wsUrl);
      clients.push(c);
      return c;
    },
    logs,
    scratch,
    token: (identity, role, room, extra = {}) => {
      if (!issuer) throw new Error('test issuer not configured');
      return mintAccessToken(issuer, {
        identity,
        role,
        room,
        ttlSec: extra.ttlSec ?? 600,
        ...(extra.name ? { name: extra.name } : {}),
        ...(extra.grants ? { grants: extra.grants } : {}),
        ...(extra.loadTest ? { loadTest: true } : {}),
        ...(extra.kind ? { roomKind: extra.kind } : {}),
        ...(extra.capacity ? { capacity: extra.capacity } : {}),
      });
    },
    close: async () => {
      for (const c of clients) c.close();
      await server.close();
    },
  };
}
