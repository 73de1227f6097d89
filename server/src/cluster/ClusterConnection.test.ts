import { ErrorCode, HuizhenError } from '@huizhen/protocol';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import { ClusterConnection } from './ClusterConnection.js';
import { testConnection, testLogger, until } from './testing.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

async function failure(p: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  try {
    await p;
  } catch (error) {
    return { error, ms: Date.now() - start };
  }
  throw new Error('the command succeeded');
}

/**
 * A TCP relay to the real redis-server that can go silent on the connections it holds while
 * still relaying new ones: what a node sees of a half-open socket (a NAT or failover that
 * dropped its flow without a reset).
 */
async function silencingRelay(port: number) {
  const held: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    let silent = false;
    client.on('data', (d) => !silent && upstream.write(d));
    upstream.on('data', (d) => !silent && client.write(d));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
    held.push(client);
    (client as Socket & { silence?: () => void }).silence = () => (silent = true);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as { port: number }).port}`,
    accepted: () => held.length,
    silenceAll: () => held.forEach((c) => (c as Socket & { silence?: () => void }).silence?.()),
    close: () => {
      held.forEach((c) => c.destroy());
      server.close();
    },
  };
}

describe('ClusterConnection on a real redis-server', () => {
  it('measures the round trip and answers commands', async () => {
    const c = testConnection(redis.url);
    await until(() => c.up, 3000, 'connection up');
    expect(await c.command(['SET', 'k', 'v'])).toBe('OK');
    expect(await c.command(['GET', 'k'])).toBe('v');
    const rtt = await c.ping();
    expect(rtt).toBeGreaterThan(0);
    expect(c.stats.rttMs).toBe(rtt);
    await c.close();
    await expect(c.command(['PING'])).rejects.toMatchObject({ code: ErrorCode.CLUSTER_UNAVAILABLE });
  });

  it('starts without Redis, fails fast with CLUSTER_UNAVAILABLE, and connects when Redis appears', async () => {
    const { freePort } = await import('../testing/redisServer.js');
    const port = await freePort();
    const c = ClusterConnection.open({
      url: `redis://127.0.0.1:${port}`,
      connectTimeoutMs: 300,
      commandTimeoutMs: 300,
      reconnectMaxDelayMs: 200,
      pingEveryMs: 200,
      logger: testLogger(),
    });
    const { error, ms } = await failure(c.command(['PING']));
    expect(error).toBeInstanceOf(HuizhenError);
    expect((error as HuizhenError).code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
    expect(ms).toBeLessThan(50);
    await c.close();
  });

  it('survives Redis stopped for 10 s: typed errors at once, no crash, back up when it returns', async () => {
    const lines: string[] = [];
    const c = testConnection(redis.url, testLogger(lines));
    await until(() => c.up, 3000, 'connection up');
    const downs: string[] = [];
    let ups = 0;
    c.on('down', (reason) => downs.push(reason));
    c.on('up', () => ups++);

    await redis.stop();
    await until(() => !c.up, 2000, 'connection down');
    const outageStart = Date.now();
    // Throughout the outage every command fails at once with the typed code.
    while (Date.now() - outageStart < 10_000) {
      const { error, ms } = await failure(c.command(['GET', 'k']));
      expect((error as HuizhenError).code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
      expect(ms).toBeLessThan(350);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(downs.length).toBeGreaterThan(0);
    expect(c.stats.errors).toBeGreaterThan(0);

    await redis.start();
    const back = await until(() => c.up, 3000, 'connection back up');
    expect(back).toBeLessThan(3000);
    expect(ups).toBe(1);
    expect(await c.command(['PING'])).toBe('PONG');
    expect(lines.some((l) => l.includes('cluster redis unreachable'))).toBe(true);
    await c.close();
  }, 30_000);

  it('answers CLUSTER_UNAVAILABLE within the command timeout when Redis hangs (SIGSTOP)', async () => {
    const c = testConnection(redis.url);
    await until(() => c.up, 3000, 'connection up');
    redis.pause();
    try {
      const { error, ms } = await failure(c.command(['GET', 'k']));
      expect((error as HuizhenError).code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1000);
      // Marked down: the next commands fail at once instead of each waiting for its deadline.
      const next = await failure(c.command(['GET', 'k']));
      expect((next.error as HuizhenError).code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
      expect(next.ms).toBeLessThan(50);
      expect(c.up).toBe(false);
    } finally {
      redis.resume();
    }
    await until(async () => (await c.command(['PING']).catch(() => null)) === 'PONG', 3000, 'PONG after SIGCONT');
    await c.close();
  });
  it('closes within its command timeout while Redis hangs (SIGSTOP) instead of waiting for replies', async () => {
    const c = testConnection(redis.url);
    await until(() => c.up, 3000, 'connection up');
    redis.pause();
    try {
      const pending = c.command(['GET', 'k']).catch(() => undefined); // a reply Redis will not send
      const start = Date.now();
      await c.close();
      expect(Date.now() - start).toBeLessThan(1000);
      expect(c.up).toBe(false);
      await pending;
    } finally {
      redis.resume();
    }
  });
  it('treats a Redis that cannot serve (READONLY replica, MASTERDOWN) as an outage, not a plain error', async () => {
    const { freePort } = await import('../testing/redisServer.js');
    const c = testConnection(redis.url);
    const admin = testConnection(redis.url);
    await until(() => c.up && admin.up, 3000, 'connections up');
    const before = c.stats;
    // The server becomes a replica of a master that does not exist: writes are refused READONLY.
    await admin.command(['REPLICAOF', '127.0.0.1', String(await freePort())]);
    try {
      const { error } = await failure(c.command(['SET', 'k', 'v']));
      expect((error as HuizhenError).code).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
      expect((error as Error).message).toContain('READONLY');
      expect(c.up).toBe(false);
      expect(c.stats.outages).toBe(before.outages + 1);
      expect(c.stats.errors).toBeGreaterThan(before.errors);
      // Stale reads refused too: MASTERDOWN (PING is refused as well, so the connection stays down).
      await admin.command(['CONFIG', 'SET', 'replica-serve-stale-data', 'no']);
      await expect(c.ping()).rejects.toMatchObject({ code: ErrorCode.CLUSTER_UNAVAILABLE });
      expect(c.up).toBe(false);
    } finally {
      await admin.command(['CONFIG', 'SET', 'replica-serve-stale-data', 'yes']).catch(() => undefined);
      await admin.command(['REPLICAOF', 'NO', 'ONE']);
    }
    // A primary again: the next PING brings the connection back up.
    await until(() => c.up, 3000, 'up again');
    expect(await c.command(['SET', 'k', 'v'])).toBe('OK');
    await Promise.all([c.close(), admin.close()]);
  });
  it('replaces a connection whose PINGs go unanswered on a socket that looks open (half-open)', async () => {
    const relay = await silencingRelay(redis.port);
    const lines: string[] = [];
    const c = testConnection(relay.url, testLogger(lines));
    try {
      await until(() => c.up, 3000, 'connection up');
      relay.silenceAll(); // nothing is closed: the socket stays open, nothing comes back
      await until(() => !c.up, 2000, 'down after a missed PING deadline');
      // Two missed PINGs later it connects anew (through a fresh relayed socket) and is up again.
      await until(() => c.up, 3000, 'up on a new connection');
      expect(relay.accepted()).toBe(2);
      expect(lines.some((l) => l.includes('cluster redis connection reset'))).toBe(true);
      expect(await c.command(['SET', 'k', 'v'])).toBe('OK');
    } finally {
      await c.close();
      relay.close();
    }
  });
});
