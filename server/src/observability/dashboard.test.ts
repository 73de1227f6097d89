/**
 * The Grafana dashboard shipped in config/grafana stays true to /metrics: every
 * series it queries exists on a real node, and every Huizhen metric has a panel
 * (of Node.js's own process metrics, the few that matter).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config.js';
import { startRedis, type TestRedis } from '../testing/redisServer.js';
import { startTestServer, type TestServer } from '../testing/testServer.js';

interface Dashboard {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

let t: TestServer;
let redis: TestRedis;
// A node in cluster mode exports every metric (the cluster ones only exist there).
beforeAll(async () => {
  redis = await startRedis();
  t = await startTestServer({ redis: { url: redis.url }, cluster: { nodeId: 'dash' } });
}, 60_000);
afterAll(async () => {
  await t.close();
  await redis.stop();
});

describe('the Grafana dashboard', () => {
  it('queries only metrics a node exports, and shows every one of them', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'config/grafana/huizhen-node.json'), 'utf8'),
    ) as Dashboard;
    const exposition = await (await fetch(`${t.url}/metrics`)).text();
    const exported = new Set([...exposition.matchAll(/^# TYPE (huizhen_\w+) /gm)].map((m) => m[1]!));
    expect(exported.size).toBeGreaterThan(10);

    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets)
        for (const [name] of expr.matchAll(/huizhen_\w+/g)) queried.add(name.replace(/_(bucket|sum|count)$/, ''));
    }
    for (const name of queried) expect(exported, `${name} is queried but not exported`).toContain(name);
    // Node.js's own process metrics are many; the dashboard shows the few that matter (CPU, memory, lag).
    for (const name of exported)
      if (!/^huizhen_(process|nodejs)_/.test(name)) expect(queried, `${name} has no panel`).toContain(name);
  });
});
