/**
 * The node's one connection to the cluster's Redis, on the `redis` client.
 * It never crashes or blocks the process: the first connect is not awaited,
 * reconnection backs off up to `reconnectMaxDelayMs`, the offline queue is
 * off and every command has a timeout, so while Redis is away each command
 * fails at once with a typed CLUSTER_UNAVAILABLE. It measures the round trip
 * (a PING every `pingEveryMs`) and counts errors for /healthz and /metrics.
 */
import { TypedEmitter } from '@huizhen/protocol';
import { ErrorReply, createClient, type RedisClientType } from 'redis';
import type { Logger } from '../observability/logger.js';
import { clusterUnavailable } from './clusterErrors.js';
import type { LuaScript } from './scripts.js';

export interface ClusterConnectionOptions {
  url: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  reconnectMaxDelayMs: number;
  /** How often the round trip is measured (and a half-open socket noticed). */
  pingEveryMs: number;
  logger: Logger;
}

export type ClusterConnectionEvents = {
  /** Connected (first time or after an outage) and ready for commands. */
  up: () => void;
  /** Lost: commands fail with CLUSTER_UNAVAILABLE until `up`. */
  down: (reason: string) => void;
};

export interface ClusterConnectionStats {
  up: boolean;
  /** Last measured PING round trip, in ms (null before the first one). */
  rttMs: number | null;
  /** Commands that failed (timeouts, connection loss, Redis errors). */
  errors: number;
  /** Times the connection went down. */
  outages: number;
}

/** Error replies that say this Redis cannot serve the cluster now, rather than that the command was wrong. */
const UNAVAILABLE_REPLY = /^(LOADING|NOAUTH|READONLY|MASTERDOWN)\b/;

/** A connection whose PINGs miss this many deadlines in a row is replaced by a new one. */
const RESET_AFTER_MISSED_PINGS = 2;

class CommandDeadline extends Error {
  constructor() {
    super('Redis did not answer in time');
  }
}

export class ClusterConnection extends TypedEmitter<ClusterConnectionEvents> {
  #client: RedisClientType;
  readonly #options: ClusterConnectionOptions;
  readonly #pinger: NodeJS.Timeout;
  readonly #rttObservers: ((seconds: number) => void)[] = [];
  #up = false;
  /** Connected but a command missed its deadline (or Redis refused to serve): down until a PING is answered. */
  #hung = false;
  #closed = false;
  /** Consecutive PINGs that missed their deadline on a socket that looks connected. */
  #missedPings = 0;
  #rttMs: number | null = null;
  #errors = 0;
  #outages = 0;

  private constructor(options: ClusterConnectionOptions) {
    super({ onListenerError: (error, event) => options.logger.error('cluster listener failed', { event, error }) });
    this.#options = options;
    this.#client = this.#connect();
    this.#pinger = setInterval(() => void this.ping().catch(() => undefined), options.pingEveryMs);
    this.#pinger.unref();
  }

  /** A new client, connecting (not awaited); its events drive this connection's state while it is the current one. */
  #connect(): RedisClientType {
    const client = createClient({
      url: this.#options.url,
      disableOfflineQueue: true,
      commandOptions: { timeout: this.#options.commandTimeoutMs },
      pingInterval: 0,
      socket: {
        connectTimeout: this.#options.connectTimeoutMs,
        // Exponential backoff, 50 ms doubling to the cap, a little jitter so nodes do not reconnect in step.
        reconnectStrategy: (retries) =>
          Math.min(this.#options.reconnectMaxDelayMs, 50 * 2 ** Math.min(retries, 16)) + Math.floor(Math.random() * 50),
      },
    }) as RedisClientType;
    const current = () => this.#client === client;
    client.on('ready', () => {
      if (!current()) return;
      this.#hung = false;
      this.#setUp(true, 'ready');
    });
    client.on('end', () => {
      if (current()) this.#setUp(false, 'closed');
    });
    client.on('reconnecting', () => {
      if (current()) this.#setUp(false, 'reconnecting');
    });
    // Without an 'error' listener the client would throw on the process; here an error is a counted outage.
    client.on('error', (error: Error) => {
      if (!current()) return;
      this.#errors++;
      this.#setUp(false, error.message);
    });
    client.connect().catch((error: unknown) => {
      if (!current()) return;
      this.#errors++;
      this.#setUp(false, (error as Error).message);
    });
    return client;
  }

  static open(options: ClusterConnectionOptions): ClusterConnection {
    return new ClusterConnection(options);
  }

  get up(): boolean {
    return this.#up;
  }

  get stats(): ClusterConnectionStats {
    return { up: this.#up, rttMs: this.#rttMs, errors: this.#errors, outages: this.#outages };
  }

  /** Called with every measured round trip, in seconds (the metrics histogram). */
  onRoundTrip(observer: (seconds: number) => void): void {
    this.#rttObservers.push(observer);
  }

  /** One Redis command; CLUSTER_UNAVAILABLE when Redis is away or slower than commandTimeoutMs. */
  async command<T = unknown>(args: readonly string[]): Promise<T> {
    if (this.#closed) throw clusterUnavailable('this node is leaving the cluster');
    if (!this.#up) throw clusterUnavailable(this.#hung ? 'Redis is not answering' : 'Redis is not connected');
    return this.#send<T>(args);
  }

  /**
   * Sends with this node's own deadline: the client's timeout covers only a
   * command still waiting to be written, not one a hung Redis never answers.
   * A missed deadline marks the connection down until a PING is answered.
   */
  async #send<T>(args: readonly string[]): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new CommandDeadline()), this.#options.commandTimeoutMs);
    });
    try {
      return (await Promise.race([this.#client.sendCommand(args), deadline])) as T;
    } catch (error) {
      this.#errors++;
      if (error instanceof ErrorReply) {
        // A Redis that cannot serve (still loading its data, wants a password, a replica, no master): an outage.
        if (UNAVAILABLE_REPLY.test(error.message)) {
          this.#hung = true; // down until a PING is answered
          this.#setUp(false, error.message);
          throw clusterUnavailable(error.message.slice(0, 120), error);
        }
        // Any other error reply (a script bug, a wrong type) is not an outage: it is rethrown as is.
        throw error;
      }
      if (error instanceof CommandDeadline) {
        this.#hung = true;
        this.#setUp(false, `no answer within ${this.#options.commandTimeoutMs} ms`);
      }
      const message = (error as Error).message ?? String(error);
      throw clusterUnavailable(message.slice(0, 120), error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a Lua script by its SHA, loading it on first use (or after Redis forgot it). */
  async script<T = unknown>(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<T>(['EVALSHA', script.sha, ...tail]);
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      this.#errors--; // not a failure: Redis restarted and lost its script cache
      return this.command<T>(['EVAL', script.source, ...tail]);
    }
  }

  /** Measures the round trip, in ms; a hung connection that answers again is up again. */
  async ping(): Promise<number> {
    if (this.#closed || !this.#client.isReady) throw clusterUnavailable('Redis is not connected');
    const start = process.hrtime.bigint();
    try {
      await this.#send(['PING']);
    } catch (error) {
      if ((error as Error).cause instanceof CommandDeadline && ++this.#missedPings >= RESET_AFTER_MISSED_PINGS) {
        // Connected as far as the socket knows, but nothing comes back (a half-open socket after a network
        // change or a failover): only a new connection helps, and its reconnect strategy takes over from here.
        this.#missedPings = 0;
        this.#options.logger.warn('cluster redis connection reset: pings unanswered', {});
        const old = this.#client;
        this.#client = this.#connect();
        old.destroy();
      }
      throw error;
    }
    this.#missedPings = 0;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    this.#rttMs = ms;
    for (const observe of this.#rttObservers) observe(ms / 1000);
    if (this.#hung) {
      this.#hung = false;
      this.#setUp(true, 'answering again');
    }
    return ms;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pinger);
    // A graceful close waits for every pending reply: a hung Redis (SIGSTOP, a half-open socket) would
    // hold it, and the process exit with it, for ever. So it gets commandTimeoutMs, then the socket is cut.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#options.commandTimeoutMs);
    });
    const closing = this.#client.isReady
      ? this.#client.close().then(
          () => 'closed' as const,
          () => 'failed' as const,
        )
      : Promise.resolve('failed' as const);
    const outcome = await Promise.race([closing, late]);
    clearTimeout(timer);
    if (outcome !== 'closed') {
      try {
        this.#client.destroy();
      } catch {
        // already closed
      }
    }
    this.#setUp(false, 'closed');
  }

  #setUp(up: boolean, reason: string): void {
    if (this.#closed && up) return;
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      this.#options.logger.info('cluster redis connected', {});
      this.emit('up');
    } else {
      if (this.#closed) return; // leaving on purpose: not an outage
      this.#outages++;
      this.#options.logger.warn('cluster redis unreachable', { reason: reason.slice(0, 200) });
      this.emit('down', reason);
    }
  }
}
