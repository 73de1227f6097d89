/**
 * The mediasoup workers of this process, one WebRtcServer each so a hospital
 * firewall needs only one UDP and one TCP port per worker. Routers are placed
 * on the worker with the fewest routers; a worker that dies is reported so
 * its rooms can be closed cleanly.
 */
import { cpus } from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { ErrorCode, TypedEmitter } from '@huizhen/protocol';
import { HuizhenError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { MEDIA_CODECS } from './codecs.js';

export interface WorkerPoolOptions {
  /** 0 = one per CPU core. */
  workers: number;
  logLevel: types.WorkerLogLevel;
  listenIp: string;
  announcedAddress: string | null;
  /** First port; worker i uses port + i. 0 = any free port. */
  port: number;
  /** Which sockets each WebRtcServer opens: UDP and TCP by default, or TCP only. */
  protocols?: readonly ('udp' | 'tcp')[];
  logger: Logger;
}

export interface MediaWorker {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Where this worker's sockets listen, and the address clients are told. */
  listenIp: string;
  announcedAddress: string | null;
  routers: number;
  /** CPU seconds (user + system) at the last sample. */
  cpuSeconds: number;
}

export interface WorkerPoolEvents {
  workerDied: (index: number, error: Error) => void;
}

export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #workers: MediaWorker[] = [];
  readonly #logger: Logger;
  #closed = false;

  private constructor(logger: Logger) {
    // A listener's bug is logged, never thrown into the worker's death handling.
    super({
      onListenerError: (error, event) => logger.error('workerPool listener failed', { event, error: error as Error }),
    });
    this.#logger = logger;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options.logger);
    const count = options.workers > 0 ? options.workers : Math.max(1, cpus().length);
    try {
      for (let index = 0; index < count; index++) pool.#workers.push(await pool.#startWorker(index, options));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  async #startWorker(index: number, options: WorkerPoolOptions): Promise<MediaWorker> {
    const worker = await mediasoup.createWorker({ logLevel: options.logLevel, appData: { index } });
    const listen = (protocol: 'udp' | 'tcp'): types.TransportListenInfo => ({
      protocol,
      ip: options.listenIp,
      ...(options.announcedAddress ? { announcedAddress: options.announcedAddress } : {}),
      ...(options.port > 0 ? { port: options.port + index } : {}),
    });
    let webRtcServer: types.WebRtcServer;
    try {
      const protocols = (['udp', 'tcp'] as const).filter((p) => options.protocols?.includes(p) ?? true);
      webRtcServer = await worker.createWebRtcServer({ listenInfos: protocols.map(listen) });
    } catch (err) {
      worker.close();
      throw new Error(
        `media worker ${index} cannot listen on ${options.listenIp}:${options.port > 0 ? options.port + index : 'any'}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const entry: MediaWorker = {
      index,
      worker,
      webRtcServer,
      listenIp: options.listenIp,
      announcedAddress: options.announcedAddress,
      routers: 0,
      cpuSeconds: 0,
    };
    worker.on('died', (error) => {
      this.#logger.error('media worker died', { worker: index, pid: worker.pid, error });
      const at = this.#workers.indexOf(entry);
      if (at >= 0) this.#workers.splice(at, 1);
      this.emit('workerDied', index, error);
    });
    this.#logger.info('media worker started', { worker: index, pid: worker.pid });
    return entry;
  }

  get workers(): readonly MediaWorker[] {
    return this.#workers;
  }

  /** Creates a router on the least-loaded live worker. */
  async createRouter(appData: Record<string, unknown>): Promise<{ router: types.Router; worker: MediaWorker }> {
    const worker = [...this.#workers].sort((a, b) => a.routers - b.routers)[0];
    if (!worker || this.#closed)
      throw new HuizhenError(
        ErrorCode.MEDIA_ERROR,
        'No media server is available right now; please try again shortly.',
      );
    const router = await worker.worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData });
    worker.routers++;
    router.observer.once('close', () => {
      worker.routers--;
    });
    return { router, worker };
  }

  /** Refreshes each worker's CPU time from the worker process's own accounting. */
  async sampleCpu(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (w) => {
        try {
          const usage = await w.worker.getResourceUsage();
          w.cpuSeconds = (usage.ru_utime + usage.ru_stime) / 1000;
        } catch {
          // A worker that is closing cannot answer; the next sample will.
        }
      }),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.worker.close();
    this.#workers.length = 0;
  }
}
