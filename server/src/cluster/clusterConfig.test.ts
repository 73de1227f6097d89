import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { publishesLocalhost, resolveNodeId } from './clusterConfig.js';

describe('cluster config', () => {
  it('leaves cluster mode off by default and reads REDIS_URL, HUIZHEN_NODE_ID and HUIZHEN_PUBLIC_URL', () => {
    const embedded = loadConfig({ env: {} });
    expect(embedded.redis.url).toBeNull();
    expect(embedded.cluster.nodeId).toBeNull();
    expect(embedded.cluster.renewEveryMs).toBe(1000);
    const clustered = loadConfig({
      env: { REDIS_URL: 'redis://127.0.0.1:6390', HUIZHEN_NODE_ID: 'a', HUIZHEN_PUBLIC_URL: 'https://a.example.cn' },
    });
    expect(clustered.redis.url).toBe('redis://127.0.0.1:6390');
    expect(clustered.cluster.nodeId).toBe('a');
    expect(clustered.cluster.publicUrl).toBe('https://a.example.cn');
  });

  it('refuses unsafe node ids and leases shorter than two renewals', () => {
    expect(() => loadConfig({ env: { HUIZHEN_NODE_ID: 'a b' } })).toThrow(/cluster\.nodeId/);
    expect(() => loadConfig({ env: {}, overrides: { cluster: { nodeLeaseMs: 1500 } } })).toThrow(
      /cluster\.nodeLeaseMs: nodeLeaseMs must be at least twice renewEveryMs/,
    );
    expect(() => loadConfig({ env: {}, overrides: { cluster: { drainTimeoutSec: 0 } } })).toThrow(
      /cluster\.drainTimeoutSec/,
    );
  });

  it('derives a node id from the host and port when none is configured', () => {
    expect(resolveNodeId(null, 3001, 'consult-host.local')).toBe('consult-host.local-3001');
    expect(resolveNodeId(null, 3002, '-weird host!')).toBe('weird-host--3002');
    expect(resolveNodeId('b', 3002, 'x')).toBe('b');
  });
  it('knows when the node would publish a localhost URL (wildcard host, no public URL)', () => {
    expect(publishesLocalhost('0.0.0.0', null)).toBe(true);
    expect(publishesLocalhost('::', null)).toBe(true);
    expect(publishesLocalhost('0.0.0.0', 'https://a.example.cn')).toBe(false);
    expect(publishesLocalhost('10.0.0.5', null)).toBe(false);
  });
});
