import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RedisInfo,
  commandDelta,
  parseCommandStats,
  parseCpuSeconds,
  startBenchRedis,
  type BenchRedis,
} from './redis.js';
import { parseBenchmarkCsv } from './redisBenchmark.js';

describe('INFO parsing', () => {
  it('reads command counts and CPU seconds', () => {
    const stats = parseCommandStats(
      '# Commandstats\r\ncmdstat_evalsha:calls=12,usec=340,usec_per_call=28.33,rejected_calls=0,failed_calls=0\r\n' +
        'cmdstat_client|setname:calls=2,usec=3,usec_per_call=1.5,rejected_calls=0,failed_calls=0\r\n',
    );
    expect([...stats]).toEqual([
      ['evalsha', 12],
      ['client|setname', 2],
    ]);
    expect(parseCpuSeconds('used_cpu_sys:0.25\r\nused_cpu_user:1.5\r\nused_cpu_sys_children:9\r\n')).toBeCloseTo(1.75);
    expect(() => parseCpuSeconds('used_cpu_sys:0.25')).toThrow(/used_cpu_user/);
  });

  it('counts what changed between samples, without the probe’s own INFO', () => {
    const a = {
      atMs: 0,
      cpuSec: 0,
      calls: new Map([
        ['get', 3],
        ['info', 1],
      ]),
    };
    const b = {
      atMs: 1000,
      cpuSec: 0.1,
      calls: new Map([
        ['get', 5],
        ['info', 9],
        ['set', 4],
      ]),
    };
    expect(commandDelta(a, b)).toEqual({ total: 6, byCommand: { get: 2, set: 4 } });
  });

  it('reads redis-benchmark --csv', () => {
    const csv =
      '"test","rps","avg_latency_ms"\n"SET","112994.35","0.115"\n' +
      '"EVAL redis.call(\'SET\',KEYS[1],ARGV[1]) 1 k","73529.41","0.232"\n';
    expect(parseBenchmarkCsv(csv)).toEqual({ SET: 112994.35, "EVAL redis.call('SET',KEYS[1],ARGV[1]) 1 k": 73529.41 });
  });
});

describe('the bench’s redis-server', () => {
  let redis: BenchRedis;
  beforeAll(async () => {
    redis = await startBenchRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('answers INFO over its RESP connection, and its counts grow with the commands run', async () => {
    const info = await RedisInfo.connect(redis.port);
    try {
      const a = await info.sample();
      const b = await info.sample();
      // Only the probe ran: two INFO calls, none of them counted.
      expect(b.calls.get('info')! - (a.calls.get('info') ?? 0)).toBe(1);
      expect(commandDelta(a, b).total).toBe(0);
      expect(b.cpuSec).toBeGreaterThanOrEqual(a.cpuSec);
      await expect(info.info('no-such-section')).resolves.toBe('');
    } finally {
      info.close();
    }
  });
});
