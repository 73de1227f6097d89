/**
 * A generator shard in a child process (child_process.fork of shardChild.ts),
 * pinned to its own core with taskset like the rest of the bench. Requests
 * and answers are checked with the shard protocol's schemas; a child that
 * exits, stops answering or answers outside the protocol fails the run with a
 * ShardError (code SHARD_FAILED) at once instead of leaving it waiting.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectorSpec } from './connectorSpec.js';
import { ShardError, errorFromWire } from './errors.js';
import { pinProcess } from './probes.js';
import { builtModule } from './recvThreads.js';
import type {
  GeneratorShard,
  RoomAssignment,
  ShardConfig,
  ShardJoinResult,
  ShardSummary,
  ShardWindow,
} from './shard.js';
import { ANSWER_TO, FromShardSchema, type FromShard, type ToShard } from './shardProtocol.js';

export interface ChildShardOptions {
  index: number;
  config: ShardConfig;
  connector: ConnectorSpec;
  /** Pin the child (all its threads) to this CPU. */
  cpu?: number;
  /** The child's entry module (default: the built shardChild.js). */
  entry?: URL;
}

/** How long each request may take before the child counts as hung. */
const TIMEOUT_MS = { init: 30_000, join: 180_000, begin: 15_000, end: 15_000, close: 20_000 } as const;

type Answer<T extends ToShard['type']> = Extract<FromShard, { type: (typeof ANSWER_TO)[T] }>;

interface Pending {
  expect: FromShard['type'];
  request: ToShard['type'];
  resolve: (m: FromShard) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class ChildShard implements GeneratorShard {
  readonly index: number;
  readonly pid: number;
  readonly failure: Promise<never>;
  /** Whether taskset pinned the child where it was asked to. */
  readonly pinned: boolean;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #rejectFailure!: (err: ShardError) => void;
  #error: ShardError | undefined;
  #nextId = 1;
  #closing = false;
  #exited = false;
  #summary: Promise<ShardSummary> | undefined;

  private constructor(o: ChildShardOptions) {
    this.index = o.index;
    this.failure = new Promise<never>((_, reject) => (this.#rejectFailure = reject));
    // Nobody may have to await it: a failure also rejects whatever request is in flight.
    this.failure.catch(() => undefined);
    this.#child = fork(fileURLToPath(o.entry ?? builtModule('shardChild')), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.pid = this.#child.pid ?? -1;
    this.pinned = o.cpu !== undefined && this.pid > 0 && pinProcess(this.pid, o.cpu);
    this.#child.on('message', (m: unknown) => this.#onMessage(m));
    this.#child.on('error', (err) => this.#fail(`could not run: ${err.message}`));
    this.#child.on('exit', (code, signal) => {
      this.#exited = true;
      if (this.#closing && this.#pending.size === 0) return;
      this.#fail(`exited ${signal ? `on ${signal}` : `with code ${code}`} in the middle of the run`);
    });
  }

  /** Forks the child and hands it its config and connector; resolves once it is ready. */
  static async start(o: ChildShardOptions): Promise<ChildShard> {
    const shard = new ChildShard(o);
    try {
      await shard.#request({ type: 'init', id: 0, index: o.index, config: o.config, connector: o.connector });
    } catch (err) {
      shard.#kill();
      throw err;
    }
    return shard;
  }

  async join(rooms: readonly RoomAssignment[]): Promise<ShardJoinResult> {
    const r = await this.#request({ type: 'join', id: 0, rooms: [...rooms] });
    return { joined: r.joined, failures: r.failures };
  }

  async beginWindow(): Promise<void> {
    await this.#request({ type: 'begin', id: 0 });
  }

  async endWindow(): Promise<ShardWindow> {
    return (await this.#request({ type: 'end', id: 0 })).window;
  }

  close(): Promise<ShardSummary> {
    this.#summary ??= this.#close();
    return this.#summary;
  }

  async #close(): Promise<ShardSummary> {
    const empty: ShardSummary = { joins: [], joinFailures: 0, errors: [] };
    if (this.#error || this.#exited) {
      this.#kill();
      return empty;
    }
    this.#closing = true;
    try {
      const { summary } = await this.#request({ type: 'close', id: 0 });
      await this.#exit(5000);
      return summary;
    } finally {
      this.#kill();
    }
  }

  #exit(ms: number): Promise<void> {
    if (this.#exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #request<T extends ToShard['type']>(msg: Extract<ToShard, { type: T }>): Promise<Answer<T>> {
    if (this.#error) return Promise.reject(this.#error);
    const id = this.#nextId++;
    const type = msg.type as T;
    return new Promise<Answer<T>>((resolve, reject) => {
      const timeout = TIMEOUT_MS[type];
      const timer = setTimeout(() => this.#fail(`did not answer '${type}' within ${timeout / 1000} s`), timeout);
      this.#pending.set(id, {
        expect: ANSWER_TO[type],
        request: type,
        resolve: (m) => resolve(m as Answer<T>),
        reject,
        timer,
      });
      this.#child.send({ ...msg, id }, (err) => {
        if (err) this.#fail(`the IPC channel failed: ${err.message}`);
      });
    });
  }

  #onMessage(raw: unknown): void {
    const parsed = FromShardSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid';
      this.#fail(`answered a message outside the shard protocol (${where})`);
      return;
    }
    const m = parsed.data;
    const p = this.#pending.get(m.id);
    if (!p) {
      this.#fail(
        `answered '${m.type}' to request ${m.id}, which is not in flight${m.type === 'error' ? ` (${m.message})` : ''}`,
      );
      return;
    }
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.type === 'error') p.reject(errorFromWire(m.code, m.message));
    else if (m.type !== p.expect) {
      p.reject(new ShardError(this.index, this.pid, `answered '${m.type}' to '${p.request}'`));
      this.#fail(`answered '${m.type}' to '${p.request}'`);
    } else p.resolve(m);
  }

  /** From now on every request fails with this error, and the child is stopped. */
  #fail(reason: string): void {
    if (this.#error) return;
    this.#error = new ShardError(this.index, this.pid, reason);
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(this.#error);
    }
    this.#pending.clear();
    this.#rejectFailure(this.#error);
    this.#kill();
  }

  #kill(): void {
    if (!this.#exited && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}
