#!/usr/bin/env node
/**
 * Operator CLI.
 *   huizhen token --identity <id> --room <room> --role <role> [--name <name>] [--ttl <sec>] [--issuer <iss>] [--grants a,b] [--kind k] [--loadtest true]
 *   huizhen config check
 *   huizhen audit verify <file-or-folder>
 *   huizhen cluster status [--json true]
 *   huizhen node drain <node id>
 * Uses the same config (default + HUIZHEN_CONFIG + env) as the server.
 */
import { ROLES, ROOM_KINDS, type Role, type RoomKind } from '@huizhen/protocol';
import { existsSync } from 'node:fs';
import { verifyAudit } from '../audit/verifyAudit.js';
import { loadIssuers } from '../auth/issuers.js';
import { isPermission } from '../auth/permissions.js';
import { mintAccessToken } from '../auth/tokens.js';
import { ConfigError, loadConfig } from '../config.js';
import { HuizhenError } from '../errors.js';
// --- cluster
import { ClusterConnection } from '../cluster/ClusterConnection.js';
import { formatClusterStatus, readClusterStatus } from '../cluster/clusterStatus.js';
import { ClusterKeys } from '../cluster/keys.js';
import { requestDrain } from '../cluster/drainRequest.js';
import { createLogger } from '../observability/logger.js';

const USAGE = `usage:
  huizhen token --identity <id> --room <room> --role <${ROLES.join('|')}> [--name <name>] [--ttl <seconds>] [--issuer <iss>] [--grants <p1,p2>] [--kind <${ROOM_KINDS.join('|')}>] [--loadtest true]
  huizhen config check
  huizhen audit verify <audit file or folder>
  huizhen cluster status [--json true]
  huizhen node drain <node id>`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    // --- cluster
    if (command === 'cluster' && rest[0] === 'status') return await clusterStatus(parseFlags(rest.slice(1)));
    if (command === 'node' && rest[0] === 'drain') {
      const id = rest[1];
      if (!id || rest.length > 2) throw new UsageError(`node drain needs one node id\n${USAGE}`);
      return await nodeDrain(id);
    }
    if (command === 'token') return token(parseFlags(rest));
    if (command === 'audit' && rest[0] === 'verify') {
      const target = rest[1];
      if (!target) throw new UsageError(`audit verify needs a file or folder\n${USAGE}`);
      if (!existsSync(target)) throw new UsageError(`no audit file or folder at '${target}'`);
      const result = verifyAudit(target);
      if (result.ok) {
        process.stdout.write(
          `audit ok: ${result.entries} entries in ${result.files} file(s), last hash ${result.lastHash}\n`,
        );
        return 0;
      }
      process.stdout.write(
        `audit BROKEN at ${result.file} line ${result.line}: ${result.problem} (${result.entries} entries verified before it)\n`,
      );
      return 3;
    }
    if (command === 'config' && rest[0] === 'check') {
      const config = loadConfig();
      loadIssuers(config.auth.issuers);
      process.stdout.write(
        `config ok: ${config.auth.issuers.length} issuer(s), dev tokens ${config.devTokens.enabled ? 'on' : 'off'}\n`,
      );
      return 0;
    }
    process.stderr.write(`${USAGE}\n`);
    return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof HuizhenError || err instanceof UsageError) {
      process.stderr.write(`huizhen: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  }
}

class UsageError extends Error {}

function parseFlags(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i];
    const value = args[i + 1];
    if (!key?.startsWith('--') || value === undefined) throw new UsageError(`expected --flag value pairs\n${USAGE}`);
    flags.set(key.slice(2), value);
  }
  return flags;
}

function token(flags: Map<string, string>): number {
  const identity = flags.get('identity');
  const room = flags.get('room');
  const role = flags.get('role');
  if (!identity || !room || !role) throw new UsageError(`--identity, --room and --role are required\n${USAGE}`);
  if (!(ROLES as readonly string[]).includes(role))
    throw new UsageError(`unknown role '${role}' (one of ${ROLES.join(', ')})`);
  const ttl = Number(flags.get('ttl') ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 60) throw new UsageError('--ttl must be a whole number of seconds, at least 60');
  const grants = flags.get('grants')?.split(',').filter(Boolean);
  if (grants && !grants.every(isPermission)) throw new UsageError(`--grants has an unknown permission`);
  const kind = flags.get('kind');
  if (kind !== undefined && !(ROOM_KINDS as readonly string[]).includes(kind))
    throw new UsageError(`unknown --kind '${kind}' (one of ${ROOM_KINDS.join(', ')})`);
  // A load-generator credential, for huizhen-loadtest --token-command.
  const loadTest = flags.get('loadtest');
  if (loadTest !== undefined && loadTest !== 'true') throw new UsageError('--loadtest takes the value true');

  const config = loadConfig();
  if (ttl > config.auth.maxTokenLifetimeSec)
    throw new UsageError(`--ttl exceeds auth.maxTokenLifetimeSec (${config.auth.maxTokenLifetimeSec})`);
  const issuers = loadIssuers(config.auth.issuers);
  const iss =
    flags.get('issuer') ??
    config.devTokens.issuer ??
    config.auth.issuers.find((i) => i.algorithm.startsWith('HS'))?.iss;
  const issuer = iss ? issuers.get(iss) : undefined;
  if (!issuer) throw new UsageError(`no issuer '${iss ?? ''}' in the config`);
  if (!issuer.secret)
    throw new UsageError(
      `issuer '${issuer.config.iss}' uses ${issuer.config.algorithm}; this CLI signs only with HMAC issuers whose secret it holds`,
    );
  const name = flags.get('name');
  process.stdout.write(
    mintAccessToken(issuer, {
      identity,
      room,
      role: role as Role,
      ttlSec: ttl,
      ...(name ? { name } : {}),
      ...(grants ? { grants } : {}),
      ...(kind ? { roomKind: kind as RoomKind } : {}),
      ...(loadTest ? { loadTest: true } : {}),
    }) + '\n',
  );
  return 0;
}

// --- cluster
/** Asks a live node to drain (exit 1 when it is not a live node of the cluster). */
async function nodeDrain(id: string): Promise<number> {
  return withCluster(async (connection, keys) => {
    const outcome = await requestDrain(connection, keys, id);
    process.stdout.write(`node ${id}: ${outcome === 'requested' ? 'drain requested' : outcome}\n`);
    return outcome === 'no such node' ? 1 : 0;
  });
}

/** Lists the cluster's nodes, their load and the rooms each homes (exit 1 when Redis cannot be reached). */
async function clusterStatus(flags: Map<string, string>): Promise<number> {
  const json = flags.get('json');
  if (json !== undefined && json !== 'true') throw new UsageError('--json takes the value true');
  return withCluster(async (connection, keys) => {
    const status = await readClusterStatus(connection, keys);
    process.stdout.write(json ? JSON.stringify(status, null, 2) + '\n' : formatClusterStatus(status));
    return 0;
  });
}

/** Runs `fn` on a connection to the cluster's Redis (exit 1 when it cannot be reached). */
async function withCluster(fn: (connection: ClusterConnection, keys: ClusterKeys) => Promise<number>): Promise<number> {
  const config = loadConfig();
  if (!config.redis.url) throw new UsageError("cluster mode is off: set REDIS_URL (redis.url) to the cluster's Redis");
  // The CLI's own lines (connection warnings) stay out of the operator's output.
  const connection = ClusterConnection.open({
    url: config.redis.url,
    connectTimeoutMs: config.cluster.connectTimeoutMs,
    commandTimeoutMs: config.cluster.commandTimeoutMs,
    reconnectMaxDelayMs: config.cluster.reconnectMaxDelayMs,
    pingEveryMs: 60_000,
    logger: createLogger({ level: 'error', write: () => undefined }),
  });
  try {
    await new Promise<void>((resolve) => {
      if (connection.up) return resolve();
      const timer = setTimeout(resolve, config.cluster.connectTimeoutMs);
      connection.once('up', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return await fn(connection, new ClusterKeys(config.cluster.keyPrefix));
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`huizhen: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
