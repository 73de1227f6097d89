/**
 * A minimal Chrome DevTools Protocol client for a Huizhen server process the
 * load tester started itself with `--inspect=127.0.0.1:PORT`: full garbage
 * collection before a memory sample, `process.memoryUsage()` read inside the
 * server, and heap snapshots. Nothing is added to the server for this; the
 * inspector listens on loopback only and only on servers the tool spawns.
 */
import { createServer } from 'node:net';
import WebSocket from 'ws';
import { LoadTestError } from './errors.js';

/** A free TCP port on loopback (bound and released; the inspector takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ProcessMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class InspectorClient {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #events = new Map<string, (params: unknown) => void>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: unknown;
      };
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new LoadTestError('INTERNAL', `inspector: ${msg.error.message}`));
        else p?.resolve(msg.result);
      } else if (msg.method) this.#events.get(msg.method)?.(msg.params);
    });
    ws.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new LoadTestError('INTERNAL', 'inspector connection closed'));
      this.#pending.clear();
    });
  }

  /** Connects to the first target of the inspector at 127.0.0.1:port, retrying while the process starts. */
  static async connect(port: number, timeoutMs = 30_000): Promise<InspectorClient> {
    const until = performance.now() + timeoutMs;
    let last = '';
    while (performance.now() < until) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2000) });
        const targets = (await res.json()) as { webSocketDebuggerUrl?: string }[];
        const url = targets[0]?.webSocketDebuggerUrl;
        if (url) {
          const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 });
          await new Promise<void>((resolve, reject) => {
            ws.once('open', () => resolve());
            ws.once('error', reject);
          });
          return new InspectorClient(ws);
        }
        last = 'no inspector target yet';
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new LoadTestError('SETUP_FAILED', `cannot reach the server's inspector on 127.0.0.1:${port}: ${last}`);
  }

  send<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Full GCs (twice: the first can leave work for finalizers and weak callbacks), then the process's own figures. */
  async memoryAfterGc(): Promise<ProcessMemory> {
    await this.send('HeapProfiler.collectGarbage');
    await this.send('HeapProfiler.collectGarbage');
    const r = await this.send<{ result: { value?: string }; exceptionDetails?: unknown }>('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    if (r.exceptionDetails || typeof r.result.value !== 'string')
      throw new LoadTestError('INTERNAL', 'inspector: process.memoryUsage() failed in the server');
    return JSON.parse(r.result.value) as ProcessMemory;
  }

  /** A heap snapshot of the server, as the JSON text DevTools would save. */
  async heapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.#events.set('HeapProfiler.addHeapSnapshotChunk', (p) => chunks.push((p as { chunk: string }).chunk));
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false, captureNumericValue: false });
    } finally {
      this.#events.delete('HeapProfiler.addHeapSnapshotChunk');
    }
    return chunks.join('');
  }

  close(): void {
    this.#ws.close();
  }
}
