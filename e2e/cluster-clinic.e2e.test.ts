/**
 * A clinic spanning three nodes of a cluster, and a late joiner on a fourth
 * (real redis-server, four real Huizhen processes, real Chromium): the host
 * doctor on node a (the home), a specialist on b, a nurse on c. Tracks go
 * from each node straight to every other node of the room (b ↔ c do not pass
 * through a), and a specialist who joins later through d receives all three.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../server/src/testing/redisServer.js';
import { joinViaUi, launchChromium, openDemo, reportFailure, type Chromium, type DemoPage } from './helpers/browser.js';
import { seesAndHears } from './helpers/mediaFlow.js';
import { untilDecoding } from './helpers/probes.js';
import { clusterSecret, gauge, startClusterNode } from './helpers/cluster.js';
import type { HuizhenServer } from './helpers/server.js';

describe('a clinic on three nodes, and a late joiner on a fourth', () => {
  let redis: TestRedis | undefined;
  const nodes: HuizhenServer[] = [];
  let chromium: Chromium | undefined;
  const pages: DemoPage[] = [];
  const room = `e2e-cluster-clinic-${Date.now().toString(36)}`;

  beforeAll(async () => {
    redis = await startRedis();
    const secret = clusterSecret();
    nodes.push(...(await Promise.all(['a', 'b', 'c', 'd'].map((id) => startClusterNode(id, redis!.url, secret)))));
    chromium = await launchChromium();
  }, 90_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') {
      await reportFailure(pages, nodes[0]);
      for (const [i, n] of nodes.entries()) console.log(`--- node ${'abcd'[i]} log ---\n${n.tail(30)}`);
    }
  });

  afterAll(async () => {
    await chromium?.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  });

  async function join(node: number, label: string, who: { name: string; role: string }): Promise<DemoPage> {
    const page = await openDemo(chromium!, nodes[node]!.url, label);
    pages.push(page);
    await joinViaUi(page, { ...who, room, kind: 'clinic' });
    return page;
  }

  it('everyone on a, b and c receives everyone', async () => {
    const doctor = await join(0, 'doctor on a', { name: 'Dr Zhang Wei', role: 'doctor' });
    const specialist = await join(1, 'specialist on b', { name: 'Prof Chen', role: 'specialist' });
    const nurse = await join(2, 'nurse on c', { name: 'Nurse Liu', role: 'nurse' });
    for (const [viewer, other] of [
      [doctor, specialist],
      [doctor, nurse],
      [specialist, doctor],
      [specialist, nurse],
      [nurse, doctor],
      [nurse, specialist],
    ] as const)
      await untilDecoding(viewer, other, 45_000);
    // The edges send to each other directly: b has pipes to a and to c (one per direction each).
    expect(await gauge(nodes[1]!, 'huizhen_cluster_pipe_transports')).toBe(4);
    expect(await gauge(nodes[2]!, 'huizhen_cluster_pipe_transports')).toBe(4);
    expect(await gauge(nodes[0]!, 'huizhen_cluster_remote_participants')).toBe(2);
  });

  it('a specialist joining later through d sees and hears all three', async () => {
    const late = await join(3, 'late specialist on d', { name: 'Prof Wu', role: 'specialist' });
    const [doctor, specialist, nurse] = pages;
    for (const other of [doctor!, specialist!, nurse!])
      await seesAndHears(late, other, `${other.label}, late joiner on d`);
    // And they see the late joiner.
    for (const viewer of [doctor!, specialist!, nurse!]) await untilDecoding(viewer, late, 45_000);
    expect(await gauge(nodes[3]!, 'huizhen_cluster_edge_participants')).toBe(1);
    expect(await gauge(nodes[0]!, 'huizhen_cluster_remote_participants')).toBe(3);
  });
});
