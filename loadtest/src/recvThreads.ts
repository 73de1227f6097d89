/**
 * Receive threads for `rtp` mode: receivers' plain transports get their
 * sockets on worker threads (recvThread.ts, one thread per batch of sockets),
 * so a packet's arrival is stamped off the generator's main event loop. The
 * main thread gets, per packet, the arrival stamp and the probe's send stamp
 * (both monotonic), and stamps when it handles the record: arrival − send is
 * the server's delay, handling − arrival the generator's own queueing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { monoMs } from './clock.js';
import { LoadTestError } from './errors.js';
import type { MediaPath, PathSink } from './paths.js';
import { RECORD_FIELDS, type FromThread, type ToThread } from './recvProtocol.js';
import type { SrtpParameters } from './rtp/srtp.js';

/** A built module beside this one; from the TypeScript sources (tests) the built copy in dist/. */
export function builtModule(name: string): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL(`./${name}.js`, import.meta.url);
  const dist = new URL(`../dist/${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(dist)))
    throw new LoadTestError('INTERNAL', `loadtest/dist/${name}.js is missing: run npm run build first`);
  return dist;
}

/** One packet as the receive thread saw it. */
export interface Arrival {
  ssrc: number;
  seq: number;
  size: number;
  /** monoMs() when the receive thread read the datagram. */
  arrivedAt: number;
  /** The probe's send stamp (monoMs()), NaN when the packet had no probe. */
  sentAt: number;
  streamIndex: number;
}

/** The recv side of a plain transport whose socket lives on a receive thread. */
export class ThreadedRecvPath implements MediaPath {
  readonly transportId: string;
  readonly direction = 'recv' as const;
  readonly connected = Promise.resolve();
  /** Not called: RTP arrives as records through onArrivals; RTCP to receivers is only counted. */
  onPacket: ((packet: Buffer, rtcp: boolean, at: number) => void) | undefined;
  /** A batch of this path's packets and monoMs() when the main thread took the batch up. */
  onArrivals: ((arrivals: Arrival[], handledAt: number) => void) | undefined;
  readonly #pool: ReceiveThreads;
  readonly #worker: Worker;
  readonly id: number;
  #closed = false;

  constructor(pool: ReceiveThreads, worker: Worker, id: number, transportId: string) {
    this.#pool = pool;
    this.#worker = worker;
    this.id = id;
    this.transportId = transportId;
  }

  send(packet: Buffer): void {
    if (this.#closed) return;
    const msg: ToThread = { type: 'send', id: this.id, packet };
    this.#worker.postMessage(msg);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.forget(this.id);
    const msg: ToThread = { type: 'close', id: this.id };
    this.#worker.postMessage(msg);
  }
}

export class ReceiveThreads {
  readonly #threads: Worker[] = [];
  readonly #paths = new Map<number, ThreadedRecvPath>();
  readonly #pending = new Map<number, { resolve: (port: number) => void; reject: (err: Error) => void }>();
  readonly #sink: PathSink;
  readonly #socketsPerThread: number;
  readonly #maxThreads: number;
  #opened = 0;
  #nextId = 1;
  /** RTCP packets the server sent to receivers (counted on the threads). */
  rtcpPackets = 0;

  constructor(sink: PathSink, socketsPerThread = 32, maxThreads = 4) {
    this.#sink = sink;
    this.#socketsPerThread = socketsPerThread;
    this.#maxThreads = maxThreads;
  }

  get threads(): number {
    return this.#threads.length;
  }

  #thread(): Worker {
    const index = Math.floor(this.#opened / this.#socketsPerThread) % this.#maxThreads;
    this.#opened++;
    let worker = this.#threads[index];
    if (!worker) {
      worker = new Worker(builtModule('recvThread'));
      worker.unref();
      worker.on('message', (msg: FromThread) => this.#onMessage(msg));
      worker.on('error', (err) => this.#sink.noteError(`receive thread: ${err.message}`));
      this.#threads[index] = worker;
    }
    return worker;
  }

  #onMessage(msg: FromThread): void {
    if (msg.type === 'opened') {
      const p = this.#pending.get(msg.req);
      this.#pending.delete(msg.req);
      if (msg.localPort !== undefined) p?.resolve(msg.localPort);
      else p?.reject(new LoadTestError('INTERNAL', `receive socket: ${msg.error ?? 'failed'}`));
      return;
    }
    const handledAt = monoMs();
    this.#sink.srtpFailures += msg.srtpFailures;
    this.rtcpPackets += msg.rtcpPackets;
    const d = msg.data;
    // Group by path so each receiver handles its packets in arrival order.
    const byPath = new Map<number, Arrival[]>();
    for (let i = 0; i + RECORD_FIELDS <= d.length; i += RECORD_FIELDS) {
      const id = d[i]!;
      let list = byPath.get(id);
      if (!list) byPath.set(id, (list = []));
      list.push({
        ssrc: d[i + 1]!,
        seq: d[i + 2]!,
        size: d[i + 3]!,
        arrivedAt: d[i + 4]!,
        sentAt: d[i + 5]!,
        streamIndex: d[i + 6]!,
      });
    }
    for (const [id, list] of byPath) this.#paths.get(id)?.onArrivals?.(list, handledAt);
  }

  /** Opens a receive socket connected to the server's transport; returns the path and the local port to announce. */
  async open(
    transportId: string,
    ip: string,
    port: number,
    inbound: SrtpParameters | undefined,
    outbound: SrtpParameters | undefined,
  ): Promise<{ path: ThreadedRecvPath; localPort: number }> {
    const worker = this.#thread();
    const id = this.#nextId++;
    const req = id;
    const localPort = await new Promise<number>((resolve, reject) => {
      this.#pending.set(req, { resolve, reject });
      const msg: ToThread = {
        type: 'open',
        req,
        id,
        ip,
        port,
        ...(inbound ? { inbound } : {}),
        ...(outbound ? { outbound } : {}),
      };
      worker.postMessage(msg);
    });
    const path = new ThreadedRecvPath(this, worker, id, transportId);
    this.#paths.set(id, path);
    return { path, localPort };
  }

  forget(id: number): void {
    this.#paths.delete(id);
  }

  async close(): Promise<void> {
    this.#paths.clear();
    await Promise.all(this.#threads.map((w) => w.terminate()));
    this.#threads.length = 0;
  }
}
