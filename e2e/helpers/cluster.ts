/**
 * Cluster nodes for browser tests: real Huizhen processes in cluster mode on
 * one test's redis-server, with node links (a shared secret) and a public URL
 * on 127.0.0.1 so the nodes reach each other; pages still open the node's
 * http://localhost URL (a secure context for getUserMedia).
 */
import { randomBytes } from 'node:crypto';
import { startRedis, type TestRedis } from '../../server/src/testing/redisServer.js';
import { joinViaUi, launchChromium, openDemo, reportFailure, type Chromium, type DemoPage } from './browser.js';
import { freePort, startServer, type HuizhenServer } from './server.js';

/** A secret for one test's node links (the same for every node of the test). */
export const clusterSecret = (): string => randomBytes(32).toString('hex');

export async function startClusterNode(
  id: string,
  redisUrl: string,
  secret: string,
  config?: Record<string, unknown>,
): Promise<HuizhenServer> {
  const port = await freePort();
  return startServer({
    port,
    ...(config ? { config } : {}),
    env: {
      REDIS_URL: redisUrl,
      HUIZHEN_NODE_ID: id,
      HUIZHEN_PUBLIC_URL: `http://127.0.0.1:${port}`,
      HUIZHEN_CLUSTER_SECRET: secret,
    },
  });
}

/** A gauge's value on a node's /metrics. */
export async function gauge(node: HuizhenServer, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} is not in ${node.url}/metrics`);
  return Number(m[1]);
}

/**
 * The consult most cluster tests start from: one redis-server, nodes a and b,
 * the doctor's page on a (the room's home: the first join opens it there) and
 * the specialist's on b, both in the call.
 */
export interface TwoNodeCall {
  redis: TestRedis;
  a: HuizhenServer;
  b: HuizhenServer;
  chromium: Chromium;
  doctor: DemoPage;
  specialist: DemoPage;
  /** For a failed test: both pages and both nodes' logs. */
  report(): Promise<void>;
  close(): Promise<void>;
}

export async function startTwoNodeCall(room: string, config?: Record<string, unknown>): Promise<TwoNodeCall> {
  const redis = await startRedis();
  const secret = clusterSecret();
  const [a, b] = await Promise.all([
    startClusterNode('a', redis.url, secret, config),
    startClusterNode('b', redis.url, secret, config),
  ]);
  const chromium = await launchChromium();
  const doctor = await openDemo(chromium, a.url, 'doctor on a');
  const specialist = await openDemo(chromium, b.url, 'specialist on b');
  const call: TwoNodeCall = {
    redis,
    a,
    b,
    chromium,
    doctor,
    specialist,
    async report() {
      await reportFailure([doctor, specialist], b);
      console.log(`--- node a log ---\n${a.tail(60)}`);
    },
    async close() {
      await chromium.close();
      await Promise.all([a.stop(), b.stop()]);
      await redis.stop();
    },
  };
  try {
    await joinViaUi(doctor, { name: 'Dr Zhang Wei', role: 'doctor', room });
    await joinViaUi(specialist, { name: 'Prof Li Na', role: 'specialist', room });
  } catch (err) {
    if (err instanceof Error) err.message += `\n--- a ---\n${a.tail(30)}\n--- b ---\n${b.tail(30)}`;
    await call.close();
    throw err;
  }
  return call;
}
