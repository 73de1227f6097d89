/**
 * redis-server's own single-core throughput on this machine, measured with
 * Debian's redis-benchmark against the bench's Redis (the client pinned to
 * the generator's core, the server where it ran during the bench): plain
 * SET/GET, and a small EVAL of the shape of a lease renewal (SET + PEXPIRE
 * on one key), since Huizhen's cluster calls are mostly short scripts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RedisBenchmarkResult {
  /** Requests per second by test name (SET, GET, EVAL lease). */
  rps: Record<string, number>;
  clients: number;
  requests: number;
  command: string;
}

/** Parses `redis-benchmark --csv` output: "test","rps",… lines (the header line is skipped). */
export function parseBenchmarkCsv(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split(/\r?\n/)) {
    const cells = line.split('","').map((c) => c.replace(/^"|"$/g, ''));
    const rps = Number(cells[1]);
    if (cells.length >= 2 && cells[0] && cells[0] !== 'test' && Number.isFinite(rps)) out[cells[0]] = rps;
  }
  return out;
}

export async function redisBenchmark(
  port: number,
  clientCpu: number | undefined,
): Promise<RedisBenchmarkResult | { skipped: string }> {
  const clients = 20;
  const requests = 100_000;
  const base = ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(requests), '--csv'];
  const lease = [
    'EVAL',
    "redis.call('SET',KEYS[1],ARGV[1]) return redis.call('PEXPIRE',KEYS[1],2500)",
    '1',
    'lease:__rand_int__',
    'a|1',
  ];
  const exec = async (args: string[]) => {
    const [cmd, argv] =
      clientCpu === undefined
        ? ['redis-benchmark', args]
        : ['taskset', ['-c', String(clientCpu), 'redis-benchmark', ...args]];
    const { stdout } = await run(cmd, argv, { timeout: 60_000 });
    return parseBenchmarkCsv(stdout);
  };
  try {
    const plain = await exec([...base, '-t', 'set,get']);
    // -r: __rand_int__ in the key becomes one of 100 000 keys, as many rooms' leases would be.
    const script = await exec([...base, '-r', '100000', ...lease]);
    const leaseRps = Object.values(script)[0];
    return {
      rps: { ...plain, ...(leaseRps !== undefined ? { 'EVAL lease (SET+PEXPIRE)': leaseRps } : {}) },
      clients,
      requests,
      command: `redis-benchmark ${[...base, '-t', 'set,get'].join(' ')} (and the EVAL)`,
    };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      skipped:
        e.code === 'ENOENT'
          ? 'redis-benchmark is not installed (Debian redis-tools): not measured'
          : `redis-benchmark failed: ${e.message.slice(0, 200)}`,
    };
  }
}
