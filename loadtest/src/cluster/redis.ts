/**
 * The cluster bench's own Redis: a Debian `redis-server` on a free loopback
 * port, no persistence, pinned where the Huizhen nodes run; and a minimal
 * reader of its `INFO` (command counts, CPU) over one RESP connection, so the
 * bench can say what a join and a room-minute cost Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { LoadTestError } from '../errors.js';
import { freePort } from '../inspector.js';

export interface BenchRedis {
  port: number;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts redis-server (`taskset -c cpu` when given) and waits until it answers. */
export async function startBenchRedis(cpu?: number): Promise<BenchRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--loglevel', 'warning');
  const [cmd, argv] =
    cpu === undefined ? ['redis-server', args] : ['taskset', ['-c', String(cpu), 'redis-server', ...args]];
  const child: ChildProcess = spawn(cmd, argv, { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(
        new LoadTestError('SETUP_FAILED', `cannot start redis-server (apt-get install redis-server): ${err.message}`),
      ),
    );
    child.once('exit', (code) =>
      reject(new LoadTestError('SETUP_FAILED', `redis-server exited with code ${code} before it answered`)),
    );
  });
  failed.catch(() => undefined);
  const deadline = performance.now() + 10_000;
  for (;;) {
    try {
      const info = await Promise.race([RedisInfo.connect(port), failed]);
      info.close();
      break;
    } catch (err) {
      if (err instanceof LoadTestError || performance.now() > deadline)
        throw err instanceof LoadTestError
          ? err
          : new LoadTestError('SETUP_FAILED', `redis-server did not answer on ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
  };
}

/** Commands by name (`cmdstat_<name>` calls) and CPU seconds of the server at one instant. */
export interface RedisSample {
  atMs: number;
  calls: Map<string, number>;
  cpuSec: number;
}

/** Parses `INFO commandstats` lines: cmdstat_evalsha:calls=12,usec=…; the name is lowercased Redis's way. */
export function parseCommandStats(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** used_cpu_user + used_cpu_sys of `INFO cpu` (the whole redis-server process, all threads). */
export function parseCpuSeconds(text: string): number {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text);
    if (!m) throw new LoadTestError('INTERNAL', `INFO cpu has no ${name}`);
    return Number(m[1]);
  };
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** The bench's own `INFO` calls, left out of every count: they are the probe, not Huizhen. */
export const PROBE_COMMANDS = new Set(['info']);

/** Commands between two samples, by name, without the probe's own. */
export function commandDelta(a: RedisSample, b: RedisSample): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [name, calls] of b.calls) {
    if (PROBE_COMMANDS.has(name)) continue;
    const d = calls - (a.calls.get(name) ?? 0);
    if (d <= 0) continue;
    byCommand[name] = d;
    total += d;
  }
  return { total, byCommand };
}

interface PendingReply {
  resolve: (s: string) => void;
  reject: (e: Error) => void;
}

/** One RESP connection that only asks `INFO <section>`, one request at a time. */
export class RedisInfo {
  readonly #socket: Socket;
  #buf = Buffer.alloc(0);
  #pending: PendingReply | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#drain();
    });
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('redis connection closed')));
  }

  static connect(port: number): Promise<RedisInfo> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RedisInfo(socket));
      });
      socket.once('error', reject);
    });
  }

  info(section: string): Promise<string> {
    const run = this.#queue.then(
      () =>
        new Promise<string>((resolve, reject) => {
          this.#pending = { resolve, reject };
          this.#socket.write(`*2\r\n$4\r\nINFO\r\n$${Buffer.byteLength(section)}\r\n${section}\r\n`);
        }),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async sample(): Promise<RedisSample> {
    const atMs = performance.now();
    const text = await this.info('everything');
    return { atMs, calls: parseCommandStats(text), cpuSec: parseCpuSeconds(text) };
  }

  close(): void {
    this.#socket.destroy();
  }

  #drain(): void {
    if (!this.#pending) return;
    const nl = this.#buf.indexOf('\r\n');
    if (nl < 0) return;
    const head = this.#buf.subarray(0, nl).toString();
    if (head.startsWith('-')) {
      this.#buf = this.#buf.subarray(nl + 2);
      this.#settle((p) => p.reject(new LoadTestError('INTERNAL', `redis: ${head.slice(1)}`)));
      return;
    }
    if (!head.startsWith('$')) return this.#fail(new Error(`unexpected redis reply '${head.slice(0, 40)}'`));
    const len = Number(head.slice(1));
    if (this.#buf.length < nl + 2 + len + 2) return;
    const body = this.#buf.subarray(nl + 2, nl + 2 + len).toString();
    this.#buf = this.#buf.subarray(nl + 2 + len + 2);
    this.#settle((p) => p.resolve(body));
  }

  #settle(f: (p: PendingReply) => void): void {
    const p = this.#pending;
    this.#pending = undefined;
    if (p) f(p);
  }

  #fail(err: Error): void {
    this.#settle((p) => p.reject(err));
  }
}
